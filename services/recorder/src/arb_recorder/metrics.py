"""Recorder metrics (``arb_recorder_*``; label ``stream`` is one of three, ``outcome`` one of
written, duplicate, malformed)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ENTRIES = Counter(
    "arb_recorder_entries_total", "Stream entries committed to the database, by outcome.",
    ["stream", "outcome"],
)  # fmt: skip
DATABASE_ERRORS = Counter(
    "arb_recorder_database_errors_total",
    "Writes the database refused or could not take (each is retried, never dropped).",
)
DATABASE_AVAILABLE = Gauge(
    "arb_recorder_database_available", "1 while the last database call succeeded, else 0."
)
WAITING = Counter(
    "arb_recorder_backpressure_seconds_total",
    "Seconds spent waiting for the database with entries held back in the stream.",
)
WRITE_LATENCY = Histogram(
    "arb_recorder_write_seconds", "One entry: decode, insert and commit.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)  # fmt: skip
