"""Where the trade history lives: one URL for every reader and writer.

``ARB_RECORDER_DB_URL`` names the database (``postgresql://...`` or ``sqlite:///path``);
unset, it is ``trades.sqlite`` in the data folder ``ARB_DATA_DIR`` (default ``arb-data``,
relative to the working directory, where ``arb run`` keeps its run data). The recorder
writes it; ``arb trades``, ``arb pnl`` and the dashboard read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from arb_core.variables import DATA_DIR
from pydantic import AliasChoices, Field

DEFAULT_DATA_DIR = "arb-data"
DATABASE_FILE = "trades.sqlite"
DB_URL_VARIABLE = "ARB_RECORDER_DB_URL"
DATA_DIR_VARIABLE = DATA_DIR  # its one home: arb_core.variables


def database_url_field() -> Any:
    return Field(
        default=None,
        validation_alias=AliasChoices(DB_URL_VARIABLE, "db_url"),
        description=f"Trade history database ({DB_URL_VARIABLE}): postgresql://user:pw@host/db "
        f"or sqlite:///path; unset: {DATABASE_FILE} in the data folder.",
    )


def data_dir_field() -> Any:
    return Field(
        default=DEFAULT_DATA_DIR,
        validation_alias=AliasChoices(DATA_DIR_VARIABLE, "data_dir"),
        description=f"Run data folder ({DATA_DIR_VARIABLE}), relative to the working directory; "
        "the default SQLite database lives there.",
    )


def sqlite_url(path: Path | str) -> str:
    """``sqlite:///relative`` or ``sqlite:////absolute`` for a file path."""
    return f"sqlite:///{path}"


def resolve_database_url(db_url: str | None, data_dir: str | Path) -> str:
    return db_url or sqlite_url(Path(data_dir) / DATABASE_FILE)


def database_url_from_env() -> str:
    """The URL the recorder writes, from the same variables it reads."""
    return resolve_database_url(
        os.environ.get(DB_URL_VARIABLE) or None,
        os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR,
    )
