"""Alerter health: ready once it watches the streams; detail says where alerts go and how
many went."""

from __future__ import annotations

from arb_runtime.metrics import HealthState


def watching(health: HealthState, sinks: list[str]) -> None:
    health.set_detail("sinks", ",".join(sinks))
    health.set_ready(True)


def delivered(health: HealthState, sent: int, failed: int, last_error: str) -> None:
    health.set_detail("sent", sent)
    health.set_detail("failed", failed)
    if last_error:
        health.set_detail("last_error", last_error)
