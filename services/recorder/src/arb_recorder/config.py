"""Recorder settings (env prefix ARB_RECORDER_). Replicas may share one database."""

from __future__ import annotations

from arb_history.config import data_dir_field, database_url_field, resolve_database_url
from arb_runtime.config import ServiceSettings, settings_config
from pydantic import Field


class RecorderSettings(ServiceSettings):
    model_config = settings_config("ARB_RECORDER_")

    db_url: str | None = database_url_field()
    data_dir: str = data_dir_field()
    start_from: str = Field(
        default="0",
        description="Where the group starts on a stream it has never read: '0' = every "
        "retained entry (nothing produced before the first start is missed), '$' = new ones.",
    )
    read_count: int = Field(default=100, ge=1, description="Entries per XREADGROUP.")
    claim_idle_ms: int = Field(
        default=30_000, gt=0, description="Take over entries idle this long at a dead replica."
    )
    max_deliveries: int = Field(
        default=100,
        ge=2,
        description="Deliveries before an entry goes to the dead-letter stream. High on "
        "purpose: an outage of the database must never dead-letter an entry (a malformed one "
        "is stored in malformed_entries and acknowledged, not retried).",
    )
    retry_initial_s: float = Field(
        default=0.2, gt=0, description="First pause before retrying a write the database refused."
    )
    retry_max_s: float = Field(
        default=5.0, gt=0, description="Longest pause between retries while the database is away."
    )
    busy_timeout_s: float = Field(
        default=5.0, gt=0, description="SQLite: how long a write waits for a lock held elsewhere."
    )
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="PostgreSQL: connection timeout (s)."
    )

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.db_url, self.data_dir)
