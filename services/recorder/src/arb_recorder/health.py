"""Recorder health: ready while the database answers; degraded (and holding entries back in
the streams) while it does not."""

from __future__ import annotations

from arb_history.writer import WriterCounts
from arb_runtime.metrics import HealthState

from arb_recorder import metrics


def database_up(health: HealthState, database: str, schema_version: int) -> None:
    health.status = "ok"
    health.set_ready(True)
    health.set_detail("database", database)
    health.set_detail("schema_version", schema_version)
    health.detail.pop("last_error", None)
    metrics.DATABASE_AVAILABLE.set(1)


def database_down(health: HealthState, error: Exception) -> None:
    health.status = "degraded"
    health.set_ready(False)
    health.set_detail("last_error", error)
    metrics.DATABASE_AVAILABLE.set(0)


def counts(health: HealthState, counts: WriterCounts) -> None:
    health.set_detail("written", counts.written)
    health.set_detail("duplicates", counts.duplicates)
    health.set_detail("malformed", counts.malformed)
