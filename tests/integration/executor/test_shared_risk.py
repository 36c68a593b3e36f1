"""Two executor processes against one daily loss limit: the limit is the deployment's.

Each trade loses (bought at one venue's ask, sold at the other's bid, both taker fees). The
losses are read from the simulator's ledger, not from the engine: a trade may start only
while the loss of every trade before it, whichever replica made it, is under the limit.
With per-process risk (the old last-writer-wins hashes) each replica would trade until its
own losses reached the limit: about twice as many trades.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_structs.constants import EXECUTOR_GROUP, OPPORTUNITIES_STREAM
from arb_structs.trading import ExecutionStatus

from tests.integration.executor.live_support import SimStack, group_ready, result_of, send, wait_for
from tests.integration.executor.record_support import (
    engine_orders,
    ledger_cash,
    spawn_executor,
    stop_executor,
)

pytestmark = pytest.mark.integration
LIMIT = Decimal("3")  # each trade of 0.01 BTC loses about 1.4 USDT here
VENUES = ["binance", "okx"]


async def test_two_replicas_stop_at_one_shared_daily_loss_limit(redis, redis_url) -> None:
    async with SimStack(VENUES, volatility=0.0) as stack:
        procs = [
            spawn_executor(stack.env(redis_url, name), daily_loss_limit=str(LIMIT))
            for name in ("executor-a", "executor-b")
        ]
        try:
            await wait_for(lambda: group_ready(redis), 30.0, "executors ready")
            await wait_for(lambda: _consumers(redis, 2), 30.0, "both replicas reading")
            executed, refused = [], []
            for i in range(7):
                opp = stack.opportunity(f"loss-{i}", "binance", "okx", size="0.01")
                await send(redis, opp)
                result = await result_of(redis, opp.id, 20.0)
                (refused if result.status is ExecutionStatus.REFUSED else executed).append(result)
        finally:
            logs = [await stop_executor(p) for p in procs]
    assert all(r.reason == "daily_loss" for r in refused), refused
    losses = {}
    for result in executed:
        ids = {leg.intent.client_order_id for leg in result.legs}
        orders = [o for v in VENUES for o in engine_orders(stack, v) if o.client_order_id in ids]
        losses[result.opportunity_id] = -ledger_cash(orders)
    assert all(loss > 0 for loss in losses.values()), losses
    # Every trade began under the limit (counting both replicas' trades) ...
    total = Decimal(0)
    for result in sorted(executed, key=lambda r: r.ts_received):
        assert total < LIMIT, (losses, logs)
        total += losses[result.opportunity_id]
    # ... and once the deployment's loss reached it, no replica traded any more.
    assert total >= LIMIT and refused, (losses, logs)
    assert all(r.ts_received > max(e.ts_done for e in executed) for r in refused)
    assert {r.executor for r in executed} == {"executor-a", "executor-b"}, executed
    assert {r.executor for r in refused} == {"executor-a", "executor-b"}, refused


async def _consumers(redis, count: int) -> bool:
    return len(await redis.xinfo_consumers(OPPORTUNITIES_STREAM, EXECUTOR_GROUP)) >= count
