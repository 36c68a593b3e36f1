"""BitfinexTrading against the simulator over real sockets: an IOC order placed, read back by
client id and listed, a resting order cancelled, balances, and the simulator refusing what
Bitfinex refuses (a wrong secret, a nonce that does not grow). The truth is the simulator's
ledger and account, never the client's own numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, default_credentials, venue_market
from arb_structs import OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, SignRequest
from arb_venues.bitfinex.errors import error_mapper
from arb_venues.bitfinex.signing import sign
from arb_venues.bitfinex.sim.app import create_app
from arb_venues.bitfinex.trading import BitfinexTrading
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.errors import InvalidSignature, UnknownOrder
from pydantic import SecretStr

pytestmark = pytest.mark.integration
SYMBOL = "BTC-USDT"


@pytest.fixture
async def venue() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = venue_market("bitfinex", symbols=(SYMBOL,))
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, f"http://{server.host}:{server.port}"
    finally:
        await server.close()


def _client(market: VenueMarket, url: str, secret: str | None = None) -> BitfinexTrading:
    creds = default_credentials("bitfinex")
    rest = RestClient("bitfinex", url, request=ONCE, error_mapper=error_mapper)
    return BitfinexTrading(rest, Credentials(creds.api_key, SecretStr(secret or creds.secret)),
                           market.instruments)  # fmt: skip


async def test_orders_are_placed_read_back_cancelled_and_listed_as_the_ledger_has_them(
    venue: tuple[VenueMarket, str],
) -> None:
    market, url = venue
    client = _client(market, url)
    try:
        book = market.book(SYMBOL)
        taker = client.client_order_id("opp-t", "buy")
        report = await client.place_order(OrderIntent(
            venue="bitfinex", symbol=SYMBOL, side=Side.BUY, price=str(book.asks[0][0] + 5),
            size="0.002", client_order_id=taker))  # fmt: skip
        ledger = market.get_order(default_credentials("bitfinex").api_key, SYMBOL, taker)
        assert ledger is not None and ledger.filled == Decimal("0.002")
        assert report.status is OrderStatus.FILLED and Decimal(report.filled_size) == ledger.filled
        assert Decimal(report.fee) == ledger.fee > 0 and report.fee_asset == ledger.fee_asset
        again = await client.get_order(SYMBOL, taker)
        assert again.client_order_id == taker and again.venue_order_id == report.venue_order_id

        resting = client.client_order_id("opp-r", "sell")
        far = str(book.asks[0][0] + 500)
        placed = await client.place_order(OrderIntent(
            venue="bitfinex", symbol=SYMBOL, side=Side.SELL, price=far, size="0.001",
            client_order_id=resting, time_in_force="GTC"))  # fmt: skip
        assert placed.status is OrderStatus.NEW
        cancelled = await client.cancel_order(SYMBOL, resting)
        order = market.get_order(default_credentials("bitfinex").api_key, SYMBOL, resting)
        assert order is not None and order.status == "canceled"
        assert cancelled.status is OrderStatus.CANCELED

        listed = {r.client_order_id for r in await client.recent_orders([SYMBOL], 0)}
        assert listed == {taker, resting}
        with pytest.raises(UnknownOrder):
            await client.get_order(SYMBOL, client.client_order_id("never", "buy"))
        balances = (await client.balances()).balances
        account = market.balances(default_credentials("bitfinex").api_key)
        assert Decimal(balances["BTC"].free) == account["BTC"][0]
    finally:
        await client.rest.close()


async def test_the_simulator_refuses_a_wrong_signature_and_a_nonce_that_does_not_grow(
    venue: tuple[VenueMarket, str],
) -> None:
    market, url = venue
    wrong = _client(market, url, secret="not-the-secret")
    right = _client(market, url)
    try:
        with pytest.raises(InvalidSignature, match="digest invalid"):
            await wrong.balances()
        await right.balances()  # accepted: the key's nonce is now this one
        old = sign(right.credentials, SignRequest(method="POST", path="/v2/auth/r/wallets",
                                                   body="{}", timestamp_ms=1))  # fmt: skip
        with pytest.raises(InvalidSignature, match="nonce: small"):
            await right.rest.request("POST", "/v2/auth/r/wallets", body="{}",
                                     headers=old.headers)  # fmt: skip
    finally:
        await wrong.rest.close()
        await right.rest.close()
