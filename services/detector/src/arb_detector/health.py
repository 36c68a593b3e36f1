"""What the detector reports on /healthz, /readyz and its health key."""

from __future__ import annotations

from arb_runtime.metrics import HealthState

from arb_detector.engine import Detector


def report(health: HealthState, engine: Detector, *, balance_source: str, shard: str) -> None:
    """Ready once started; details say what the detector holds."""
    health.set_detail("books", engine.book_count)
    health.set_detail("instruments", engine.instrument_count)
    health.set_detail("balances", f"{balance_source}: {engine.balance_venues}")
    health.set_detail("shard", shard)
    health.set_detail("symbols", ",".join(engine.symbols))
