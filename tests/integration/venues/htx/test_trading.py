"""HtxTrading against the HTX simulator over real sockets: every request signed (signature
version 2 over the host it reaches) and verified by the server; orders placed, read back,
cancelled and listed, each checked against the simulator's own ledger."""

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
from arb_venues.errors import InvalidSignature, UnknownOrder
from arb_venues.htx.errors import error_mapper
from arb_venues.htx.sim.app import create_app
from arb_venues.htx.trading import HtxTrading
from pydantic import SecretStr

from tests.unit.venues.htx.helpers import BTC_USDT

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"


def _market() -> VenueMarket:
    account = Account("key-1", "secret-1", None, {"USDT": "100000", "BTC": "1"})
    market = venue_market("htx", instruments=[BTC_USDT], accounts=[account])
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


def _client(url: str, market: VenueMarket, secret: str = "secret-1") -> HtxTrading:
    rest = RestClient("htx", url, request=ONCE, error_mapper=error_mapper())
    return HtxTrading(rest, Credentials("key-1", SecretStr(secret)), market.instruments)


def _intent(client_id: str, side: Side, price: str, size: str, tif: str = "IOC") -> OrderIntent:
    return OrderIntent(venue="htx", symbol=SYMBOL, side=side, price=price, size=size,
                       client_order_id=client_id, time_in_force=tif)  # fmt: skip


async def test_ioc_places_fills_and_reads_back_as_the_ledger_has_it(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        since = time.time_ns() - 1_000_000_000
        report = await client.place_order(_intent("arb-ioc-1", Side.BUY, "60002", "0.7"))
        [order] = market.orders("key-1")
        assert report.status is OrderStatus.FILLED and order.filled == Decimal("0.7")
        assert Decimal(report.filled_size) == order.filled
        assert Decimal(report.quote_filled) == order.quote_filled  # 0.5 @ 60001 + 0.2 @ 60002
        assert Decimal(report.fee) == order.fee and report.fee_asset == order.fee_asset == "BTC"
        again = await client.get_order(SYMBOL, "arb-ioc-1")
        assert (again.status, again.filled_size) == (report.status, report.filled_size)
        listed = await client.recent_orders([SYMBOL], since)
        assert [r.client_order_id for r in listed] == ["arb-ioc-1"]
        balances = (await client.balances()).balances
        for asset in ("BTC", "USDT"):
            free, locked = market.balances("key-1")[asset]
            assert (
                Decimal(balances[asset].free) == free and Decimal(balances[asset].locked) == locked
            )
    finally:
        await client.rest.close()


async def test_a_resting_order_is_cancelled_and_an_ioc_is_read_back_instead(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        resting = await client.place_order(_intent("arb-gtc-1", Side.BUY, "59000", "0.1", "GTC"))
        assert resting.status is OrderStatus.NEW
        cancelled = await client.cancel_order(SYMBOL, "arb-gtc-1")
        assert cancelled.status is OrderStatus.CANCELED and cancelled.filled_size == "0"
        assert market.get_order("key-1", SYMBOL, "arb-gtc-1").status == "canceled"  # type: ignore[union-attr]
        await client.place_order(_intent("arb-ioc-2", Side.SELL, "60000", "0.1"))
        done = await client.cancel_order(SYMBOL, "arb-ioc-2")  # HTX: an IOC is not cancellable
        assert done.status is OrderStatus.FILLED
        with pytest.raises(UnknownOrder):
            await client.get_order(SYMBOL, "never-placed")
    finally:
        await client.rest.close()


async def test_the_server_refuses_a_wrong_secret_and_nothing_trades(served) -> None:
    market, url = served
    client = _client(url, market, secret="not-the-secret")
    try:
        with pytest.raises(InvalidSignature, match="api-signature-not-valid"):
            await client.place_order(_intent("arb-bad-1", Side.BUY, "60001", "0.1"))
        assert market.orders("key-1") == []
    finally:
        await client.rest.close()


async def test_history_pages_through_more_orders_than_one_answer_holds(served) -> None:
    market, url = served
    client = _client(url, market)
    try:
        since = time.time_ns() - 1_000_000_000
        for i in range(105):  # past one page of 100, placed at the venue by someone else
            market.place_order("key-1", SYMBOL, Side.BUY, Decimal("50000"), Decimal("0.0001"),
                               "GTC", f"manual-{i}")  # fmt: skip
        listed = await client.recent_orders([SYMBOL], since)
        assert sorted(r.client_order_id for r in listed) == sorted(
            o.client_order_id for o in market.orders("key-1")
        )
        assert len(listed) == 105
    finally:
        await client.rest.close()
