"""Schema migrations: versioned SQL files applied in order, each once.

``migrations/NNNN_name.sql`` holds statements separated by ``;`` at the end of a line, in the
placeholder SQL of ``arb_history.database`` (one file serves SQLite and PostgreSQL). All
missing versions are applied in one transaction under the schema lock (SQLite: the write
lock of ``BEGIN IMMEDIATE``; PostgreSQL: an advisory transaction lock), so recorders that
start together apply each version once, and a failed migration leaves the schema as it was.
A database whose schema is newer than this code is refused rather than written.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from arb_history.database import Database
from arb_history.errors import DatabaseUnavailable, MigrationError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(text: str) -> tuple[str, ...]:
    """The statements of a migration file: comment lines dropped, split at ``;`` + newline."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return tuple(part.strip() for part in re.split(r";\s*(?:\n|$)", body) if part.strip())


def known_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], split_statements(path.read_text())))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{folder}: migration versions {versions} are not 1, 2, 3, ...")
    return found


async def migrate(db: Database, folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Bring the schema to the newest version; returns the versions applied now."""
    wanted = known_migrations(folder)
    applied: list[int] = []
    async with db.transaction(lock_schema=True) as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_ns {bigint} NOT NULL)"
        )
        done = {
            int(r["version"]) for r in await tx.execute("SELECT version FROM schema_migrations")
        }
        newest = max((m.version for m in wanted), default=0)
        if done and max(done) > newest:
            raise MigrationError(
                f"{db.shown}: schema version {max(done)} is newer than this code knows "
                f"({newest}); upgrade cexarb, or point ARB_RECORDER_DB_URL at another database"
            )
        for migration in wanted:
            if migration.version in done:
                continue
            for statement in migration.statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_ns) "
                "VALUES (:version, :name, :ts)",
                {"version": migration.version, "name": migration.name, "ts": time.time_ns()},
            )
            applied.append(migration.version)
    return applied


async def schema_version(db: Database) -> int:
    """The newest applied version (0 when the database has no schema yet)."""
    try:
        rows = await db.fetch("SELECT MAX(version) AS version FROM schema_migrations")
    except DatabaseUnavailable:
        raise
    except Exception:  # no schema_migrations table yet
        return 0
    return int(rows[0]["version"] or 0) if rows else 0
