"""The schema is created and migrated by the code, on a real SQLite file and a real
PostgreSQL, and a database from a newer version is refused, not written."""

from __future__ import annotations

import pytest
from arb_history.database import open_database
from arb_history.errors import MigrationError
from arb_history.migrations import known_migrations, migrate, schema_version

pytestmark = pytest.mark.integration


async def test_a_new_database_gets_every_migration_once(database_url: str) -> None:
    db = open_database(database_url)
    try:
        newest = len(known_migrations())
        assert await schema_version(db) == 0
        assert await migrate(db) == list(range(1, newest + 1))
        assert await migrate(db) == []  # a second start applies nothing
        assert await schema_version(db) == newest
        rows = await db.fetch("SELECT COUNT(*) AS n FROM results")
        assert int(rows[0]["n"]) == 0
    finally:
        await db.close()


async def test_a_schema_newer_than_the_code_is_refused(database_url: str) -> None:
    db = open_database(database_url)
    try:
        await migrate(db)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_ns) VALUES (99, 'x', 0)"
            )
        with pytest.raises(MigrationError, match="schema version 99 is newer"):
            await migrate(db)
    finally:
        await db.close()


async def test_a_failed_migration_leaves_the_schema_as_it_was(database_url: str, tmp_path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_good.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER);\nNOT SQL AT ALL;\n")
    db = open_database(database_url)
    try:
        with pytest.raises(Exception, match=r"(?i)syntax"):
            await migrate(db, folder)
        assert await schema_version(db) == 0  # all or nothing: not even 0001 stays
        with pytest.raises(Exception):  # noqa: B017 - each engine names it differently
            await db.fetch("SELECT x FROM a")
    finally:
        await db.close()
