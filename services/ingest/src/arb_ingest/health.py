"""Ingest health: ready while the venue connection is up."""

from __future__ import annotations

from arb_runtime.metrics import HealthState
from arb_venues.common.feed import MarketDataFeed


def update(health: HealthState, feed: MarketDataFeed) -> None:
    health.set_ready(feed.connected.is_set())
    health.status = "ok" if feed.connected.is_set() else "degraded"
    health.set_detail("venue", feed.venue)
    health.set_detail("frames", feed.stats.frames)
    health.set_detail("events", feed.stats.events)
    health.set_detail("connects", feed.stats.connects)
    health.set_detail("bad_frames", sum(feed.stats.bad_frames.values()))
    health.set_detail("audit_snapshots", feed.stats.audits.get("published", 0))
    # Stability (arb status, the dashboard): reconnects are connections lost, not replaced.
    health.set_detail("reconnects", feed.stats.disconnects)
    health.set_detail("rotations", sum(feed.stats.rotations.values()))
    health.set_detail("rotations_failed", feed.stats.rotations.get("failed", 0))
    health.set_detail("reconnect_notices", feed.stats.notices)
    health.set_detail("failovers", feed.stats.failovers)
    health.set_detail("standby", int(feed.standby_ready))
    age = feed.connection_age_s()
    health.set_detail("connection_age_s", "" if age is None else f"{age:.0f}")
