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


async def test_exposure_breakers_and_pair_blocks_round_trip_and_expire(
    redis: aioredis.Redis,
) -> None:
    now = time.time_ns()
    before = RiskState(RiskLimits())
    before.traded(opportunity("a"), now, Decimal("-12.5"))
    before.unhedged(opportunity("b"), now, Decimal("0.25"))  # blocks the pair, adds exposure
    before.breaker_until["okx"] = now + 60 * 10**9
    before.breaker_until["bybit"] = now - 1  # already closed: not kept
    await RiskStore(redis).save(before, now)

    after = RiskState(RiskLimits())
    await RiskStore(redis).load(after, now)
    assert after.daily_pnl == Decimal("-12.5")
    assert after.exposure == {"BTC": Decimal("25.000")}
    assert after.breaker_until == {"okx": now + 60 * 10**9}
    assert after.pair_blocked_until == before.pair_blocked_until
    later = RiskState(RiskLimits())
    await RiskStore(redis).load(later, now + 2 * 3600 * 10**9)  # blocks last an hour
    assert not later.pair_blocked_until and not later.breaker_until
