"""Executor wiring: gateways (paper or live), journal, recovery of open sagas, then the
consumer group on the opportunities stream, beside the balance keeper and the late-order
watch (which resumes the orders an earlier executor left watched)."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from arb_runtime.service import ServiceContext
from arb_runtime.streams import GroupConsumer
from arb_runtime.tasks import stop_task
from arb_structs import BookView, ExecutionResult, Instrument
from arb_structs.codec import BOOK, EXECUTION, INSTRUMENT
from arb_structs.constants import (
    EXECUTIONS_MAXLEN,
    EXECUTIONS_STREAM,
    EXECUTOR_GROUP,
    OPPORTUNITIES_STREAM,
    book_latest_key,
    instruments_key,
)
from arb_venues import VENUE_NAMES

from arb_executor import health
from arb_executor.accounts import BalanceKeeper, close_all, live_gateways
from arb_executor.config import ExecutorSettings
from arb_executor.gateway import BookSource, InstrumentSource, OrderGateway, PaperGateway
from arb_executor.intake import Intake
from arb_executor.journal import RedisJournal
from arb_executor.latewatch import LateOrderWatcher
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
    """Finish every saga left open by a crash (no leg is ever re-placed)."""
    count = 0
    for opp, intents in await journal.open_sagas():
        missing = [i.venue for i in intents.values() if i.venue not in saga.gateways]
        if missing:
            log.error("%s: open saga on venues without a gateway %s; left open", opp.id, missing)
            continue
        result = await saga.recover(opp, intents)
        ctx.producer.xadd(EXECUTIONS_STREAM, EXECUTION.encode(result), maxlen=EXECUTIONS_MAXLEN)
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


async def run(ctx: ServiceContext, settings: ExecutorSettings,
              gateways: dict[str, OrderGateway]) -> None:  # fmt: skip
    journal = RedisJournal(ctx.redis)
    risk = build_risk(settings)
    policy = SagaPolicy(mode=settings.mode, max_slippage_bps=settings.max_slippage_bps,
                        query_attempts=settings.order_query_attempts,
                        query_delay_s=settings.order_query_delay_ms / 1000,
                        late_wait_s=settings.late_order_wait_s,
                        late_margin_s=settings.late_order_margin_s)  # fmt: skip
    watch = RedisWatchStore(ctx.redis)
    saga = Saga(gateways, journal, risk, policy, watch)
    store = RiskStore(ctx.redis)
    await store.load(risk, time.time_ns())  # daily loss, exposure, breakers, pair blocks
    recovered = await recover(ctx, saga, journal)
    await store.save(risk, time.time_ns())
    intake = Intake(ctx.redis, ctx.producer, saga, risk, gateways,
                    seen_ttl_ms=settings.seen_ttl_ms, mode=settings.mode,
                    store=store)  # fmt: skip
    consumer = GroupConsumer(ctx.redis, OPPORTUNITIES_STREAM, EXECUTOR_GROUP, settings.instance,
                             intake.handle, claim_idle_ms=settings.claim_idle_ms)  # fmt: skip
    health.started(ctx.health, settings.mode, sorted(gateways), recovered)
    keeper = BalanceKeeper(ctx.redis, gateways, settings.balance_refresh_s)
    balances = asyncio.create_task(keeper.run(ctx.stopping), name="executor-balances")

    async def publish(result: ExecutionResult) -> None:
        await intake.publish(result)
        await intake.publish_venue_balances(result.buy_venue, result.sell_venue)

    async def save_risk() -> None:
        await store.save(risk, time.time_ns())

    watcher = LateOrderWatcher(saga, watch, publish, poll_s=settings.late_order_poll_ms / 1000,
                               after_reconcile=save_risk)  # fmt: skip
    late = asyncio.create_task(watcher.run(ctx.stopping), name="executor-late-orders")
    try:
        await consumer.run(ctx.stopping)
    finally:
        await stop_task(balances)
        await stop_task(late)
