"""Executor wiring: gateways (paper or live), journal, recovery of open sagas, then the
consumer group on the opportunities stream, beside the balance keeper, the late-order watch,
the reconciliation against the venues (live), the resolver of open sagas and the Redis
watch. SIGTERM: no new opportunity is taken; the saga in flight gets ``shutdown_timeout_s``
to finish, then it is stopped and left journaled (its owner's next start, or another
replica once this one's health key expired, recovers it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from arb_runtime.durability import probe
from arb_runtime.service import ServiceContext
from arb_runtime.streams import GroupConsumer
from arb_runtime.tasks import stop_task
from arb_structs import BookView, ExecutionResult, Instrument
from arb_structs.codec import BOOK, EXECUTION, INSTRUMENT
from arb_structs.constants import (
    EXECUTIONS_MAXLEN,
    EXECUTIONS_STREAM,
    EXECUTOR_GROUP,
    EXPOSURE_OPEN_KEY,
    OPPORTUNITIES_STREAM,
    book_latest_key,
    instruments_key,
)
from arb_venues import VENUE_NAMES

from arb_executor import health
from arb_executor.accounts import BalanceKeeper, close_all, live_gateways
from arb_executor.adopt import Adopter
from arb_executor.config import ExecutorSettings
from arb_executor.exposure import ExposureBook, decode_registry
from arb_executor.gateway import BookSource, InstrumentSource, OrderGateway, PaperGateway
from arb_executor.intake import Intake
from arb_executor.journal import RedisJournal
from arb_executor.latewatch import LateOrderWatcher
from arb_executor.layout import migrate as migrate_layout
from arb_executor.live import LiveGateway
from arb_executor.reconcile import ReconcilePolicy, Reconciler
from arb_executor.resolver import Resolver, owner_alive
from arb_executor.risk import RiskLimits, RiskState
from arb_executor.riskstore import RiskStore
from arb_executor.saga import Saga, SagaPolicy
from arb_executor.watchstore import RedisWatchStore

log = logging.getLogger("arb.executor")

DEFAULT_PAPER_BALANCES = {"USDT": Decimal(100_000), "USD": Decimal(100_000), "BTC": Decimal(2),
                          "ETH": Decimal(20), "SOL": Decimal(500)}  # fmt: skip


def redis_books(redis: aioredis.Redis) -> BookSource:
    r: Any = redis  # bytes replies (no decode_responses)

    async def latest(venue: str, symbol: str) -> BookView | None:
        raw: bytes | None = await r.hget(book_latest_key(venue), symbol)
        return BOOK.decode(raw) if raw else None

    return latest


def redis_instruments(redis: aioredis.Redis, refresh_s: float = 5.0) -> InstrumentSource:
    """The instruments ingest publishes (``arb:ref:instruments:{venue}``), each re-read at
    most every ``refresh_s`` (they change when ingest restarts, e.g. with other fees)."""
    r: Any = redis  # bytes replies
    cache: dict[tuple[str, str], tuple[float, Instrument | None]] = {}

    async def instrument(venue: str, symbol: str) -> Instrument | None:
        now = time.monotonic()
        hit = cache.get((venue, symbol))
        if hit is not None and now - hit[0] < refresh_s:
            return hit[1]
        raw: bytes | None = await r.hget(instruments_key(venue), symbol)
        value = INSTRUMENT.decode(raw) if raw else None
        cache[(venue, symbol)] = (now, value)
        return value

    return instrument


def paper_gateways(
    settings: ExecutorSettings, books: BookSource, instruments: InstrumentSource | None = None
) -> dict[str, OrderGateway]:
    balances = settings.paper_balances or {v: DEFAULT_PAPER_BALANCES for v in VENUE_NAMES}
    return {
        venue: PaperGateway(
            venue,
            books,
            balances=assets,
            instruments=instruments,
            latency_s=settings.paper_latency_ms / 1000,
            fill_ratio=settings.paper_fill_ratio,
            orders_kept=settings.paper_orders_kept,
        )
        for venue, assets in balances.items()
    }


def build_risk(settings: ExecutorSettings) -> RiskState:
    return RiskState(RiskLimits(
        max_notional=settings.max_notional, max_open_exposure=settings.max_open_exposure,
        daily_loss_limit=settings.daily_loss_limit,
        pair_cooldown_ns=settings.pair_cooldown_ms * 1_000_000,
        breaker_errors=settings.breaker_errors,
        breaker_cooldown_ns=int(settings.breaker_cooldown_s * 1e9),
        unhedged_block_ns=int(settings.unhedged_block_s * 1e9),
    ))  # fmt: skip


async def recover(ctx: ServiceContext, saga: Saga, journal: RedisJournal) -> int:
    """Finish every saga a crash left open, this instance's and those of executors that are
    not running (no leg is ever re-placed); a live replica's are left to it."""
    count = 0
    instance = ctx.settings.instance
    for open_saga in await journal.open_sagas():
        opp, intents = open_saga.opportunity, open_saga.intents
        if open_saga.owner not in ("", instance) and await owner_alive(ctx.redis, open_saga.owner):
            continue
        missing = [i.venue for i in intents.values() if i.venue not in saga.gateways]
        if missing:
            log.error("%s: open saga on venues without a gateway %s; left open", opp.id, missing)
            continue
        journal.take(open_saga)
        result = await saga.recover(opp, intents, open_saga.previous)
        payload = EXECUTION.encode(result)
        ctx.producer.xadd(EXECUTIONS_STREAM, payload, maxlen=EXECUTIONS_MAXLEN)
        journal.published(payload)
        log.warning("%s: open saga recovered: %s", opp.id, result.status.value)
        count += 1
    await ctx.producer.flush()
    return count


async def main(ctx: ServiceContext) -> None:
    settings: ExecutorSettings = ctx.settings
    gateways: dict[str, OrderGateway]
    if settings.mode == "live":
        gateways = dict(await live_gateways(settings, ctx.redis))
    else:
        gateways = paper_gateways(settings, redis_books(ctx.redis), redis_instruments(ctx.redis))
    try:
        await run(ctx, settings, gateways)
    finally:
        await close_all(gateways)


def reconcile_symbols(settings: ExecutorSettings, gateways: dict[str, LiveGateway]) -> list[str]:
    if settings.reconcile_symbols:
        return list(settings.reconcile_symbols)
    symbols: set[str] = set()
    for gateway in gateways.values():
        symbols |= set(gateway.client.instruments)
    return sorted(symbols)


async def run(ctx: ServiceContext, settings: ExecutorSettings,
              gateways: dict[str, OrderGateway]) -> None:  # fmt: skip
    instance = settings.instance
    await migrate_layout(ctx.redis)  # before any executor key is read or written
    books = redis_books(ctx.redis)
    journal = RedisJournal(ctx.redis, ctx.producer, instance=instance,
                           lookback_ns=int(settings.reconcile_lookback_s * 1e9),
                           keep_ms=settings.saga_keep_ms,
                           durability=await probe(ctx.redis))  # fmt: skip
    store = RiskStore(ctx.producer)
    risk = build_risk(settings)
    risk.sink = store
    exposure = ExposureBook(ctx.producer, instance)
    policy = SagaPolicy(mode=settings.mode, max_slippage_bps=settings.max_slippage_bps,
                        query_attempts=settings.order_query_attempts,
                        query_delay_s=settings.order_query_delay_ms / 1000,
                        late_wait_s=settings.late_order_wait_s,
                        late_margin_s=settings.late_order_margin_s)  # fmt: skip
    watch = RedisWatchStore(ctx.redis, ctx.producer)
    saga = Saga(gateways, journal, risk, policy, watch, exposure=exposure, marks=books,
                instance=instance)  # fmt: skip
    await store.load(ctx.redis, risk, time.time_ns())  # the day's PnL, breakers, pair blocks
    exposure.replace(decode_registry(await ctx.redis.hgetall(EXPOSURE_OPEN_KEY)))
    exposure.apply(risk)
    recovered = await recover(ctx, saga, journal)

    async def publish(result: ExecutionResult) -> None:
        await intake.publish(result)
        await intake.publish_venue_balances(result.buy_venue, result.sell_venue)

    live = {v: g for v, g in gateways.items() if isinstance(g, LiveGateway)}
    reconciler = None
    if live:
        reconciler = Reconciler(
            ctx.redis, live, journal, Adopter(saga, publish), exposure, risk, store, books,
            reconcile_symbols(settings, live),
            ReconcilePolicy(interval_s=settings.reconcile_interval_s,
                            lookback_s=settings.reconcile_lookback_s,
                            grace_s=settings.reconcile_grace_s, roll_s=settings.reconcile_roll_s,
                            tolerance=settings.reconcile_tolerance),
        )  # fmt: skip
        await reconciler.check_epoch()
    intake = Intake(ctx.redis, ctx.producer, saga, risk, gateways,
                    seen_ttl_ms=settings.seen_ttl_ms, mode=settings.mode, store=store,
                    exposure=exposure, instance=instance,
                    on_fault=reconciler.trigger if reconciler else None,
                    on_published=journal.published)  # fmt: skip
    consumer = GroupConsumer(ctx.redis, OPPORTUNITIES_STREAM, EXECUTOR_GROUP, instance,
                             intake.handle, claim_idle_ms=settings.claim_idle_ms)  # fmt: skip
    resolver = Resolver(ctx.redis, saga, journal, publish, instance=instance,
                        poll_s=settings.resolve_poll_s,
                        quiet=lambda: reconciler is not None and
                        time.time_ns() < reconciler.quiet_until)  # fmt: skip
    keeper = BalanceKeeper(ctx.producer, gateways, settings.balance_refresh_s,
                           settings.degraded_retry_s)  # fmt: skip
    watcher = LateOrderWatcher(saga, watch, publish, poll_s=settings.late_order_poll_ms / 1000)
    health.started(ctx.health, settings.mode, sorted(gateways), recovered)
    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(keeper.run(ctx.stopping), name="executor-balances"),
        asyncio.create_task(watcher.run(ctx.stopping), name="executor-late-orders"),
        asyncio.create_task(resolver.run(ctx.stopping), name="executor-resolver"),
        asyncio.create_task(_health(ctx, gateways, exposure, risk), name="executor-health"),
    ]
    if reconciler is not None:
        tasks.append(asyncio.create_task(reconciler.run(ctx.stopping), name="executor-reconcile"))
        tasks.append(asyncio.create_task(reconciler.watch_redis(ctx.stopping),
                                         name="executor-redis-watch"))  # fmt: skip
    try:
        await bounded_consume(consumer.run, ctx.stopping, settings.shutdown_timeout_s)
    finally:
        for task in tasks:
            await stop_task(task)


async def bounded_consume(consume: Callable[[asyncio.Event], Awaitable[None]],
                          stopping: asyncio.Event, timeout_s: float) -> None:  # fmt: skip
    """Run the consumer until ``stopping``; then give its saga in flight ``timeout_s``."""
    task = asyncio.ensure_future(consume(stopping))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout_s)
            if not done:
                log.error("stopping: the saga in flight did not finish within %.1fs; stopped "
                          "and left journaled for recovery", timeout_s)  # fmt: skip
        if task.done():
            task.result()
    finally:
        stop.cancel()
        await stop_task(task)


async def _health(ctx: ServiceContext, gateways: dict[str, OrderGateway],
                  exposure: ExposureBook, risk: RiskState) -> None:  # fmt: skip
    """Executor details for ``arb status``: degraded venues, open exposure, the day's loss."""
    while True:
        degraded = sorted(v for v, g in gateways.items() if getattr(g, "degraded", False))
        ctx.health.set_detail("degraded", ",".join(degraded) or "none")
        ctx.health.set_detail("exposure", exposure.summary())
        ctx.health.set_detail("daily_loss", str(risk.loss()))
        ctx.health.set_detail("blocked_assets", ",".join(sorted(risk.blocked_assets)) or "none")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stopping.wait(), 1.0)
        if ctx.stopping.is_set():
            return
