"""Executor health: ready once open sagas are recovered and the consumer runs."""

from __future__ import annotations

from arb_runtime.metrics import HealthState


def started(health: HealthState, mode: str, venues: list[str], recovered: int) -> None:
    health.set_detail("mode", mode)
    health.set_detail("venues", ",".join(venues))
    health.set_detail("recovered_sagas", recovered)
    health.set_ready(True)
