"""Ingest health: ready while the venue connection is up."""

from __future__ import annotations

from arb_runtime.metrics import HealthState
from arb_venues.common.feed import MarketDataFeed


def update(health: HealthState, feed: MarketDataFeed) -> None:
    health.set_ready(feed.connected.is_set())
    health.status = "ok" if feed.connected.is_set() else "degraded"
    health.set_detail("frames", feed.stats.frames)
    health.set_detail("events", feed.stats.events)
    health.set_detail("connects", feed.stats.connects)
    health.set_detail("bad_frames", sum(feed.stats.bad_frames.values()))
    health.set_detail("audit_snapshots", feed.stats.audits.get("published", 0))
