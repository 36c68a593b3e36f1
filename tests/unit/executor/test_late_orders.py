"""Orders the saga concluded were never placed, landing late (issue #7 item 4: "an order that
appears later is reconciled, not duplicated"). Fake venues in memory, no I/O."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import msgspec
import pytest
from arb_executor.journal import MemoryJournal
from arb_executor.latewatch import LateOrderWatcher
from arb_executor.risk import RiskLimits, RiskState
from arb_executor.saga import Saga, SagaPolicy
from arb_executor.watchstore import MemoryWatchStore
from arb_structs import ExecutionResult
from arb_structs.trading import ExecutionStatus, OrderStatus, Side

from tests.unit.executor.support import ScriptedGateway, opportunity

pytestmark = pytest.mark.unit


def policy(wait_s: float = 0.0, margin_s: float = 0.0) -> SagaPolicy:
    return SagaPolicy(query_attempts=2, query_delay_s=0.0, late_wait_s=wait_s,
                      late_margin_s=margin_s)  # fmt: skip


class Venues:
    """A held buy on binance, a normal sell on okx; the watch around them."""

    def __init__(self, *, window_s: float = 5.0, buy: str = "held", okx: list[str] | None = None,
                 wait_s: float = 0.0) -> None:  # fmt: skip
        self.binance = ScriptedGateway("binance", [buy], window_s=window_s)
        self.okx = ScriptedGateway("okx", okx or ["fill"], window_s=window_s)
        self.store = MemoryWatchStore()
        self.journal = MemoryJournal()
        self.published: list[ExecutionResult] = []
        self.policy = policy(wait_s)
        self.risk, self.saga, self.watcher = self.restart()

    def restart(self) -> tuple[RiskState, Saga, LateOrderWatcher]:
        """A new executor process: fresh risk state, saga and watcher on the same store."""
        risk = RiskState(RiskLimits(pair_cooldown_ns=0))
        gateways = {"binance": self.binance, "okx": self.okx}
        saga = Saga(gateways, self.journal, risk, self.policy, self.store)

        async def publish(result: ExecutionResult) -> None:
            self.published.append(result)

        return risk, saga, LateOrderWatcher(saga, self.store, publish, poll_s=0.01)


async def test_order_landing_while_the_saga_waits_out_its_window_is_not_hedged() -> None:
    v = Venues(window_s=0.3, wait_s=1.0)
    buy_id = v.saga.intents(opportunity())["buy"].client_order_id

    async def land_soon() -> None:
        await asyncio.sleep(0.1)
        v.binance.land(buy_id)

    lander = asyncio.create_task(land_soon())
    started = time.monotonic()
    result = await v.saga.execute(opportunity(), ts_received=1)
    await lander
    assert result.status is ExecutionStatus.FILLED, result
    assert [leg.role for leg in result.legs] == ["buy", "sell"]  # no hedge was sent
    assert v.binance.place_calls == [buy_id]
    assert not v.store.orders
    assert time.monotonic() - started < 1.0  # waited the window (0.3 s), not the max (1 s)


async def test_order_unknown_when_its_short_window_ends_is_hedged_and_not_watched() -> None:
    v = Venues(window_s=0.1, wait_s=1.0)
    result = await v.saga.execute(opportunity(), ts_received=1)
    assert [leg.role for leg in result.legs] == ["buy", "sell", "hedge"]
    assert result.legs[0].watch_until_ns == 0
    assert not v.store.orders  # its window has passed: it can no longer land


async def test_order_appearing_after_the_saga_hedged_is_reconciled_and_its_exposure_closed() -> (
    None
):
    v = Venues()
    opp = opportunity()
    result = await v.saga.execute(opp, ts_received=1)
    # The saga saw a short 0.5 (sell filled, buy unknown to the venue) and bought it back.
    assert [leg.role for leg in result.legs] == ["buy", "sell", "hedge"]
    assert result.status is ExecutionStatus.HEDGED
    buy_id = result.legs[0].intent.client_order_id
    assert result.legs[0].watch_until_ns > time.time_ns()
    (watched,) = v.store.orders.values()
    assert watched.intent.client_order_id == buy_id and watched.role == "buy"
    assert await v.watcher.tick() == 1 and not v.published  # not there yet: still watched

    v.binance.land(buy_id)  # the held buy reaches the venue after all: long 0.5 more
    assert await v.watcher.tick() == 0
    (late,) = v.published
    assert late.opportunity_id == opp.id
    assert late.status is ExecutionStatus.RECONCILED, late
    assert late.unhedged_size == "0"
    assert [leg.role for leg in late.legs] == ["buy", "late-buy-hedge"]
    hedge = late.legs[1]
    assert hedge.intent.venue == "okx" and hedge.intent.side is Side.SELL
    assert hedge.intent.price == "100.8"  # the sell leg's 101 less 20 bps
    assert hedge.report is not None and hedge.report.status is OrderStatus.FILLED
    # bought 0.5 @ 100 late, sold 0.5 @ 100.8: +0.4 (the fakes charge no fee)
    assert late.realised_pnl == "0.4"
    assert v.risk.daily_pnl == Decimal(result.realised_pnl) + Decimal("0.4")
    assert v.binance.place_calls.count(buy_id) == 1  # never sent twice
    assert not v.store.orders


async def test_late_fill_that_cannot_be_closed_is_unhedged_and_blocks_the_pair() -> None:
    v = Venues(okx=["fill", "reject"])  # the sell, then the reconciliation's hedge refused
    v.binance.script += ["fill", "reject"]  # the saga's hedge, then the late unwind refused
    result = await v.saga.execute(opportunity(), ts_received=1)
    v.binance.land(result.legs[0].intent.client_order_id)
    await v.watcher.tick()
    (late,) = v.published
    assert late.status is ExecutionStatus.UNHEDGED
    assert late.unhedged_size == "0.5"
    assert [leg.role for leg in late.legs] == ["buy", "late-buy-hedge", "late-buy-unwind"]
    later = opportunity("opp-2")
    free = lambda venue, asset: Decimal(10**6)  # noqa: E731
    assert v.risk.check(later, time.time_ns(), free, killed=False) == "pair_blocked"
    assert v.risk.exposure["BTC"] == Decimal("50")


async def test_watched_order_never_appearing_is_dropped_at_its_deadline() -> None:
    v = Venues(window_s=0.15)
    await v.saga.execute(opportunity(), ts_received=1)
    assert len(v.store.orders) == 1
    (watched,) = v.store.orders.values()
    if time.time_ns() < watched.deadline_ns:
        assert await v.watcher.tick() == 1  # before its deadline: kept
    await asyncio.sleep(max(0.0, (watched.deadline_ns - time.time_ns()) / 1e9) + 0.01)
    assert await v.watcher.tick() == 0
    assert not v.store.orders and not v.published
    assert v.watcher.dropped == 1


async def test_watch_is_persisted_and_resumed_by_a_restarted_executor() -> None:
    v = Venues()
    result = await v.saga.execute(opportunity(), ts_received=1)
    buy_id = result.legs[0].intent.client_order_id
    # The executor dies; the buy lands meanwhile; a new executor starts on the same store.
    v.binance.land(buy_id)
    risk, _, watcher = v.restart()
    stopping = asyncio.Event()
    task = asyncio.create_task(watcher.run(stopping))
    for _ in range(200):
        if v.published:
            break
        await asyncio.sleep(0.01)
    stopping.set()
    await task
    (late,) = v.published
    assert late.status is ExecutionStatus.RECONCILED and late.unhedged_size == "0"
    assert risk.daily_pnl == Decimal("0.4")
    assert not v.store.orders


async def test_reconciliation_resumed_after_a_crash_queries_its_hedge_and_never_resends_it() -> (
    None
):
    v = Venues()
    opp = opportunity()
    result = await v.saga.execute(opp, ts_received=1)
    buy_id = result.legs[0].intent.client_order_id
    v.binance.land(buy_id)
    (watched,) = v.store.orders.values()
    # A first executor journaled and sent the late hedge, then died before publishing.
    hedge = v.saga.intents(opp)["sell"]
    hedge = msgspec.structs.replace(hedge, price="100.8", client_order_id=v.saga._intent(
        opp, "late-buy-hedge", "okx", Side.SELL, "100.8", "0.5").client_order_id)  # fmt: skip
    await v.okx.place(hedge)
    await v.store.put(msgspec.structs.replace(watched, hedges={"late-buy-hedge": hedge}))

    _, _, watcher = v.restart()
    await watcher.tick()
    (late,) = v.published
    assert late.status is ExecutionStatus.RECONCILED and late.unhedged_size == "0"
    assert v.okx.place_calls.count(hedge.client_order_id) == 1
    assert hedge.client_order_id in v.okx.get_calls
