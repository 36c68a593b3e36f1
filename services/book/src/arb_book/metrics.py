"""Book service metrics (prometheus, ``arb_book_`` prefix, base units, label venue only).

Counters are exported per batch from the engine's per-venue totals (``export``), so the
hot path makes no metric call per event.
"""

from __future__ import annotations

from arb_orderbook import VenueCounts
from prometheus_client import Counter, Gauge, Histogram

_COUNTERS: dict[str, Counter] = {
    "events": Counter("arb_book_events_total", "Md events read for the venue's books.", ["venue"]),
    "applied": Counter(
        "arb_book_events_applied_total", "Snapshots and deltas applied (replays too).", ["venue"]
    ),
    "levels": Counter("arb_book_level_updates_total", "Price levels applied.", ["venue"]),
    "dropped_stale": Counter(
        "arb_book_events_stale_total", "Deltas dropped as already in the book.", ["venue"]
    ),
    "dropped_halted": Counter(
        "arb_book_events_halted_total", "Deltas dropped while the venue was down.", ["venue"]
    ),
    "buffered": Counter(
        "arb_book_events_buffered_total", "Deltas buffered while waiting for a snapshot.",
        ["venue"],
    ),
    "gaps": Counter("arb_book_sequence_gaps_total", "Sequence gaps detected.", ["venue"]),
    "checksums_ok": Counter(
        "arb_book_checksums_verified_total", "Venue checksums that matched.", ["venue"]
    ),
    "checksum_failures": Counter(
        "arb_book_checksum_failures_total", "Venue checksums that did not match.", ["venue"]
    ),
    "checksums_missing": Counter(
        "arb_book_checksums_missing_total",
        "Updates without the checksum their venue sends on every update (book resynced).",
        ["venue"],
    ),
    "crossed": Counter("arb_book_crossed_total", "Books found crossed.", ["venue"]),
    "buffer_overflows": Counter(
        "arb_book_buffer_overflows_total", "Buffered deltas dropped because the buffer was full.",
        ["venue"],
    ),
    "expired": Counter("arb_book_stale_books_total", "Books marked stale by the sweep.", ["venue"]),
    "state_changes": Counter(
        "arb_book_state_changes_total", "Book state transitions.", ["venue"]
    ),
}  # fmt: skip

MALFORMED = Counter(
    "arb_book_malformed_events_total", "Md entries that could not be decoded or applied.",
    ["venue"],
)  # fmt: skip
RESYNC_REQUESTS = Counter(
    "arb_book_resync_requests_total", "ResyncRequests sent to ingest.", ["venue"]
)
AUDIT_REQUESTS = Counter(
    "arb_book_audit_requests_total", "Audit snapshots asked of ingest.", ["venue"]
)
AUDITS = Counter(
    "arb_book_audits_total",
    "Book audits against a REST snapshot, by outcome: passed, mismatch (book SUSPECT, "
    "resynced), skipped (not matched: never counted as passed).",
    ["venue", "outcome"],
)
AUDIT_SKIPS = Counter(
    "arb_book_audit_skips_total",
    "Audits that could not be matched, by reason (arb_orderbook.audit.SKIP_REASONS).",
    ["venue", "reason"],
)
VIEWS = Counter("arb_book_views_published_total", "Book views published.", ["venue"])
BOOKS = Gauge("arb_book_books", "Books held.", ["venue"])
LIVE_BOOKS = Gauge("arb_book_live_books", "Books that are LIVE.", ["venue"])
BATCH_EVENTS = Histogram(
    "arb_book_batch_entries", "Md entries per read batch.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)  # fmt: skip
BATCH_APPLY_SECONDS = Histogram(
    "arb_book_batch_apply_seconds", "CPU time to decode and apply one read batch.",
    buckets=(1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1),
)  # fmt: skip
EVENT_APPLY_SECONDS = Histogram(
    "arb_book_event_apply_seconds", "Mean time to decode and apply one md event, per batch.",
    buckets=(1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3),
)  # fmt: skip
VIEW_LATENCY_SECONDS = Histogram(
    "arb_book_view_latency_seconds", "ts_book - ts_recv of published views (ingest to book).",
    ["venue"], buckets=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0),
)  # fmt: skip


class Exporter:
    """Turns the engine's running totals into counter increments, once per batch."""

    def __init__(self) -> None:
        self._last: dict[str, dict[str, int]] = {}

    def export(self, counts: dict[str, VenueCounts]) -> None:
        for venue, totals in counts.items():
            last = self._last.setdefault(venue, {})
            for name, counter in _COUNTERS.items():
                value = getattr(totals, name)
                step = value - last.get(name, 0)
                if step:
                    counter.labels(venue).inc(step)
                    last[name] = value
