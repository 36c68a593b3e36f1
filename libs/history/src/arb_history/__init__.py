"""The trade history database: every opportunity, result, order, fee and exposure change.

SQLite by default (a file in the data folder), PostgreSQL by URL. The recorder service
writes it (``writer``), ``arb trades`` / ``arb pnl`` and the dashboard read it (``queries``,
``pnl``); the schema is versioned SQL applied in order (``migrations``); ``config`` says
where it is. Import the module you need: this package imports nothing up front, so the
``arb`` command starts fast.
"""
