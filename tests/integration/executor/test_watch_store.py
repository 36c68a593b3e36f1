"""The late-order watch kept in a real Redis survives the executor that wrote it."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from arb_executor.journal import MemoryJournal
from arb_executor.latewatch import LateOrderWatcher
from arb_executor.risk import RiskState
from arb_executor.saga import Saga, SagaPolicy
from arb_executor.watchstore import RedisWatchStore
from arb_structs import ExecutionResult
from arb_structs.constants import LATE_ORDERS_KEY
from arb_structs.trading import ExecutionStatus

from tests.unit.executor.support import ScriptedGateway, opportunity

pytestmark = pytest.mark.integration

POLICY = SagaPolicy(query_attempts=1, query_delay_s=0.0, late_wait_s=0.0)


async def test_watched_order_written_by_one_executor_is_reconciled_by_the_next(
    redis: aioredis.Redis,
) -> None:
    binance = ScriptedGateway("binance", ["held"], window_s=30.0)
    okx = ScriptedGateway("okx", [], window_s=30.0)
    gateways = {"binance": binance, "okx": okx}
    first = Saga(gateways, MemoryJournal(), RiskState(), POLICY, RedisWatchStore(redis))
    result = await first.execute(opportunity(), ts_received=1)
    buy_id = result.legs[0].intent.client_order_id
    assert await redis.hexists(LATE_ORDERS_KEY, buy_id)  # type: ignore[misc]

    binance.land(buy_id)  # lands while no executor runs
    published: list[ExecutionResult] = []

    async def publish(r: ExecutionResult) -> None:
        published.append(r)

    store = RedisWatchStore(redis)  # a new process: nothing but what Redis kept
    (loaded,) = await store.all()
    assert loaded.intent.client_order_id == buy_id and loaded.opportunity.id == "opp-1"
    second = Saga(gateways, MemoryJournal(), RiskState(), POLICY, store)
    assert await LateOrderWatcher(second, store, publish).tick() == 0
    (late,) = published
    assert late.status is ExecutionStatus.RECONCILED and late.unhedged_size == "0"
    assert not await redis.exists(LATE_ORDERS_KEY)
