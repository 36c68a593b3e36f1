"""Risk state survives an executor restart: daily loss, exposure, breakers, pair blocks."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from arb_executor.app import main as app_main
from arb_executor.config import ExecutorSettings
from arb_executor.risk import RiskLimits, RiskState
from arb_executor.riskstore import RiskStore
from arb_runtime.service import serve
from arb_runtime.streams import StreamProducer
from arb_structs.codec import BOOK
from arb_structs.constants import book_latest_key

from tests.integration.executor.live_support import group_ready, result_of, send, wait_for
from tests.unit.executor.support import opportunity, view

pytestmark = pytest.mark.integration


async def run_executor(redis: aioredis.Redis, redis_url: str, opp_id: str, **opp: str) -> str:
    """Start a paper executor, feed it one opportunity, stop it; the result's reason."""
    settings = ExecutorSettings(
        redis_url=redis_url, instance="executor-risk", pair_cooldown_ms=0,
        daily_loss_limit=Decimal("0.5"),
        paper_balances={"binance": {"USDT": "1000"}, "okx": {"BTC": "1"}},
    )  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(serve("executor", settings, app_main, stopping))
    try:
        await wait_for(lambda: group_ready(redis), 10.0, "executor ready")
        await send(redis, opportunity(opp_id, **opp))
        result = await result_of(redis, opp_id)
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
    return f"{result.status.value}:{result.reason}"


async def test_daily_loss_limit_still_refuses_after_a_restart(
    redis: aioredis.Redis, redis_url: str
) -> None:
    # Buy at 100 on binance, sell at 99 on okx: a losing trade (books say so).
    await redis.hset(
        book_latest_key("binance"),
        "BTC-USDT",
        BOOK.encode(view("binance", bids=[(99.0, 1.0)], asks=[(100.0, 1.0)])),
    )
    await redis.hset(book_latest_key("okx"), "BTC-USDT",
                     BOOK.encode(view("okx", bids=[(99.0, 1.0)], asks=[(101.0, 1.0)])))  # fmt: skip
    lost = await run_executor(redis, redis_url, "opp-loss", sell_price="99.00")
    assert lost == "filled:"  # realised about -0.6 (0.5 BTC, 1.00 spread, fees) > 0.5 limit
    after_restart = await run_executor(redis, redis_url, "opp-next", sell_price="99.00")
    assert after_restart == "refused:daily_loss"


async def test_two_replicas_add_up_losses_and_keep_the_later_breaker(
    redis: aioredis.Redis,
) -> None:
    """Two RiskStores (two replicas, each with its own write queue) on one Redis: the day's
    losses add up exactly (integer units, HINCRBY), the later breaker/block deadline wins."""
    now = time.time_ns()
    producers = [StreamProducer(redis), StreamProducer(redis)]
    states = []
    for producer in producers:
        state = RiskState(RiskLimits())
        state.sink = RiskStore(producer)
        states.append(state)
    for i in range(40):  # interleaved: last-writer-wins would keep one replica's figure
        states[i % 2].traded(opportunity(f"t{i}"), now, Decimal("-0.12345678"))
    states[0].rate_limited("okx", now, 60.0)
    states[1].rate_limited("okx", now, 5.0)  # earlier deadline: must not shorten the pause
    states[1].unhedged(opportunity("b"), now, Decimal("0.25"))
    for producer in producers:
        await producer.flush()
        await producer.close()

    after = RiskState(RiskLimits())
    await RiskStore(StreamProducer(redis)).load(redis, after, now)
    assert after.daily_pnl == Decimal("-0.12345678") * 40
    assert after.breaker_until == {"okx": now + 60 * 10**9}
    assert set(after.pair_blocked_until) == {("BTC-USDT", "binance", "okx")}
    later = RiskState(RiskLimits())
    await RiskStore(StreamProducer(redis)).load(redis, later, now + 2 * 3600 * 10**9)
    assert not later.pair_blocked_until and not later.breaker_until  # expired: not applied
