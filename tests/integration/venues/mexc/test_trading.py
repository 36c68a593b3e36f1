"""MexcTrading against the MEXC simulator over real sockets: every request signed (HMAC-SHA256
over the total params) and verified by the server; orders placed, read back, cancelled and
listed, each checked against the simulator's own ledger."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    RequestTimeout,
    UnknownOrder,
    VenueUnavailable,
)
from arb_venues.mexc.errors import error_mapper
from arb_venues.mexc.sim.app import create_app
from arb_venues.mexc.trading import MexcTrading
from pydantic import SecretStr

from tests.unit.venues.mexc.helpers import BTC_USDT

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"


def _market() -> VenueMarket:
    account = Account("key-1", "secret-1", None, {"USDT": "100000", "BTC": "1"})
    market = venue_market("mexc", instruments=[BTC_USDT], accounts=[account])
    market.set_book(SYMBOL, bids=[("60000", "1"), ("59999", "2")],
                    asks=[("60001", "0.5"), ("60002", "3")])  # fmt: skip
    return market


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = _market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def _client(url: str, market: VenueMarket, secret: str = "secret-1") -> MexcTrading:
    rest = RestClient("mexc", url, request=ONCE, error_mapper=error_mapper())
    return MexcTrading(rest, Credentials("key-1", SecretStr(secret)), market.instruments)


def _intent(client_id: str, side: Side, price: str, size: str, tif: str = "IOC") -> OrderIntent:
    return OrderIntent(venue="mexc", symbol=SYMBOL, side=side, price=price, size=size,
                       client_order_id=client_id, time_in_force=tif)  # fmt: skip


async def test_ioc_places_fills_and_reads_back_as_the_ledger_has_it(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        since = time.time_ns() - 1_000_000_000
        report = await client.place_order(_intent("arbioc1", Side.BUY, "60002", "0.7"))
        [order] = market.orders("key-1")
        assert report.status is OrderStatus.FILLED and order.filled == Decimal("0.7")
        assert Decimal(report.filled_size) == order.filled
        assert Decimal(report.quote_filled) == order.quote_filled  # 0.5 @ 60001 + 0.2 @ 60002
        assert Decimal(report.fee) == order.fee > 0
        assert report.fee_asset == order.fee_asset == "USDT"  # MEXC charges the quote
        again = await client.get_order(SYMBOL, "arbioc1")
        assert (again.status, again.filled_size, again.fee) == (
            report.status, report.filled_size, report.fee)  # fmt: skip
        listed = await client.recent_orders([SYMBOL], since)
        assert [(r.client_order_id, r.fee) for r in listed] == [("arbioc1", report.fee)]
        balances = (await client.balances()).balances
        for asset in ("BTC", "USDT"):
            free, locked = market.balances("key-1")[asset]
            assert Decimal(balances[asset].free) == free
            assert Decimal(balances[asset].locked) == locked
    finally:
        await client.rest.close()


async def test_an_ioc_remainder_is_cancelled_with_its_fill(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        report = await client.place_order(_intent("arbioc2", Side.BUY, "60001", "1"))
        order = market.get_order("key-1", SYMBOL, "arbioc2")
        assert order is not None and order.filled == Decimal("0.5")  # 0.5 offered at 60001
        assert report.status is OrderStatus.CANCELED and Decimal(report.filled_size) == order.filled
        assert report.reason  # PARTIALLY_CANCELED says so
    finally:
        await client.rest.close()


async def test_a_resting_order_is_cancelled_and_unknown_ids_are_unknown(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        resting = await client.place_order(_intent("arbgtc1", Side.BUY, "59000", "0.1", "GTC"))
        assert resting.status is OrderStatus.NEW
        cancelled = await client.cancel_order(SYMBOL, "arbgtc1")
        assert cancelled.status is OrderStatus.CANCELED and cancelled.filled_size == "0"
        assert market.get_order("key-1", SYMBOL, "arbgtc1").status == "canceled"  # type: ignore[union-attr]
        with pytest.raises(UnknownOrder):
            await client.get_order(SYMBOL, "neverplaced")
        with pytest.raises(UnknownOrder):
            await client.cancel_order(SYMBOL, "arbgtc1")  # closed: nothing to cancel
    finally:
        await client.rest.close()


async def test_the_server_refuses_a_wrong_secret_and_nothing_trades(served) -> None:
    market, url = served
    client = _client(url, market, secret="not-the-secret")
    try:
        with pytest.raises(InvalidSignature, match="Signature for this request is not valid"):
            await client.place_order(_intent("arbbad1", Side.BUY, "60001", "0.1"))
        assert market.orders("key-1") == []
    finally:
        await client.rest.close()


async def test_a_stale_timestamp_is_refused_and_nothing_trades(served) -> None:
    market, url = served
    client = _client(url, market)
    client.rest.clock.offset_ns = -10_000_000_000  # 10 s behind: past recvWindow
    try:
        with pytest.raises(Exception, match="recvWindow") as info:
            await client.place_order(_intent("arbold1", Side.BUY, "60001", "0.1"))
        assert info.value.api_code == 700003  # type: ignore[attr-defined]
        assert market.orders("key-1") == []
    finally:
        await client.rest.close()


async def test_insufficient_balance_is_its_own_error(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        with pytest.raises(InsufficientBalance):
            await client.place_order(_intent("arbbig1", Side.SELL, "59000", "50"))
    finally:
        await client.rest.close()


async def test_a_lost_answer_is_unknown_and_the_order_is_found_by_client_id(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        market.armed_faults.arm("lose_response")
        with pytest.raises((RequestTimeout, VenueUnavailable)):  # unknown, never a rejection
            await client.place_order(_intent("arblost1", Side.BUY, "60001", "0.1"))
        found = await client.get_order(SYMBOL, "arblost1")
        order = market.get_order("key-1", SYMBOL, "arblost1")
        assert order is not None and Decimal(found.filled_size) == order.filled == Decimal("0.1")
        assert Decimal(found.fee) == order.fee and found.fee_asset == "USDT"
    finally:
        await client.rest.close()


async def test_history_pages_through_more_orders_than_one_answer_holds(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        since = time.time_ns() - 1_000_000_000
        for i in range(105):  # with fills: more trades than one myTrades page of 100
            market.place_order("key-1", SYMBOL, Side.SELL, Decimal("59000"), Decimal("0.0001"),
                               "IOC", f"manual{i}")  # fmt: skip
        listed = await client.recent_orders([SYMBOL], since)
        assert sorted(r.client_order_id for r in listed) == sorted(
            o.client_order_id for o in market.orders("key-1")
        )
        assert len(listed) == 105
        assert sum(Decimal(r.fee) for r in listed) == sum(o.fee for o in market.orders("key-1"))
    finally:
        await client.rest.close()
