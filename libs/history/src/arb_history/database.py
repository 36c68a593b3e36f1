"""One small async interface over SQLite and PostgreSQL.

SQL is written once, with ``:name`` parameters and the type placeholders ``{decimal}``,
``{json}``, ``{bigint}`` and ``{real}``; each dialect fills them in (exact decimals are TEXT
in SQLite, whose NUMERIC affinity would turn them into floats, and NUMERIC in PostgreSQL;
JSON is TEXT in SQLite and JSONB in PostgreSQL, so ``message->>'field'`` works there).

- SQLite: the standard ``sqlite3`` module on a thread of its own (one connection, WAL
  journal, ``synchronous=FULL`` so a commit survives a power cut, a busy timeout).
- PostgreSQL: psycopg 3's ``AsyncConnection`` in autocommit mode with explicit
  ``BEGIN``/``COMMIT``, reconnecting after the connection was lost.

Every use goes through one lock: the recorder's consumers share one connection, and a
transaction must not interleave with another. A failure that a retry can fix (the server is
down, the file is locked, the disk is full) raises ``DatabaseUnavailable`` with nothing
committed; anything else (a constraint, a bug in SQL) raises as it is.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from arb_history.errors import DatabaseConfigError, DatabaseUnavailable

Row = dict[str, Any]
Params = Mapping[str, Any]

# ``:name`` not preceded by a colon or a word character (so ``::jsonb`` and ``'12:30'`` stay).
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Dialect:
    name: str
    types: Mapping[str, str]

    def render(self, sql: str) -> str:
        """Fill in the type placeholders and convert ``:name`` to the driver's style."""
        text = sql.format_map(self.types)
        if self.name == "postgresql":
            text = _PARAM.sub(r"%(\1)s", text.replace("%", "%%"))
        return text


SQLITE = Dialect("sqlite", {"decimal": "TEXT", "json": "TEXT", "bigint": "INTEGER", "real": "REAL"})
POSTGRESQL = Dialect(
    "postgresql",
    {"decimal": "NUMERIC", "json": "JSONB", "bigint": "BIGINT", "real": "DOUBLE PRECISION"},
)

# SQLite primary result codes a retry can fix: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN,
# PROTOCOL (https://www.sqlite.org/rescode.html).
_SQLITE_RETRYABLE = {5, 6, 8, 10, 13, 14, 15}
# PostgreSQL: a schema lock key for migrations (pg_advisory_xact_lock), any constant.
_SCHEMA_LOCK_KEY = 0x61726201


def shown_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Database(abc.ABC):
    """Open with ``await db.connect()``; use ``transaction()`` for writes, ``fetch`` for
    reads; ``await db.close()`` at the end."""

    dialect: Dialect

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = shown_url(url)
        self._lock = asyncio.Lock()
        self._connected = False

    async def connect(self) -> None:
        async with self._lock:
            await self._ensure_open()

    async def close(self) -> None:
        async with self._lock:
            await self._close()
            self._connected = False

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        async with self._lock:
            await self._ensure_open()
            return await self._guarded(sql, params or {})

    @contextlib.asynccontextmanager
    async def transaction(self, *, lock_schema: bool = False) -> AsyncIterator[Transaction]:
        """One transaction: committed when the block ends, rolled back when it raises.
        ``lock_schema``: also hold the schema lock (migrations), whatever else runs."""
        async with self._lock:
            await self._ensure_open()
            await self._guarded(self._begin_sql(lock_schema), {})
            if lock_schema and self.dialect is POSTGRESQL:
                await self._guarded("SELECT pg_advisory_xact_lock(:key)", {"key": _SCHEMA_LOCK_KEY})
            try:
                yield Transaction(self)
                await self._guarded("COMMIT", {})
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._execute("ROLLBACK", {})
                raise

    async def _ensure_open(self) -> None:
        if self._connected:
            return
        try:
            await self._open()
        except Exception as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from None
        self._connected = True

    async def _guarded(self, sql: str, params: Params) -> list[Row]:
        try:
            return await self._execute(self.dialect.render(sql), params)
        except Exception as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            if self._lost(exc):
                with contextlib.suppress(Exception):
                    await self._close()
                self._connected = False
            raise unavailable from None

    def _begin_sql(self, lock_schema: bool) -> str:
        return "BEGIN"

    @abc.abstractmethod
    async def _open(self) -> None: ...

    @abc.abstractmethod
    async def _close(self) -> None: ...

    @abc.abstractmethod
    async def _execute(self, sql: str, params: Params) -> list[Row]: ...

    @abc.abstractmethod
    def _unavailable(self, exc: Exception) -> DatabaseUnavailable | None:
        """A DatabaseUnavailable for an error a retry can fix; None for any other."""

    def _lost(self, exc: Exception) -> bool:
        """The connection is gone after ``exc`` and must be opened again."""
        return False


class Transaction:
    """Statements inside one ``Database.transaction()``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def dialect(self) -> Dialect:
        return self._db.dialect

    async def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        return await self._db._guarded(sql, params or {})


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, url: str, path: Path, *, busy_timeout_s: float = 5.0) -> None:
        super().__init__(url)
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _open_sync(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None,
            check_same_thread=False,
        )  # fmt: skip
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn

    async def _open(self) -> None:
        await self._call(self._open_sync)

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def _close(self) -> None:
        await self._call(self._close_sync)

    async def close(self) -> None:
        await super().close()
        self._thread.shutdown(wait=True)

    def _execute_sync(self, sql: str, params: Params) -> list[Row]:
        assert self._conn is not None
        cursor = self._conn.execute(sql, dict(params))
        try:
            return [dict(row) for row in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()

    async def _execute(self, sql: str, params: Params) -> list[Row]:
        rows: list[Row] = await self._call(self._execute_sync, sql, params)
        return rows

    def _begin_sql(self, lock_schema: bool) -> str:
        return "BEGIN IMMEDIATE"  # take the write lock now, not at the first write

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable | None:
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code in _SQLITE_RETRYABLE:
                return DatabaseUnavailable(f"{self.shown}: {exc}")
        if isinstance(exc, OSError):
            return DatabaseUnavailable(f"{self.shown}: {exc}; check the folder exists and is "
                                       "writable")  # fmt: skip
        return None


class PostgresDatabase(Database):
    dialect = POSTGRESQL

    def __init__(self, url: str, *, connect_timeout_s: float = 5.0) -> None:
        super().__init__(url)
        self.connect_timeout_s = connect_timeout_s
        self._conn: Any = None

    async def _open(self) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self._conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, row_factory=dict_row,
            connect_timeout=max(1, round(self.connect_timeout_s)),
        )  # fmt: skip

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _execute(self, sql: str, params: Params) -> list[Row]:
        if self._conn is None:
            raise DatabaseUnavailable(f"{self.shown}: not connected")
        cursor = await self._conn.execute(sql, dict(params) if params else None)
        if cursor.description is None:
            return []
        rows: list[Row] = await cursor.fetchall()
        return rows

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable | None:
        import psycopg
        from psycopg import errors

        if isinstance(exc, DatabaseUnavailable):
            return exc
        retryable = (psycopg.OperationalError, psycopg.InterfaceError, OSError,
                     errors.SerializationFailure, errors.DeadlockDetected)  # fmt: skip
        if isinstance(exc, retryable):
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return DatabaseUnavailable(f"{self.shown}: {reason}")
        return None

    def _lost(self, exc: Exception) -> bool:
        return self._conn is None or bool(self._conn.closed) or bool(self._conn.broken)


def open_database(url: str, **options: Any) -> Database:
    """A Database for ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or
    ``postgresql://user:password@host:port/dbname`` (not yet connected)."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        if not url.lower().startswith("sqlite:///") or len(url) <= len("sqlite:///"):
            raise DatabaseConfigError(
                f"ARB_RECORDER_DB_URL={url}: a SQLite URL names a file, "
                "e.g. sqlite:///arb-data/trades.sqlite (relative) or sqlite:////var/lib/arb/t.db"
            )
        path = Path(url[len("sqlite:///") :])
        allowed = {"busy_timeout_s"}
        return SqliteDatabase(url, path, **{k: v for k, v in options.items() if k in allowed})
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        conninfo = "postgresql:" + url.split(":", 1)[1]
        allowed = {"connect_timeout_s"}
        return PostgresDatabase(conninfo, **{k: v for k, v in options.items() if k in allowed})
    raise DatabaseConfigError(
        f"ARB_RECORDER_DB_URL={shown_url(url)}: unknown database; use sqlite:///path/to/file "
        "or postgresql://user:password@host:5432/dbname"
    )


def placeholders(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:p0, :p1, ...)`` and their parameters, for ``IN`` lists."""
    params = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return "(" + ", ".join(f":{name}" for name in params) + ")", params
