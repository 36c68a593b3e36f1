"""CryptocomTrading against the Crypto.com sim over real sockets: signatures, fills, balances
checked against the simulator's ledger, lookups by client_oid, cancels and reason codes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials
from arb_venues.common.rest import RestClient
from arb_venues.cryptocom import errors as codes
from arb_venues.cryptocom.trading import CryptocomTrading
from arb_venues.errors import InsufficientBalance, InvalidSignature, OrderRejected, UnknownOrder
from pydantic import SecretStr

from tests.unit.venues.cryptocom.instruments import API_KEY, BTC, ETH, SECRET

pytestmark = pytest.mark.integration
D = Decimal


def test_client_order_id_is_a_deterministic_36_character_uuid_per_leg() -> None:
    buy = CryptocomTrading.client_order_id("opp-7f3a", "buy")
    assert buy == CryptocomTrading.client_order_id("opp-7f3a", "buy")
    assert buy != CryptocomTrading.client_order_id("opp-7f3a", "sell")
    assert re.fullmatch(r"[0-9a-f-]{36}", buy)  # client_oid: at most 36 characters


def _client(server: TestServer, secret: str = SECRET, api_key: str = API_KEY) -> CryptocomTrading:
    rest = RestClient("cryptocom", str(server.make_url("")), error_mapper=codes.map_response)
    credentials = Credentials(api_key=api_key, secret=SecretStr(secret))
    return CryptocomTrading(rest, credentials, {BTC.symbol: BTC, ETH.symbol: ETH})


@pytest.fixture
async def trading(server: TestServer) -> AsyncIterator[CryptocomTrading]:
    client = _client(server)
    try:
        yield client
    finally:
        await client.rest.close()


def _intent(side: Side, price: str, size: str, leg: str = "buy", tif: str = "IOC") -> OrderIntent:
    return OrderIntent(venue="cryptocom", symbol="BTC-USDT", side=side, price=price, size=size,
                       client_order_id=CryptocomTrading.client_order_id("opp-1", leg),
                       time_in_force=tif)  # fmt: skip


@pytest.mark.parametrize(("secret", "api_key"), [("test-secret-0002", API_KEY), (SECRET, "x")])
async def test_wrong_secret_or_key_is_40101_and_nothing_trades(
    server: TestServer, market: VenueMarket, secret: str, api_key: str
) -> None:
    client = _client(server, secret, api_key)
    try:
        with pytest.raises(InvalidSignature) as error:
            await client.place_order(_intent(Side.BUY, "100.02", "0.5"))
        assert error.value.api_code == codes.UNAUTHORIZED and error.value.code == 401
        assert market.orders_total == 0 and market.accounts[API_KEY].free("USDT") == D("10000")
    finally:
        await client.rest.close()


async def test_ioc_buy_fills_and_moves_balances_as_the_ledger_says(
    trading: CryptocomTrading, market: VenueMarket
) -> None:
    before = await trading.balances()
    assert before.balances["USDT"].free == "10000" and before.balances["BTC"].free == "10"
    report = await trading.place_order(_intent(Side.BUY, "100.02", "2.50000"))
    # 2.0 @ 100.01 and 0.5 @ 100.02
    assert report.status == OrderStatus.FILLED
    assert (report.filled_size, report.price, report.size) == ("2.50000", "100.02", "2.50000")
    assert D(report.quote_filled) == D("2.0") * D("100.01") + D("0.5") * D("100.02")
    assert (D(report.fee), report.fee_asset) == (D("0.0025"), "BTC")
    assert report.venue_order_id and report.ts_ack >= report.ts_sent > 0
    after = await trading.balances()
    ledger = market.accounts[API_KEY]
    assert D(after.balances["BTC"].free) == ledger.free("BTC") == D("10") + D("2.5") - D("0.0025")
    assert D(after.balances["USDT"].free) == ledger.free("USDT") == D("10000") - D("250.030")


async def test_ioc_remainder_is_cancelled_with_the_partial_fill_kept(
    trading: CryptocomTrading,
) -> None:
    partial = await trading.place_order(_intent(Side.SELL, "99.98", "10.00000", leg="sell"))
    # bids 1.5 @ 100.00, 2.5 @ 99.99, 3.5 @ 99.98 fill 7.5; the rest is cancelled
    assert partial.status == OrderStatus.CANCELED and partial.filled_size == "7.50000"
    again = await trading.get_order("BTC-USDT", partial.client_order_id)
    assert again == msgspec.structs.replace(partial, ts_sent=0, ts_ack=0)


async def test_resting_order_is_found_then_cancelled_and_a_second_cancel_is_harmless(
    trading: CryptocomTrading, market: VenueMarket
) -> None:
    resting = await trading.place_order(_intent(Side.BUY, "90.00", "1.00000", "rest", "GTC"))
    assert resting.status == OrderStatus.NEW
    held = await trading.balances()
    assert held.balances["USDT"].locked == "90" and market.accounts[API_KEY].free("USDT") == D(
        "9910"
    )
    cancelled = await trading.cancel_order("BTC-USDT", resting.client_order_id)
    assert cancelled.status == OrderStatus.CANCELED
    assert market.accounts[API_KEY].free("USDT") == D("10000")
    again = await trading.cancel_order("BTC-USDT", resting.client_order_id)  # 316: not open
    assert again.status == OrderStatus.CANCELED


async def test_unknown_order_insufficient_balance_and_duplicate_id(
    trading: CryptocomTrading, market: VenueMarket
) -> None:
    with pytest.raises(UnknownOrder) as unknown:
        await trading.get_order("BTC-USDT", CryptocomTrading.client_order_id("opp-9", "buy"))
    assert unknown.value.api_code == codes.NOT_FOUND
    with pytest.raises(InsufficientBalance) as poor:
        await trading.place_order(_intent(Side.SELL, "99.00", "50.00000", leg="big"))
    assert poor.value.api_code == codes.INSUFFICIENT_AVAILABLE_BALANCE
    await trading.place_order(_intent(Side.BUY, "100.01", "0.10000", leg="dup"))
    with pytest.raises(OrderRejected) as duplicate:  # 204 DUPLICATE_CLORDID
        await trading.place_order(_intent(Side.BUY, "100.01", "0.10000", leg="dup"))
    assert duplicate.value.api_code == codes.DUPLICATE_CLORDID
    assert market.orders_total == 1


async def test_recent_orders_lists_the_accounts_orders_since_a_time(
    trading: CryptocomTrading,
) -> None:
    import time

    start = time.time_ns()
    filled = await trading.place_order(_intent(Side.BUY, "100.02", "1.00000", leg="a"))
    resting = await trading.place_order(_intent(Side.BUY, "90.00", "1.00000", "b", "GTC"))
    found = {o.client_order_id: o for o in await trading.recent_orders(["BTC-USDT"], start)}
    assert set(found) == {filled.client_order_id, resting.client_order_id}
    assert found[filled.client_order_id].status == OrderStatus.FILLED
    assert found[resting.client_order_id].status == OrderStatus.NEW
    assert await trading.recent_orders(["BTC-USDT"], time.time_ns() + 10**9) == []
