"""The recorder: arb:executions, arb:opportunities and arb:exposure:{exec} into the trade history
database (SQLite by default, PostgreSQL by URL), idempotently, acknowledging an entry only
after its rows are committed."""
