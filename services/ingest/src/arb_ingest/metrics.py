"""Ingest metrics (the feed's own counters live in arb_venues.common.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

RESYNC_REQUESTS = Counter(
    "arb_ingest_resync_requests_total", "Resync requests received from the book service.",
    ["venue", "outcome"],
)  # fmt: skip
ROTATE_REQUESTS = Counter(
    "arb_ingest_rotate_requests_total", "Rotate requests received (arb ctl rotate), by outcome.",
    ["venue", "outcome"],
)  # fmt: skip
