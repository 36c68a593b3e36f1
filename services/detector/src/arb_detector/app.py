"""Wiring and the run loop: book views and execution results in, opportunities out.

One ordered XREAD covers every venue's book stream and the executions stream. Each batch is
applied to the engine (latest view per book wins), the pairs touching the changed books are
priced once, and everything found is XADDed in the producer's one pipelined round trip.

On start the read positions are pinned first, then the latest view of every book is loaded
from ``arb:book:latest:{venue}`` (so a restarted detector is current at once) and the stream
is read from the pinned position (nothing published in between is missed). Instruments and
balances are re-read every ``refresh_ms`` by a side task.

With ``ARB_DETECTOR_SHARD=auto/n`` the shard index is claimed from a lease in Redis before
anything is read (arb_runtime.shards); a replica that loses its lease stops and is restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import msgspec
import redis.asyncio as aioredis
from arb_runtime.consume import StreamLoop, StreamReader
from arb_runtime.entries import Entry
from arb_runtime.metrics import HealthState
from arb_runtime.redis import REDIS_RETRYABLE
from arb_runtime.service import ServiceContext
from arb_runtime.shards import hold_shard
from arb_runtime.streams import StreamProducer
from arb_runtime.tasks import raise_if_cancelling, stop_task
from arb_runtime.watch import process_instance
from arb_structs.codec import BALANCES, BOOK, EXECUTION, INSTRUMENT, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    OPPORTUNITIES_MAXLEN,
    OPPORTUNITIES_STREAM,
    balances_key,
    book_latest_key,
    book_stream,
    instruments_key,
)
from arb_structs.trading import Opportunity

from arb_detector import health, metrics
from arb_detector.config import DetectorSettings
from arb_detector.engine import Detector, DetectorParams
from arb_detector.errors import InstrumentError
from arb_detector.gates import InFlightGate
from arb_detector.sharding import Shard

log = logging.getLogger("arb.detector")

_MS = 1_000_000


def build_engine(settings: DetectorSettings, shard: Shard | None = None) -> Detector:
    """The pure engine configured from settings (``shard``: a claimed one, else the setting's)."""
    params = DetectorParams(
        min_edge_bps=settings.min_edge_bps,
        min_net_profit=settings.min_net_profit,
        max_notional=settings.max_notional,
        max_book_age_ns=settings.max_book_age_ms * _MS,
        max_book_age_ns_by_venue={
            venue: ms * _MS for venue, ms in settings.max_book_age_ms_by_venue.items()
        },
        expiry_ns=settings.expiry_ms * _MS,
    )
    gate = InFlightGate(
        timeout_ns=settings.in_flight_timeout_ms * _MS,
        reprice_fraction=settings.reprice_bps / 1e4,
        cooldown_ns=settings.cooldown_ms * _MS,
        cooldown_statuses=settings.cooldown_statuses,
    )
    return Detector(params, gate, shard or settings.make_shard())


class DetectorService:
    """The detector's I/O around one engine."""

    def __init__(
        self,
        redis: aioredis.Redis,
        producer: StreamProducer,
        settings: DetectorSettings,
        health_state: HealthState | None = None,
        shard: Shard | None = None,
        shard_label: str | None = None,
    ) -> None:
        self.redis = redis
        self._r: Any = redis  # redis-py's reply stubs say bytes | str; this client gives bytes
        self.producer = producer
        self.settings = settings
        self.health = health_state
        self.engine = build_engine(settings, shard)
        self.shard_label = shard_label or ",".join(settings.symbols) or settings.shard
        positions: dict[str, str | bytes] = {book_stream(v): "$" for v in settings.venues}
        positions[EXECUTIONS_STREAM] = "$"
        self.reader = StreamReader(redis, positions)
        self.emitted = 0
        self._instrument_bytes: dict[tuple[str, str], bytes] = {}
        self._reported: set[str] = set()  # problems already logged once

    # -- start and refresh ----------------------------------------------------------------

    async def start(self) -> None:
        """Pin the read positions, then load reference data, balances and the latest views."""
        await self.reader.resolve_tail()
        await self.refresh()
        for venue in self.settings.venues:
            latest = await self._r.hgetall(book_latest_key(venue))
            for symbol, payload in latest.items():
                self._apply_view_bytes(payload, f"{book_latest_key(venue)}[{symbol!r}]")
        self._emit(self.engine.detect(time.time_ns()))
        self._report_health()

    async def refresh(self) -> None:
        """Re-read instruments and (in redis mode) balances of every venue."""
        for venue in self.settings.venues:
            records = await self._r.hgetall(instruments_key(venue))
            for symbol, payload in records.items():
                self._set_instrument(venue, symbol, payload)
            if self.settings.balance_source == "static":
                self.engine.set_balances(venue, self.settings.static_free(venue))
                continue
            raw = await self._r.get(balances_key(venue))
            if raw is None:
                self._once(
                    f"no-balances:{venue}",
                    "%s is missing: no balances known for %s, so nothing is traded there "
                    "until the executor publishes them (or set ARB_DETECTOR_BALANCE_SOURCE=static)",
                    balances_key(venue),
                    venue,
                )
                self.engine.set_balances(venue, {})
                continue
            try:
                self.engine.set_balance_snapshot(BALANCES.decode(raw))
            except (msgspec.DecodeError, ValueError) as exc:
                metrics.BAD_MESSAGES.inc()
                self._once(f"bad-balances:{venue}", "%s unreadable: %s", balances_key(venue), exc)

    def _set_instrument(self, venue: str, symbol: Any, payload: bytes) -> None:
        key = (venue, symbol.decode() if isinstance(symbol, bytes) else str(symbol))
        if self._instrument_bytes.get(key) == payload:
            return
        try:
            self.engine.set_instrument(INSTRUMENT.decode(payload))
        except (msgspec.DecodeError, InstrumentError) as exc:
            metrics.BAD_MESSAGES.inc()
            self._once(
                f"instrument:{key}:{exc}",
                "skipping instrument %s in %s: %s",
                key[1],
                instruments_key(venue),
                exc,
            )
        self._instrument_bytes[key] = payload

    async def _refresh_loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.settings.refresh_ms / 1000)
            if stopping.is_set():
                return
            try:
                await self.refresh()
            except REDIS_RETRYABLE as exc:
                raise_if_cancelling()
                log.error("refreshing instruments/balances failed (%s); retrying", exc)
            self._report_health()

    # -- the hot path ---------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Read, detect, emit until ``stopping`` is set (the runtime's ordered StreamLoop:
        it survives Redis going away and coming back, empty or from its AOF)."""
        refresher = asyncio.create_task(self._refresh_loop(stopping))

        async def on_batch(entries: list[Entry]) -> None:
            self.process(entries)

        loop = StreamLoop(
            self.reader, on_batch, name="detector", count=self.settings.read_count,
            block_ms=self.settings.block_ms, producer=self.producer,
        )  # fmt: skip
        try:
            await loop.run(stopping)
        finally:
            await stop_task(refresher)

    def process(self, entries: list[Entry]) -> list[Opportunity]:
        """One read batch: apply views and results, price changed pairs, emit (no await)."""
        started = time.perf_counter()
        engine = self.engine
        now = time.time_ns()
        for entry in entries:
            if entry.payload is None:
                continue
            if entry.stream == EXECUTIONS_STREAM:
                try:
                    result = EXECUTION.decode(entry.payload)
                except msgspec.DecodeError as exc:
                    self._bad(entry, exc)
                    continue
                engine.resolve(result, now)
            else:
                view = self._apply_view_bytes(entry.payload, f"{entry.stream} {entry.id!r}")
                if view is not None:
                    metrics.VIEW_LAG.observe(max(0, now - view) / 1e9)
        detected = time.time_ns()
        # Stamped here, not in the engine: the read time is this batch's, the engine stays pure.
        found = [msgspec.structs.replace(o, ts_read=now) for o in engine.detect(detected)]
        self._emit(found)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.drain(engine)
        return found

    def _apply_view_bytes(self, payload: bytes, where: str) -> int | None:
        """Decode and apply one view; its ts_book if this instance owns it, else None."""
        try:
            view = BOOK.decode(payload)
        except msgspec.DecodeError as exc:
            metrics.BAD_MESSAGES.inc()
            log.error("undecodable book view at %s: %s; skipped", where, exc)
            return None
        return view.ts_book if self.engine.apply_view(view) else None

    def _emit(self, found: list[Opportunity]) -> None:
        for opportunity in found:
            self.producer.xadd(
                OPPORTUNITIES_STREAM, OPPORTUNITY.encode(opportunity), maxlen=OPPORTUNITIES_MAXLEN
            )
            metrics.DETECTION_LATENCY.observe(
                max(0, opportunity.ts_detect - opportunity.ts_recv) / 1e9
            )
        self.emitted += len(found)

    # -- reporting ------------------------------------------------------------------------

    def _bad(self, entry: Entry, exc: Exception) -> None:
        metrics.BAD_MESSAGES.inc()
        log.error("undecodable entry %r on %s: %s; skipped", entry.id, entry.stream, exc)

    def _once(self, key: str, message: str, *args: object) -> None:
        if key not in self._reported:
            self._reported.add(key)
            log.warning(message, *args)

    def _report_health(self) -> None:
        metrics.BOOKS.set(self.engine.book_count)
        if self.health is not None:
            health.report(
                self.health,
                self.engine,
                balance_source=self.settings.balance_source,
                shard=self.shard_label,
            )


async def main(ctx: ServiceContext) -> None:
    """The service body run by ``run_service``: claims an auto shard first if asked to."""
    settings: DetectorSettings = ctx.settings
    count = settings.auto_shard_count
    if count is None:
        await _serve(ctx, DetectorService(ctx.redis, ctx.producer, settings, ctx.health))
        return
    async with hold_shard(
        ctx.redis, ctx.stopping, service="detector", group=",".join(sorted(settings.venues)),
        count=count, instance=settings.instance, ttl_ms=settings.shard_lease_ms,
        health=ctx.health,
    ) as lease:  # fmt: skip
        if lease is None:
            return
        ctx.health.instance = process_instance(settings.instance, f"shard-{lease.index}")
        shard = settings.make_shard(lease.index)
        service = DetectorService(
            ctx.redis, ctx.producer, settings, ctx.health, shard, lease.describe()
        )
        await _serve(ctx, service)


async def _serve(ctx: ServiceContext, service: DetectorService) -> None:
    await service.start()
    ctx.health.set_ready(True)
    log.info(
        "detector (shard %s) reading %d venues, %d books loaded",
        service.shard_label,
        len(ctx.settings.venues),
        service.engine.book_count,
    )
    await service.run(ctx.stopping)
