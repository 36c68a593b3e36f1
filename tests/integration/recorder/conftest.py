"""The trade history database of a test, on both engines: a SQLite file and a database on the
session's private PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/trades.sqlite"
    url: str = request.getfixturevalue("postgres_url")
    return url
