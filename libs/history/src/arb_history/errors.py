"""Errors of the trade history database.

HistoryError (ArbError)
├── DatabaseConfigError (ConfigError)       a database URL this code cannot use
├── DatabaseUnavailable (ConnectionError)   the database cannot be reached or is busy: retry
└── MigrationError                          the schema cannot be brought to this version
"""

from __future__ import annotations

from arb_runtime.errors import ArbError, ConfigError


class HistoryError(ArbError):
    """Root of the trade history database's errors."""


class DatabaseConfigError(HistoryError, ConfigError):
    """The database URL is malformed or names an unknown kind of database."""


class DatabaseUnavailable(HistoryError, ConnectionError):
    """The database did not answer, refused the connection, or is locked: the write can be
    retried as it is, and nothing was committed."""


class MigrationError(HistoryError):
    """The schema on disk is newer than this code, or a migration failed."""
