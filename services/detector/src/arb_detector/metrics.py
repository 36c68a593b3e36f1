"""Detector metrics (prometheus-client). Labels are venues, plus the bounded gate reason."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from arb_detector.engine import Detector

_LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)  # fmt: skip

BOOK_VIEWS = Counter(
    "arb_detector_book_views_total", "Book views applied (owned symbols only).", ["venue"]
)
OPPORTUNITIES = Counter(
    "arb_detector_opportunities_total",
    "Opportunities emitted, per ordered venue pair.",
    ["buy_venue", "sell_venue"],
)
GATED = Counter(
    "arb_detector_gated_total",
    "Venue-pair evaluations that emitted nothing, by reason (no_edge, stale, not_live, "
    "in_flight, cooldown, no_balance, below_minimum, no_capacity, below_min_profit, ...).",
    ["reason"],
)
BAD_MESSAGES = Counter(
    "arb_detector_bad_messages_total", "Stream entries or records that could not be decoded."
)
VIEW_LAG = Histogram(
    "arb_detector_view_lag_seconds",
    "From the book service publishing a view to the detector reading it.",
    buckets=_LATENCY_BUCKETS,
)
DETECTION_LATENCY = Histogram(
    "arb_detector_detection_latency_seconds",
    "From ingest receiving the later book event to the opportunity being detected.",
    buckets=_LATENCY_BUCKETS,
)
BATCH_SECONDS = Histogram(
    "arb_detector_batch_seconds",
    "Processing time of one read batch (decode, search, emit).",
    buckets=_LATENCY_BUCKETS,
)
BOOKS = Gauge("arb_detector_books", "Books held (owned symbols, all venues).")


def drain(engine: Detector) -> None:
    """Move the engine's plain counters into Prometheus (once per batch, not per event)."""
    for venue, count in engine.views_total.items():
        BOOK_VIEWS.labels(venue).inc(count)
    for reason, count in engine.gated_total.items():
        GATED.labels(reason).inc(count)
    for (buy, sell), count in engine.emitted_total.items():
        OPPORTUNITIES.labels(buy, sell).inc(count)
    engine.views_total.clear()
    engine.gated_total.clear()
    engine.emitted_total.clear()
