"""Ingest wiring: instruments -> feed -> batched XADD to arb:md:{venue}; resyncs from arb:ctl.

With ``ARB_INGEST_SHARD_INDEX=auto`` the shard index is claimed from a lease in Redis (group:
the venue) before the venue is contacted; a replica that loses its lease stops and restarts.

Redis going away costs nothing but time: market data waits in the producer's buffer, the
control reader is the runtime's StreamLoop, and after a restart of Redis (empty, or from an
AOF) the instruments are published again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arb_runtime.backoff import Backoff, wait_or_stop
from arb_runtime.consume import StreamLoop, StreamReader
from arb_runtime.entries import Entry
from arb_runtime.service import ServiceContext
from arb_runtime.shards import hold_shard
from arb_runtime.watch import process_instance
from arb_structs import AuditRequest, Instrument, MdMessage, RotateRequest
from arb_structs.codec import CTL, MD
from arb_structs.constants import MD_MAXLEN, ctl_stream, md_stream
from arb_venues import get_venue, market_protocol
from arb_venues.base import Endpoints, MarketDataProtocol
from arb_venues.common.feed import MarketDataFeed
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import RestClient
from arb_venues.common.shared_ratelimit import venue_limiter
from arb_venues.errors import VenueError

from arb_ingest import health, instruments, metrics
from arb_ingest.config import IngestSettings

log = logging.getLogger("arb.ingest")

# While the venue's reference data cannot be fetched (the feed's reconnects use the same).
INSTRUMENTS_BACKOFF = Backoff(base_s=0.5, cap_s=30.0)


def build_protocol(settings: IngestSettings) -> MarketDataProtocol:
    spec = get_venue(settings.venue)
    endpoints = Endpoints(
        ws_url=settings.ws_url or spec.endpoints.ws_url,
        rest_url=settings.rest_url or spec.endpoints.rest_url,
    )
    return market_protocol(settings.venue, endpoints, depth=settings.depth,
                           protocol_version=settings.protocol)  # fmt: skip


def rest_client(settings: IngestSettings, protocol: MarketDataProtocol, redis: Any) -> RestClient:
    """The venue's REST client for instruments, snapshots and audits. Its budget is the
    venue's one table of limits (``VenueSpec.rest_limits``, the executor's too), shared
    through ``redis`` by every ingest replica and executor unless ``shared_rate_limits`` is
    off: N replicas never send more than the venue's IP limit (Binance bans with 418)."""
    shared = redis if settings.shared_rate_limits else None
    limiter = venue_limiter(settings.venue, get_venue(settings.venue).rest_limits, shared)
    return RestClient(settings.venue, protocol.endpoints.rest_url, limiter=limiter,
                      error_mapper=protocol.error_mapper())  # fmt: skip


async def load_instruments(
    protocol: MarketDataProtocol, rest: RestClient, stopping: asyncio.Event
) -> list[Instrument]:
    """The venue's instruments, retried with backoff while the venue is unreachable."""
    retry = INSTRUMENTS_BACKOFF.attempts()
    while True:
        try:
            return await protocol.fetch_instruments(rest)
        except VenueError as exc:
            if not exc.retryable:
                raise
            delay = retry.next_delay()
            log.warning("%s: instruments not available (%s); retrying in %.1fs",
                        protocol.venue, exc, delay)  # fmt: skip
        if await wait_or_stop(stopping, delay):
            raise asyncio.CancelledError


async def follow_resyncs(ctx: ServiceContext, feed: MarketDataFeed, venue: str) -> None:
    """Resync and audit requests of the book service and rotate requests (``arb ctl``),
    until stopping or cancelled (the
    runtime's StreamLoop: it stops at once on cancel, redis-py losing the CancelledError or
    not)."""

    async def on_batch(entries: list[Entry]) -> None:
        for entry in entries:
            if entry.payload is None:
                continue
            try:
                request = CTL.decode(entry.payload)
            except Exception as exc:
                metrics.RESYNC_REQUESTS.labels(venue, "malformed").inc()
                log.error("%s: unreadable control entry %s: %s", venue, entry.id, exc)
                continue
            if isinstance(request, AuditRequest):
                feed.request_audit(request.symbol, request.levels)  # counted by the feed
                continue
            if isinstance(request, RotateRequest):
                by = f" by {request.by}" if request.by else ""
                started = feed.rotate(f"{request.reason}{by}")
                metrics.ROTATE_REQUESTS.labels(venue, "started" if started else "busy").inc()
                if not started:
                    log.warning("%s: rotate request not started: no live connection, or a "
                                "rotation is under way", venue)  # fmt: skip
                continue
            ok = feed.request_resync(request.symbol, request.reason)
            metrics.RESYNC_REQUESTS.labels(venue, "done" if ok else "unknown_symbol").inc()

    reader = StreamReader(ctx.redis, {ctl_stream(venue): "$"})
    loop = StreamLoop(reader, on_batch, name=f"ingest {venue} control", count=100, block_ms=500)
    await loop.run(ctx.stopping)


async def main(ctx: ServiceContext) -> None:
    """The service body run by ``run_service``: claims an auto shard first if asked to."""
    settings: IngestSettings = ctx.settings
    if settings.shard_index != "auto":
        index = settings.shard_index
        await ingest(ctx, index, f"{index}/{settings.shard_count}")
        return
    async with hold_shard(
        ctx.redis, ctx.stopping, service="ingest", group=settings.venue,
        count=settings.shard_count, instance=settings.instance,
        ttl_ms=settings.shard_lease_ms, health=ctx.health,
    ) as lease:  # fmt: skip
        if lease is not None and lease.index is not None:
            ctx.health.instance = process_instance(
                settings.instance, settings.venue, f"shard-{lease.index}"
            )
            await ingest(ctx, lease.index, lease.describe())


async def ingest(ctx: ServiceContext, shard_index: int, shard_label: str) -> None:
    """Ingest the symbols of shard ``shard_index`` of the venue until stopping."""
    settings: IngestSettings = ctx.settings
    venue = settings.venue
    ctx.health.set_detail("shard", shard_label)
    protocol = build_protocol(settings)
    rest = rest_client(settings, protocol, ctx.redis)
    try:
        available = await load_instruments(protocol, rest, ctx.stopping)
    except asyncio.CancelledError:
        await rest.close()
        return
    chosen = instruments.select(
        available, settings.symbols, shard_index=shard_index,
        shard_count=settings.shard_count, taker_fees=settings.taker_fees,
    )  # fmt: skip
    if not chosen:
        log.warning("%s: shard %s holds no symbol; idle", venue, shard_label)
        await rest.close()
        ctx.health.set_ready(True)
        await ctx.stopping.wait()
        return
    instruments.publish(ctx.producer, chosen)
    if ctx.restarts is not None:  # a Redis back empty has no reference data
        ctx.restarts.on_restart(lambda: instruments.publish(ctx.producer, chosen))
    ctx.health.set_detail("symbols", ",".join(i.symbol for i in chosen))
    stream = md_stream(venue)
    producer = ctx.producer

    def emit(event: MdMessage) -> None:
        producer.xadd(stream, MD.encode(event), maxlen=MD_MAXLEN)

    budget = BucketLimit(max(1.0, settings.snapshot_rate_per_s), settings.snapshot_rate_per_s)
    audits = BucketLimit(max(1.0, settings.audit_rate_per_s), settings.audit_rate_per_s)
    spec = get_venue(venue)
    lifetime = spec.connection_lifetime_s * settings.lifetime_scale or None
    standby = spec.hot_standby if settings.standby == "venue" else settings.standby == "on"
    feed = MarketDataFeed(protocol, chosen, emit, rest=rest, snapshot_budget=budget,
                          audit_budget=audits, lifetime_s=lifetime,
                          join_timeout_s=settings.rotation_join_timeout_s,
                          standby=standby)  # fmt: skip
    log.info("%s: shard %s ingesting %s from %s", venue, shard_label,
             ", ".join(i.symbol for i in chosen), protocol.endpoints.ws_url)  # fmt: skip
    resyncs = asyncio.create_task(follow_resyncs(ctx, feed, venue))

    async def report() -> None:
        while True:
            health.update(ctx.health, feed)
            await asyncio.sleep(1.0)

    reporter = asyncio.create_task(report())
    try:
        await feed.run(ctx.stopping)
    finally:
        for task in (resyncs, reporter):
            task.cancel()
        await asyncio.gather(resyncs, reporter, return_exceptions=True)
