"""The KuCoin simulator over real sockets (127.0.0.1), spoken to by the real adapter: the
token call, the token-checked WS, REST snapshots on the same sequence, signed trading."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.rest import ONCE, Response, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import InsufficientBalance, InvalidSignature, RateLimited, UnknownOrder
from arb_venues.kucoin import VENUE
from arb_venues.kucoin.errors import map_error
from arb_venues.kucoin.market import KucoinMarket
from arb_venues.kucoin.sim.bodies import error_response
from arb_venues.kucoin.trading import KucoinTrading
from pydantic import SecretStr

from tests.unit.venues.kucoin.helpers import BTC_USDT, KEY, PASSPHRASE, SECRET, kucoin_market

pytestmark = pytest.mark.integration  # real sockets on loopback


@pytest.fixture
def market() -> VenueMarket:
    return kucoin_market()


@pytest.fixture
async def server(market: VenueMarket) -> AsyncIterator[TestServer]:
    server = TestServer(VENUE.sim_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def rest(server: TestServer) -> AsyncIterator[RestClient]:
    client = RestClient("kucoin", str(server.make_url("")).rstrip("/"), error_mapper=map_error,
                        request=ONCE)  # fmt: skip
    try:
        yield client
    finally:
        await client.close()


def trading(rest: RestClient, secret: str = SECRET, passphrase: str = PASSPHRASE) -> KucoinTrading:
    credentials = Credentials(KEY, SecretStr(secret), SecretStr(passphrase))
    return KucoinTrading(rest, credentials, {"BTC-USDT": BTC_USDT})


def intent(side: Side, price: str, size: str, client_id: str) -> OrderIntent:
    return OrderIntent(venue="kucoin", symbol="BTC-USDT", side=side, price=price, size=size,
                       client_order_id=client_id)  # fmt: skip


async def test_token_ws_welcome_ack_increment_and_pong_with_the_real_adapter(
    rest: RestClient, market: VenueMarket
) -> None:
    protocol = KucoinMarket(Endpoints(ws_url="", rest_url=rest.base_url))
    parser = protocol.make_parser(SymbolMap([BTC_USDT]))
    url = await protocol.connect_url(rest, [BTC_USDT])
    assert "token=" in url and "connectId=" in url and protocol.heartbeat_interval() == 18.0
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        welcome = await ws.receive_str(timeout=5)
        assert json.loads(welcome)["type"] == "welcome" and parser.parse_ws(welcome, 1) == []
        for message in protocol.subscribe_messages([BTC_USDT]):
            await ws.send_str(message)
        ack = await ws.receive_str(timeout=5)
        assert json.loads(ack)["type"] == "ack" and parser.parse_ws(ack, 1) == []
        [snapshot] = await protocol.fetch_snapshot(rest, BTC_USDT, parser, lambda: 2)
        assert isinstance(snapshot, BookSnapshot)
        assert snapshot.bids[0] == (41006.8, 1.5) and snapshot.asks[0] == (41007.1, 0.5)
        market.apply("BTC-USDT", bids=[("41006.8", "0")], asks=[("41007", "0.3")])
        [delta] = parser.parse_ws(await ws.receive_str(timeout=5), 3)
        assert isinstance(delta, BookDelta)
        assert delta.prev_seq == snapshot.seq and delta.seq == snapshot.seq + 1  # continues it
        assert (delta.bids, delta.asks) == ([(41006.8, 0.0)], [(41007.0, 0.3)])
        await ws.send_str(protocol.heartbeat_message() or "")
        pong = json.loads(await ws.receive_str(timeout=5))
        assert pong["type"] == "pong"


async def test_a_topic_with_a_space_after_the_colon_is_subscribed(rest: RestClient) -> None:
    """cryptofeed writes ``/market/level2: BTC-USDT`` (and KuCoin takes it): the names are read
    past their spaces; an unknown name is still a 404."""
    protocol = KucoinMarket(Endpoints(ws_url="", rest_url=rest.base_url))
    url = await protocol.connect_url(rest, [BTC_USDT])
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert json.loads(await ws.receive_str(timeout=5))["type"] == "welcome"
        for request_id, topic in (("1", "/market/level2: BTC-USDT"), ("2", "/market/level2: XX")):
            await ws.send_str(
                json.dumps(
                    {
                        "id": request_id,
                        "type": "subscribe",
                        "topic": topic,
                        "privateChannel": False,
                        "response": True,
                    }
                )
            )
            answer = json.loads(await ws.receive_str(timeout=5))
            assert answer["id"] == request_id
            assert answer["type"] == ("ack" if request_id == "1" else "error")
    assert answer["code"] == 404


async def test_ws_without_an_issued_token_is_refused_401(server: TestServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.make_url("/?token=forged&connectId=c1")) as ws,
    ):
        refusal = json.loads(await ws.receive_str(timeout=5))
        closing = await ws.receive(timeout=5)
    assert refusal == {"id": "c1", "type": "error", "code": 401, "data": "token is invalid"}
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_ioc_buy_fills_against_the_book_and_moves_the_ledger(
    rest: RestClient, market: VenueMarket
) -> None:
    client = trading(rest)
    before = market.balances(KEY)
    report = await client.place_order(intent(Side.BUY, "41007.1", "0.2", "arbtestbuy0001"))
    assert report.status is OrderStatus.FILLED and report.filled_size == "0.2"
    assert report.avg_price == "41007.1" and report.fee_asset == "USDT"
    after = market.balances(KEY)
    assert after["BTC"][0] - before["BTC"][0] == Decimal("0.2")  # the venue's own ledger
    spent = before["USDT"][0] - after["USDT"][0]
    assert spent == Decimal("41007.1") * Decimal("0.2") + Decimal(report.fee)
    again = await client.get_order("BTC-USDT", "arbtestbuy0001")
    assert again.status is OrderStatus.FILLED and again.venue_order_id == report.venue_order_id
    cancelled = await client.cancel_order("BTC-USDT", "arbtestbuy0001")  # an IOC is closed
    assert cancelled.status is OrderStatus.FILLED
    balances = await client.balances()
    assert Decimal(balances.balances["BTC"].free) == after["BTC"][0]
    history = await client.recent_orders(["BTC-USDT"], 0)
    assert [o.client_order_id for o in history] == ["arbtestbuy0001"]


async def test_ioc_beyond_the_book_cancels_its_remainder(rest: RestClient) -> None:
    report = await trading(rest).place_order(intent(Side.BUY, "41007.1", "1", "arbtestpart001"))
    assert report.status is OrderStatus.CANCELED and report.filled_size == "0.5"


async def test_refusals_map_to_the_venue_errors(rest: RestClient) -> None:
    client = trading(rest)
    with pytest.raises(UnknownOrder):
        await client.get_order("BTC-USDT", "arbnosuchorder01")
    with pytest.raises(InsufficientBalance):
        await client.place_order(intent(Side.BUY, "41010", "3", "arbtesttoomuch1"))
    with pytest.raises(InvalidSignature, match="400005"):
        await trading(rest, secret="wrong").balances()
    with pytest.raises(InvalidSignature, match="400004"):
        await trading(rest, passphrase="wrong").balances()


def test_resource_pool_exhausted_is_rate_limited_until_the_reset_header() -> None:
    answer = error_response("http_429", 2.5)
    assert answer.body is not None
    response = Response(answer.status, dict(answer.headers), bytes(answer.body), 0.0)
    error = map_error(response)
    assert isinstance(error, RateLimited) and error.api_code == "429000"
    assert error.retry_after_s == 2.5
