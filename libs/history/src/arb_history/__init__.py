"""The trade history database: every opportunity, result, order, fee and exposure change.

SQLite by default (a file in the data folder), PostgreSQL by URL. The recorder service
writes it (``writer``), ``arb trades`` / ``arb pnl`` and the dashboard read it (``queries``,
``pnl``); the schema is versioned SQL applied in order (``migrations``).
"""

from arb_history.config import database_url_from_env, resolve_database_url
from arb_history.database import Database, open_database
from arb_history.errors import (
    DatabaseConfigError,
    DatabaseUnavailable,
    HistoryError,
    MigrationError,
)
from arb_history.migrations import migrate
from arb_history.queries import TradeFilter, fetch_trades, parse_time
from arb_history.writer import HistoryWriter

__all__ = [
    "Database",
    "DatabaseConfigError",
    "DatabaseUnavailable",
    "HistoryError",
    "HistoryWriter",
    "MigrationError",
    "TradeFilter",
    "database_url_from_env",
    "fetch_trades",
    "migrate",
    "open_database",
    "parse_time",
    "resolve_database_url",
]
