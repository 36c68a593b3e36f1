"""Prometheus metrics of the venue layer (REST client and market-data feeds)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

REST_REQUEST_SECONDS = Histogram(
    "arb_venue_rest_request_seconds",
    "REST request latency, from send to full body.",
    ["venue", "endpoint"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REST_RESULTS = Counter(
    "arb_venue_rest_requests_total", "REST requests by outcome.", ["venue", "endpoint", "outcome"]
)
REST_RATE_LIMIT_HITS = Counter(
    "arb_venue_rate_limit_hits_total", "429/418 or rate-limit answers from the venue.", ["venue"]
)
REST_CONNECTIONS = Counter(
    "arb_venue_rest_connections_total",
    "Connections used by the REST client: created vs reused from the pool.",
    ["venue", "kind"],
)
REST_IN_FLIGHT = Gauge(
    "arb_venue_rest_in_flight_requests",
    "REST requests being sent or awaiting their answer (each holds one pooled connection).",
    ["venue"],
)
REST_POOL_UTILISATION = Gauge(
    "arb_venue_rest_pool_utilisation_ratio",
    "Requests in flight over the connections the venue's REST clients may open (0..1).",
    ["venue"],
)
REST_CONNECTION_REUSE = Gauge(
    "arb_venue_rest_connection_reuse_ratio",
    "Share of requests sent on a pooled (kept-alive) connection rather than a new one, since "
    "the process started (the seed's target: > 0.95).",
    ["venue"],
)
REST_HEALTH_SECONDS = Gauge(
    "arb_venue_rest_health_check_seconds",
    "Round trip of the last health check (the venue's ping/time endpoint).",
    ["venue"],
)
REST_HEALTHY = Gauge(
    "arb_venue_rest_healthy", "1 if the last health check got a 2xx answer.", ["venue"]
)
CLOCK_OFFSET = Gauge(
    "arb_venue_clock_offset_seconds",
    "Venue clock minus local clock, as last measured (signed timestamps are corrected by it).",
    ["venue"],
)


@dataclass
class PoolUsage:
    """Every REST client of one venue in this process, summed (ingest runs one per shard)."""

    in_flight: int = 0
    connection_limit: int = 0
    created: int = 0
    reused: int = 0

    def utilisation(self) -> float:
        return self.in_flight / self.connection_limit if self.connection_limit else 0.0

    def reuse_ratio(self) -> float:
        total = self.created + self.reused
        return self.reused / total if total else 0.0


_POOLS: dict[str, PoolUsage] = {}


def pool_usage(venue: str) -> PoolUsage:
    """The venue's PoolUsage; its gauges read it when /metrics is scraped."""
    usage = _POOLS.get(venue)
    if usage is None:
        usage = _POOLS[venue] = PoolUsage()
        REST_POOL_UTILISATION.labels(venue).set_function(usage.utilisation)
        REST_CONNECTION_REUSE.labels(venue).set_function(usage.reuse_ratio)
    return usage


class FeedCounts(Protocol):
    frames: int
    events: int


class _FeedCounters(Collector):
    """``arb_ingest_frames_total`` and ``arb_ingest_book_events_total``, read from the feeds'
    own counters (arb_venues.common.feed.FeedStats) when /metrics is scraped. The feed counts
    every frame in a plain int already; a Prometheus Counter beside it cost two locked
    increments a frame on the hot path. Every feed's counts stay here once tracked, so each
    venue's total never goes down when a feed is replaced."""

    def __init__(self) -> None:
        self._feeds: list[tuple[str, FeedCounts]] = []

    def track(self, venue: str, counts: FeedCounts) -> None:
        self._feeds.append((venue, counts))

    def collect(self) -> Iterator[CounterMetricFamily]:
        frames = CounterMetricFamily("arb_ingest_frames", "WS frames received.", labels=["venue"])
        events = CounterMetricFamily(
            "arb_ingest_book_events", "Book events emitted.", labels=["venue"]
        )
        totals: dict[str, list[int]] = {}
        for venue, counts in self._feeds:
            total = totals.setdefault(venue, [0, 0])
            total[0] += counts.frames
            total[1] += counts.events
        for venue, (frame_count, event_count) in sorted(totals.items()):
            frames.add_metric([venue], frame_count)
            events.add_metric([venue], event_count)
        yield frames
        yield events


FEED_COUNTERS = _FeedCounters()
REGISTRY.register(FEED_COUNTERS)
FEED_BAD_FRAMES = Counter(
    "arb_ingest_bad_frames_total", "Frames that could not be parsed, by kind.", ["venue", "kind"]
)
FEED_CONNECTS = Counter("arb_ingest_connects_total", "WS connections opened.", ["venue"])
FEED_DISCONNECTS = Counter("arb_ingest_disconnects_total", "WS connections lost.", ["venue"])
FEED_SNAPSHOTS = Counter(
    "arb_ingest_snapshot_requests_total",
    "REST snapshot requests, by outcome.",
    ["venue", "outcome"],
)
FEED_RESYNCS = Counter("arb_ingest_resyncs_total", "Per-symbol resyncs performed.", ["venue"])
FEED_ROTATIONS = Counter(
    "arb_ingest_rotations_total",
    "Make-before-break connection rotations, by outcome (done; forced: a book was resynced; "
    "failed: the old connection stayed).",
    ["venue", "outcome"],
)
FEED_FAILOVERS = Counter(
    "arb_ingest_failovers_total",
    "Live connections cut without warning that the hot standby took over (no reconnect).",
    ["venue"],
)
FEED_NOTICES = Counter(
    "arb_ingest_reconnect_notices_total", "Reconnect notices the venue sent.", ["venue"]
)
FEED_CONNECTED = Gauge("arb_ingest_connected", "1 while the venue WS is connected.", ["venue"])
FEED_AUDITS = Counter(
    "arb_ingest_audit_requests_total",
    "Audit snapshots asked for by the book service, by outcome (published, busy: resyncs "
    "were waiting, failed: the REST call failed, unsupported).",
    ["venue", "outcome"],
)
