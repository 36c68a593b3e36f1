"""Redis killed -9 and restarted empty on its port mid-saga leaves no silent position.

The truth is the simulator's ledger: the engine's orders, base netted across both venues,
must come to zero (a hedge or unwind sent, or the position reported), never a naked leg.
"""

from __future__ import annotations

import asyncio
import signal
import time
from decimal import Decimal

import pytest
from arb_executor.ledger import Ledger
from arb_structs.constants import EXECUTOR_ORDERS_KEY, executor_ledger_key
from arb_structs.trading import ExecutionStatus

from tests.integration.executor.live_support import (
    SimStack,
    group_ready,
    live_executor,
    result_of,
    results,
    send,
    wait_for,
)
from tests.integration.executor.record_support import (
    disposable_redis,
    engine_orders,
    ledger_cash,
    net_base,
    open_exposure,
    spawn_executor,
    stop_executor,
)

pytestmark = pytest.mark.integration
VENUES = ["binance", "okx"]
FAST = {"reconcile_interval_s": 0.5, "reconcile_grace_s": 1.0}
OKX_ORDER = {"path": "/api/v5/trade/order", "method": "POST"}


async def test_hedge_goes_out_while_redis_is_down_and_the_record_comes_back_with_it() -> None:
    async with disposable_redis() as (server, redis), SimStack(VENUES) as stack, \
            live_executor(stack, redis, server.url, **FAST):  # fmt: skip
        stack.arm("okx", "slow", delay_s=1.0, **OKX_ORDER)  # the sell is held, then refused
        stack.arm("okx", "reject_order")
        opp = stack.opportunity("lost-redis", "binance", "okx")
        await send(redis, opp)
        await wait_for(lambda: _orders(stack, "binance", 1), 10.0, "buy leg filled")
        server.kill9()  # while the sell is held: the saga has to hedge with Redis gone
        await wait_for(lambda: _orders(stack, "okx", 1), 10.0, "hedge sent with Redis down")
        server.start_empty()
        result = await result_of(redis, "lost-redis", 15.0)
        assert result.status is ExecutionStatus.HEDGED, result
        assert net_base(stack, VENUES) == 0  # the venues agree: nothing naked
        # The journal's record of every order came back from the executor's memory, so the
        # reconciliation knows them and adopts nothing (no order beyond the saga's two).
        client_ids = [o.client_order_id for v in VENUES for o in engine_orders(stack, v)]
        for client_id in client_ids:
            assert await wait_for(lambda c=client_id: redis.zscore(EXECUTOR_ORDERS_KEY, c),
                                  5.0, f"{client_id} known again")  # fmt: skip
        await asyncio.sleep(2.0)  # past the adoption grace, several reconciliation rounds
        assert (stack.orders("binance"), stack.orders("okx")) == (1, 1)
        # one result, no adoption's, and no second copy of it: the results republished after
        # the empty restart are only those the new stream lacks
        assert [r.opportunity_id for r in await results(redis)] == ["lost-redis"]
        # The consumer group came back with the stream: the executor still trades.
        await send(redis, stack.opportunity("after-restart", "binance", "okx"))
        after = await result_of(redis, "after-restart", 15.0)
        assert after.status is ExecutionStatus.FILLED, after
        assert net_base(stack, VENUES) == 0


async def test_journal_lost_with_its_executor_is_rebuilt_from_the_venues() -> None:
    """kill -9 of the executor mid-saga, then of Redis: nothing anywhere records the bought
    leg. A new executor finds it at the venue by its client id, adopts it and closes it."""
    async with disposable_redis() as (server, redis), SimStack(VENUES) as stack:
        first = spawn_executor(stack.env(server.url, "executor-doomed"))
        try:
            await wait_for(lambda: group_ready(redis), 20.0, "first executor ready")
            stack.arm("okx", "slow", delay_s=2.0, **OKX_ORDER)
            stack.arm("okx", "reject_order")
            await send(redis, stack.opportunity("orphaned", "binance", "okx"))
            await wait_for(lambda: _orders(stack, "binance", 1), 10.0, "buy leg filled")
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 5)
        finally:
            await stop_executor(first)
        server.kill9()
        server.start_empty()
        assert net_base(stack, VENUES) == Decimal("0.001")  # a naked long, recorded nowhere

        async with live_executor(stack, redis, server.url, **FAST):

            async def adopted() -> object:
                found = [r for r in await results(redis) if r.opportunity_id.startswith("group:")]
                return found[0] if found else None

            result = await wait_for(adopted, 20.0, "adoption result")
        assert result.status is ExecutionStatus.RECONCILED, result
        assert "adopted" in result.reason and result.unhedged_size == "0"
        assert net_base(stack, VENUES) == 0  # closed at the venue
        orders = [o for v in VENUES for o in engine_orders(stack, v)]
        assert Decimal(result.realised_pnl) == ledger_cash(orders)  # flat: PnL is the cash
        assert await open_exposure(redis) == []


async def test_a_rebuilt_ledger_does_not_roll_past_an_order_adoption_has_not_seen() -> None:
    """arb chaos seed 1: a new executor rebuilt the ledger (Redis empty: the orphan's fill is
    among the orders it explains), then rolled the baseline to now in its quiet period, before
    adoption looked; the listing then started after the orphan, which was never adopted and
    whose fill stayed in the baseline, silent. Until the orphan is adopted the baseline must
    stay before it (the listing margin is 60 s, so here the roll itself is the witness)."""
    async with disposable_redis() as (server, redis), SimStack(VENUES) as stack:
        first = spawn_executor(stack.env(server.url, "executor-doomed"))
        try:
            await wait_for(lambda: group_ready(redis), 20.0, "first executor ready")
            stack.arm("okx", "slow", delay_s=2.0, **OKX_ORDER)
            stack.arm("okx", "reject_order")
            await send(redis, stack.opportunity("orphan", "binance", "okx"))
            await wait_for(lambda: _orders(stack, "binance", 1), 10.0, "buy leg filled")
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 5)
        finally:
            await stop_executor(first)
        filled_by = time.time_ns()
        server.kill9()
        server.start_empty()
        baselines: list[int] = []

        async def adopted() -> object:
            # the ledger first: with no result after it, it was read before the adoption
            # (which may roll the baseline right after publishing)
            raw = await redis.hgetall(executor_ledger_key("binance"))
            found = [r for r in await results(redis) if r.opportunity_id.startswith("group:")]
            if found:
                return found[0]
            if raw:
                baselines.append(Ledger.from_fields("binance", raw).ts)
            return None

        async with live_executor(stack, redis, server.url, reconcile_interval_s=0.2,
                                 reconcile_grace_s=3.0):  # fmt: skip
            result = await wait_for(adopted, 25.0, "adoption result")
        assert baselines, "the ledger was never rebuilt"
        assert max(baselines) < filled_by, "rolled past the orphan before adopting it"
        assert "adopted" in result.reason  # type: ignore[attr-defined]
        assert net_base(stack, VENUES) == 0


async def _orders(stack: SimStack, venue: str, count: int) -> bool:
    return stack.orders(venue) >= count
