"""The executor stays available: a venue slow at start is refused, not fatal, and taken back;
SIGTERM with a saga in flight exits within its bound and leaves the saga recoverable."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from arb_structs.constants import OPEN_SAGAS_KEY, saga_key
from arb_structs.trading import ExecutionStatus

from tests.integration.executor.live_support import (
    SimStack,
    group_ready,
    live_executor,
    result_of,
    send,
    wait_for,
)
from tests.integration.executor.record_support import (
    engine_orders,
    net_base,
    spawn_executor,
    stop_executor,
)
from tests.support_redis import health_detail

pytestmark = pytest.mark.integration


async def test_venue_slow_at_start_is_refused_while_the_others_trade_then_taken_back(
    redis, redis_url
) -> None:
    async with SimStack(["binance", "okx", "bybit"]) as stack:
        # Every bybit call answers after 3 s (past the 2 s REST timeout) until cleared.
        stack.arm("bybit", "slow", delay_s=3.0, duration_s=120.0)
        started = time.monotonic()
        async with live_executor(stack, redis, redis_url, venue_start_timeout_s=1.0,
                                 degraded_retry_s=0.3):  # fmt: skip
            assert time.monotonic() - started < 10.0  # it did not wait for bybit to answer
            detail = await wait_for(lambda: _degraded(redis, "bybit"), 5.0, "bybit degraded")
            assert detail["degraded"] == "bybit"
            await send(redis, stack.opportunity("others", "binance", "okx"))
            assert (await result_of(redis, "others")).status is ExecutionStatus.FILLED
            await send(redis, stack.opportunity("on-slow", "bybit", "binance"))
            refused = await result_of(redis, "on-slow")
            assert (refused.status, refused.reason) == (ExecutionStatus.REFUSED, "venue_degraded")
            assert stack.orders("bybit") == 0
            stack.sim.faults["bybit"].clear()  # bybit answers again
            await wait_for(lambda: _degraded(redis, "none"), 15.0, "bybit taken back")
            await send(redis, stack.opportunity("taken-back", "bybit", "binance"))
            back = await result_of(redis, "taken-back")
        assert back.status is ExecutionStatus.FILLED, back
        assert stack.orders("bybit") == 1


async def _degraded(redis, value: str) -> dict[str, str] | None:
    detail = await health_detail(redis, "executor", "executor-live-test")
    return detail if detail.get("degraded") == value else None


async def test_sigterm_mid_saga_exits_within_its_bound_and_the_saga_is_recovered(
    redis, redis_url
) -> None:
    venues = ["binance", "okx"]
    async with SimStack(venues) as stack:
        proc = spawn_executor(stack.env(redis_url, "executor-stopping"), shutdown_timeout_s="1")
        try:
            await wait_for(lambda: group_ready(redis), 20.0, "executor ready")
            stack.arm("okx", "slow", delay_s=4.0, path="/api/v5/trade/order", method="POST")
            stack.arm("okx", "reject_order")  # the held sell is refused when it gets there
            await send(redis, stack.opportunity("stopped-mid-saga", "binance", "okx"))
            await wait_for(lambda: _filled(stack, "binance"), 10.0, "buy leg filled")
            asked = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 30)
            took = time.monotonic() - asked
        finally:
            log = await stop_executor(proc)
        # It did not wait for the held sell (4 s): the saga got its 1 s, then was handed off.
        assert code == 0 and took < 4.0, (code, took, log)
        assert await redis.sismember(OPEN_SAGAS_KEY, "stopped-mid-saga"), log  # type: ignore[misc]
        fields = await redis.hgetall(saga_key("stopped-mid-saga"))  # type: ignore[misc]
        assert {b"intent:buy", b"intent:sell"} <= set(fields)

        async with live_executor(stack, redis, redis_url, late_order_wait_s=0.0):
            result = await result_of(redis, "stopped-mid-saga", 20.0)
        assert result.reason.startswith("recovered after restart"), result
        assert result.status is ExecutionStatus.HEDGED, result
        buy_id = next(leg for leg in result.legs if leg.role == "buy").intent.client_order_id
        sent = [o.client_order_id for v in venues for o in engine_orders(stack, v)]
        assert sent.count(buy_id) == 1  # the buy was queried, never sent again
        assert net_base(stack, venues) == 0


async def _filled(stack: SimStack, venue: str) -> bool:
    return stack.orders(venue) >= 1
