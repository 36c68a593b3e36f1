"""Paper fills charge the taker fee of the instrument of the venue traded (the one ingest
publishes with the account's fee), not one flat number for every venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_executor.gateway import PaperGateway
from arb_structs import Instrument, OrderIntent
from arb_structs.trading import OrderStatus, Side
from arb_venues import VENUE_NAMES, get_venue

from tests.unit.executor.support import Books, view

pytestmark = pytest.mark.unit

BOOKS = Books(*(view(v, bids=[(99.0, 5.0)], asks=[(100.0, 5.0)]) for v in VENUE_NAMES))


def listed(fees: dict[str, str]):
    async def instruments(venue: str, symbol: str) -> Instrument | None:
        if venue not in fees:
            return None
        return Instrument(venue=venue, symbol=symbol, venue_symbol=symbol, base="BTC",
                          quote="USDT", tick_size="0.01", lot_size="0.0001",
                          taker_fee=fees[venue])  # fmt: skip

    return instruments


def buy(venue: str, size: str = "2") -> OrderIntent:
    return OrderIntent(venue=venue, symbol="BTC-USDT", side=Side.BUY, price="100", size=size,
                       client_order_id=f"paper-{venue}")  # fmt: skip


async def test_each_venue_is_charged_its_own_instrument_fee() -> None:
    first, second = VENUE_NAMES[0], VENUE_NAMES[1]
    source = listed({first: "0.0026", second: "0.0004"})
    for venue, rate in ((first, "0.0026"), (second, "0.0004")):
        gateway = PaperGateway(venue, BOOKS, balances={"USDT": Decimal(1000)}, instruments=source)
        report = await gateway.place(buy(venue))
        assert report.status is OrderStatus.FILLED
        assert Decimal(report.fee) == Decimal(200) * Decimal(rate)  # 2 x 100 notional
        assert gateway.free("USDT") == Decimal(1000) - 200 - Decimal(report.fee)


async def test_until_ingest_published_an_instrument_the_venue_default_is_charged() -> None:
    venue = VENUE_NAMES[-1]
    gateway = PaperGateway(venue, BOOKS, balances={"USDT": Decimal(1000)}, instruments=listed({}))
    report = await gateway.place(buy(venue))
    assert Decimal(report.fee) == Decimal(200) * Decimal(get_venue(venue).taker_fee)


async def test_a_venue_with_no_instrument_and_no_spec_rejects_the_order() -> None:
    books = Books(view("elsewhere", bids=[(99.0, 5.0)], asks=[(100.0, 5.0)]))
    gateway = PaperGateway("elsewhere", books, balances={"USDT": Decimal(1000)})
    report = await gateway.place(buy("elsewhere"))
    assert report.status is OrderStatus.REJECTED and "no instrument" in report.reason
    assert gateway.free("USDT") == Decimal(1000)


async def test_paper_orders_are_remembered_in_bounded_memory() -> None:
    # A long run places orders forever: the gateway keeps the newest ``orders_kept`` reports
    # (a saga's own, retried or queried within seconds), not one per order since the start.
    venue = VENUE_NAMES[0]
    gateway = PaperGateway(venue, BOOKS, balances={"USDT": Decimal(10**9)}, orders_kept=50)
    reports = []
    for i in range(200):
        intent = OrderIntent(venue=venue, symbol="BTC-USDT", side=Side.BUY, price="100",
                             size="0.01", client_order_id=f"paper-{i}")  # fmt: skip
        reports.append(await gateway.place(intent))
    assert len(gateway.orders) == 50 and gateway.placed == 200
    assert await gateway.get("BTC-USDT", "paper-199") == reports[-1]
    assert "paper-0" not in gateway.orders
    again = OrderIntent(venue=venue, symbol="BTC-USDT", side=Side.BUY, price="100", size="0.01",
                        client_order_id="paper-190")  # fmt: skip
    assert await gateway.place(again) == reports[190] and gateway.placed == 200  # idempotent
