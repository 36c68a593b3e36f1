"""A held order that lands after the executor concluded it never did (issue #7 item 4): the
real executor service in live mode against the simulator over real sockets.

The simulator's "slow" fault holds the sell leg's request at the venue longer than the
executor's order timeout: the executor queries by client id, hears "no such order", hedges
the bought leg, and watches the sell. Then the held request reaches the matching engine and
fills (aiohttp lets a handler finish after its client went away). The watch must find it,
close the exposure it made and publish a reconciled result, with every client id used once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from arb_simulator import default_credentials
from arb_structs.constants import LATE_ORDERS_KEY
from arb_structs.trading import ExecutionStatus, OrderStatus, Side

from tests.integration.executor.live_support import (
    SimStack,
    live_executor,
    result_of,
    results,
    send,
    wait_for,
)
from tests.integration.executor.test_live_sim import _published, leg

pytestmark = pytest.mark.integration


def client_ids(stack: SimStack, venue: str) -> dict[str, str]:
    """Client order id -> order id of every order the venue accepted."""
    market: Any = stack.sim.venue_markets[venue]
    ids: dict[str, str] = market._client_ids.get(default_credentials(venue).api_key, {})
    return ids


async def test_held_order_landing_after_the_hedge_is_reconciled_not_duplicated(
    redis: aioredis.Redis, redis_url: str
) -> None:
    async with SimStack(["okx", "binance"]) as stack, live_executor(
        stack, redis, redis_url, order_timeout_s=0.4, late_order_wait_s=0.0,
        late_order_poll_ms=50.0,
    ):  # fmt: skip
        await wait_for(lambda: _published(redis, "okx", "binance"), what="first balances")
        posts_before = len([a for a in stack.answers["binance"] if a.method == "POST"])
        stack.arm("binance", "slow", delay_s=1.5, path="/api/v3/order", method="POST")  # the sell
        # Limits far through the touch: the held sell must still fill after the market moved.
        opp = stack.opportunity("live-late", "okx", "binance", cushion_bps=30)
        await send(redis, opp)

        saga = await result_of(redis, "live-late")
        sell = leg(saga, "sell")
        assert sell.report is None and "not placed" in sell.error, saga
        assert sell.watch_until_ns > 0
        assert saga.status is ExecutionStatus.HEDGED, saga  # the bought 0.001 sold on binance
        assert leg(saga, "hedge").intent.venue == "binance"
        assert await redis.hexists(LATE_ORDERS_KEY, sell.intent.client_order_id)  # type: ignore[misc]

        async def reconciled() -> Any:
            return next((r for r in await results(redis)
                         if r.status is not ExecutionStatus.HEDGED), None)  # fmt: skip

        late = await wait_for(reconciled, 10.0, "a result for the late sell")

        async def unwatched() -> bool:  # removed right after the result is published
            return not await redis.hlen(LATE_ORDERS_KEY)  # type: ignore[misc]

        await wait_for(unwatched, 5.0, "the late sell leaves the watch")
        binance_posts = [a for a in stack.answers["binance"] if a.method == "POST"][posts_before:]
        okx_ids, binance_ids = client_ids(stack, "okx"), client_ids(stack, "binance")
        okx_orders, binance_orders = stack.orders("okx"), stack.orders("binance")

    assert late.opportunity_id == "live-late"
    assert late.status is ExecutionStatus.RECONCILED, late
    assert late.unhedged_size == "0"
    first = late.legs[0]
    assert first.role == "sell" and first.report.status is OrderStatus.FILLED
    assert first.report.filled_size and Decimal(first.report.filled_size) == Decimal("0.001")
    hedge = leg(late, "late-sell-hedge")  # the late short bought back on okx
    assert hedge.intent.venue == "okx" and hedge.intent.side is Side.BUY
    assert hedge.report.status is OrderStatus.FILLED
    # Every order went out once under its own client id: buy + late hedge on okx, the held
    # sell + the saga's hedge on binance, and no other order POST reached binance.
    assert okx_orders == 2 and len(okx_ids) == 2
    assert binance_orders == 2 and len(binance_ids) == 2
    assert sell.intent.client_order_id in binance_ids
    assert len(binance_posts) == 2, binance_posts
