"""LiveGateway: venue answers mapped to what the saga expects; balances cached and moved."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from arb_executor.live import LiveGateway
from arb_structs import BalanceSnapshot, OrderIntent, OrderReport
from arb_structs.trading import Balance, OrderStatus, Side
from arb_venues.base import Credentials, TradingClient
from arb_venues.errors import (
    InsufficientBalance,
    MalformedFrame,
    OrderRejected,
    RequestTimeout,
    VenueUnavailable,
)
from pydantic import SecretStr

pytestmark = pytest.mark.unit

INTENT = OrderIntent(venue="fake", symbol="BTC-USDT", side=Side.BUY, price="100", size="2",
                     client_order_id="cid-1")  # fmt: skip


class FakeClient(TradingClient):
    venue = "fake"

    def __init__(self, place: Any) -> None:
        super().__init__(None, Credentials("k", SecretStr("s")), {})  # type: ignore[arg-type]
        self.on_place = place
        self.gets = 0

    def report(self, fee_asset: str = "USDT") -> OrderReport:
        return OrderReport(venue="fake", symbol="BTC-USDT", side=Side.BUY,
                           client_order_id="cid-1", status=OrderStatus.FILLED, price="100",
                           size="2", filled_size="2", avg_price="100", fee="0.2",
                           fee_asset=fee_asset)  # fmt: skip

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        result = self.on_place()
        if isinstance(result, BaseException):
            raise result
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[no-any-return]

    async def get_order(self, symbol: str, client_order_id: str) -> OrderReport:
        self.gets += 1
        return self.report()

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        return self.report()

    async def recent_orders(self, symbols: Any, since_ns: int) -> list[OrderReport]:
        return [self.report()]

    async def balances(self) -> BalanceSnapshot:
        return BalanceSnapshot(venue="fake", ts=1, balances={
            "USDT": Balance(asset="USDT", free="1000"), "BTC": Balance(asset="BTC", free="1")
        })  # fmt: skip

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> str:
        return f"{opportunity_id}-{leg}"


async def test_unreadable_answer_to_a_place_is_ambiguous_not_a_rejection() -> None:
    gateway = LiveGateway(FakeClient(lambda: MalformedFrame("fake", "order", "bad json")))
    with pytest.raises(VenueUnavailable, match="unreadable answer"):
        await gateway.place(INTENT)


async def test_duplicate_client_id_answers_with_the_existing_order() -> None:
    client = FakeClient(lambda: OrderRejected("fake", "Duplicate order sent.", api_code=-2010))
    report = await LiveGateway(client).place(INTENT)
    assert client.gets == 1 and report.status is OrderStatus.FILLED


async def test_plain_rejections_pass_through_unchanged() -> None:
    gateway = LiveGateway(FakeClient(lambda: InsufficientBalance("fake", "no money")))
    with pytest.raises(InsufficientBalance):
        await gateway.place(INTENT)


async def test_a_call_that_hangs_past_the_backstop_is_a_timeout() -> None:
    gateway = LiveGateway(FakeClient(lambda: asyncio.sleep(5)), call_timeout_s=0.01)
    with pytest.raises(RequestTimeout):
        await gateway.place(INTENT)


async def test_transport_errors_below_the_client_become_venue_unavailable() -> None:
    gateway = LiveGateway(FakeClient(lambda: ConnectionResetError("reset by peer")))
    with pytest.raises(VenueUnavailable, match="ConnectionResetError"):
        await gateway.place(INTENT)


@pytest.mark.parametrize(("fee_asset", "btc", "usdt"), [
    ("USDT", Decimal(3), Decimal("799.8")), ("BTC", Decimal("2.8"), Decimal(800)),
])  # fmt: skip
async def test_a_fill_moves_the_cached_balances_at_once(
    fee_asset: str, btc: Decimal, usdt: Decimal
) -> None:
    client = FakeClient(lambda: None)
    client.on_place = lambda: client.report(fee_asset)
    gateway = LiveGateway(client)
    assert gateway.free("USDT") == 0  # nothing known before the first snapshot
    await gateway.snapshot()
    assert gateway.free("USDT") == 1000
    await gateway.place(INTENT)
    assert (gateway.free("BTC"), gateway.free("USDT")) == (btc, usdt)
