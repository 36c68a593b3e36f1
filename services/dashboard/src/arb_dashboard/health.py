"""Dashboard health: ready once the page is served; detail says where and to how many."""

from __future__ import annotations

from arb_runtime.metrics import HealthState


def serving(health: HealthState, url: str, kill_button: bool) -> None:
    health.set_detail("url", url)
    health.set_detail("kill_button", "on" if kill_button else "off")
    health.set_ready(True)


def clients(health: HealthState, count: int) -> None:
    health.set_detail("clients", count)
