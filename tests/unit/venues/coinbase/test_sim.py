"""The Coinbase sim app over real sockets on 127.0.0.1, spoken to by the real adapter.

Runs on the simulator's own market (simulated.coinbase_market) with a known book.
"""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.coinbase.market import CoinbaseMarket, parse_products
from arb_venues.coinbase.parser import CoinbaseParser
from arb_venues.coinbase.schemas import FRAME_DECODER, PRODUCT_BOOK_DECODER
from arb_venues.coinbase.sim import app as sim_module
from arb_venues.coinbase.sim.app import create_app
from arb_venues.coinbase.trading import CoinbaseTrading
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    MalformedFrame,
    RequestTimeout,
    UnknownOrder,
    VenueUnavailable,
)
from arb_venues.fees import with_account_fees
from arb_venues.simapi import ERROR_RESPONSE
from pydantic import SecretStr

from tests.unit.venues.coinbase.frames import AT_UPDATE, FIXTURES
from tests.unit.venues.coinbase.simulated import KEY_NAME, KEY_PEM, coinbase_market, new_pem

pytestmark = pytest.mark.integration  # real sockets

D = Decimal
GOOD = Credentials(api_key=KEY_NAME, secret=SecretStr(KEY_PEM))


@pytest.fixture
async def venue():
    market = coinbase_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, server
    finally:
        await server.close()


def _endpoints(server: TestServer) -> Endpoints:
    base = f"{server.host}:{server.port}"
    return Endpoints(ws_url=f"ws://{base}/", rest_url=f"http://{base}")


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def _trading(server: TestServer, market: VenueMarket, credentials=GOOD):
    rest = RestClient("coinbase", _endpoints(server).rest_url, request=ONCE,
                      error_mapper=CoinbaseMarket(_endpoints(server)).error_mapper())  # fmt: skip
    return CoinbaseTrading(rest, credentials, market.instruments), rest


# -- WebSocket --------------------------------------------------------------------------------


async def test_ws_subscribe_gives_ack_snapshot_then_updates_the_parser_reads(venue):
    market, server = venue
    protocol = CoinbaseMarket(_endpoints(server))
    parser = CoinbaseParser(SymbolMap(market.instruments.values()))
    async with aiohttp.ClientSession() as session, session.ws_connect(protocol.ws_url([])) as ws:
        for message in protocol.subscribe_messages(list(market.instruments.values())):
            await ws.send_str(message)
        ack = await _next(ws)
        assert ack["channel"] == "subscriptions"
        assert ack["events"][0]["subscriptions"]["level2"] == ["BTC-USD", "ETH-USD"]
        frames = [await _next(ws), await _next(ws)]
        market.apply("BTC-USD", bids=[(D("68900.00"), D("0"))], asks=[(D("68900.50"), D("1.25"))])
        frames.append(await _next(ws))
        assert [f["sequence_num"] for f in [ack, *frames]] == [0, 1, 2, 3]
        events = [e for f in frames for e in parser.parse_ws(json.dumps(f), 1)]
        assert not parser.resync_needed
    snap, _, delta = events
    assert isinstance(snap, BookSnapshot) and snap.bids[0] == (68900.0, 1.5)
    assert isinstance(delta, BookDelta) and (delta.prev_seq, delta.seq) == (snap.seq, snap.seq + 1)
    assert delta.bids == [(68900.0, 0.0)] and delta.asks == [(68900.5, 1.25)]


@pytest.mark.fixtures
async def test_sim_frames_have_the_recorded_keys_and_number_formats(venue):
    market, server = venue
    recorded = json.loads((FIXTURES / AT_UPDATE).read_text())
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(_endpoints(server).ws_url) as ws,
    ):
        await ws.send_str('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}')
        await _next(ws)  # subscriptions
        await _next(ws)  # snapshot
        market.apply("BTC-USD", bids=[(D("68900.00"), D("2"))], asks=[(D("68901.00"), D("0"))])
        message = await asyncio.wait_for(ws.receive(), 5)
    sim = json.loads(message.data)
    FRAME_DECODER.decode(message.data)  # the same wire struct as the recorded frames
    assert sim.keys() == recorded.keys()
    assert sim["events"][0].keys() == recorded["events"][0].keys()
    assert sim["events"][0]["updates"][0].keys() == recorded["events"][0]["updates"][0].keys()
    for ours, theirs in zip(
        sim["events"][0]["updates"], recorded["events"][0]["updates"], strict=True
    ):
        for field in ("price_level", "new_quantity"):
            assert isinstance(ours[field], str)
            assert len(ours[field].split(".")[1]) == len(theirs[field].split(".")[1]), field
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ours["event_time"])
    assert (
        sim["events"][0]["updates"][1]["new_quantity"]
        == recorded["events"][0]["updates"][1]["new_quantity"]
    )


async def test_heartbeats_channel_beats_and_parses_to_nothing(venue, monkeypatch):
    monkeypatch.setattr(sim_module, "HEARTBEAT_INTERVAL_S", 0.01)
    _, server = venue
    protocol = CoinbaseMarket(_endpoints(server))
    async with aiohttp.ClientSession() as session, session.ws_connect(protocol.ws_url([])) as ws:
        await ws.send_str(protocol.heartbeat_message() or "")
        assert (await _next(ws))["channel"] == "subscriptions"
        beat = await _next(ws)
    assert beat["channel"] == "heartbeats" and beat["events"][0]["heartbeat_counter"] == "1"
    assert CoinbaseParser().parse_ws(json.dumps(beat), 1) == []


async def test_bad_requests_get_coinbase_error_frames(venue):
    _, server = venue
    parser = CoinbaseParser()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(_endpoints(server).ws_url) as ws,
    ):
        await ws.send_str('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level9"}')
        await ws.send_str('{"type":"subscribe","product_ids":["NOPE-USD"],"channel":"level2"}')
        await ws.send_str("{not json")
        errors = [await _next(ws) for _ in range(3)]
    assert all(e.keys() == {"type", "message"} and e["type"] == "error" for e in errors)
    with pytest.raises(MalformedFrame):
        parser.parse_ws(json.dumps(errors[0]), 1)


async def test_authenticated_subscribe_verifies_the_jwt(venue):
    _, server = venue
    good = CoinbaseMarket(_endpoints(server), credentials=GOOD)
    bad = CoinbaseMarket(
        _endpoints(server), credentials=Credentials(KEY_NAME, SecretStr(new_pem()))
    )
    async with aiohttp.ClientSession() as session, session.ws_connect(good.ws_url([])) as ws:
        await ws.send_str(good.heartbeat_message() or "")
        assert (await _next(ws))["channel"] == "subscriptions"
        await ws.send_str(bad.heartbeat_message() or "")
        assert await _next(ws) == {"type": "error", "message": "authentication failure"}


async def test_a_connection_that_never_subscribes_is_closed(venue, monkeypatch):
    monkeypatch.setattr(sim_module, "SUBSCRIBE_DEADLINE_S", 0.05)
    _, server = venue
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(_endpoints(server).ws_url) as ws,
    ):
        message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


# -- public REST ------------------------------------------------------------------------------


async def test_products_become_instruments_with_the_market_grid(venue):
    market, server = venue
    rest = RestClient("coinbase", _endpoints(server).rest_url)
    try:
        instruments = await CoinbaseMarket(_endpoints(server)).fetch_instruments(rest)
    finally:
        await rest.close()
    by_symbol = {i.symbol: i for i in instruments}
    assert by_symbol.keys() == market.instruments.keys()
    btc = by_symbol["BTC-USD"]
    assert (btc.tick_size, btc.lot_size, btc.price_decimals, btc.size_decimals) == (
        "0.01",
        "0.00000001",
        2,
        8,
    )
    assert btc.status == "trading"
    # The fee is the account's, not reference data: ingest applies it (the venue's default
    # without ARB_TAKER_FEES: the entry tier).
    assert btc.taker_fee != "0.012"
    [published] = with_account_fees([btc])
    assert published.taker_fee == "0.012"


async def test_product_book_snapshot_matches_the_book(venue):
    _, server = venue
    rest = RestClient("coinbase", _endpoints(server).rest_url)
    url = "/api/v3/brokerage/market/product_book"
    try:
        body = await rest.get(url, query="product_id=BTC-USD&limit=1")
        with pytest.raises(Exception) as missing:
            await rest.get(url, query="product_id=NOPE-USD")
    finally:
        await rest.close()
    PRODUCT_BOOK_DECODER.decode(body)
    assert json.loads(body)["pricebook"]["bids"] == [{"price": "68900.00", "size": "1.50000000"}]
    (snap,) = CoinbaseParser().parse_rest(url, body, 1)
    assert snap.bids == [(68900.0, 1.5)] and snap.asks == [(68901.0, 0.5)]
    assert getattr(missing.value, "code", None) == 404


def test_fetched_product_list_skips_aliases_and_non_spot():
    body = msgspec.json.encode({"products": [
        {"product_id": "BTC-USD", "base_increment": "0.00000001", "quote_increment": "0.01",
         "base_min_size": "0.00000001", "quote_min_size": "1", "base_currency_id": "BTC",
         "quote_currency_id": "USD", "status": "online", "product_type": "SPOT", "alias": ""},
        {"product_id": "BTC-USDC", "base_increment": "0.00000001", "quote_increment": "0.01",
         "status": "online", "product_type": "SPOT", "alias": "BTC-USD"},
        {"product_id": "BIT-28JUN24-CDE", "base_increment": "1", "quote_increment": "5",
         "status": "online", "product_type": "FUTURE"},
        {"product_id": "XYZ-EUR", "base_increment": "0.1", "quote_increment": "0.0001",
         "status": "delisted", "product_type": "SPOT", "trading_disabled": True},
    ], "num_products": 4})  # fmt: skip
    instruments = {i.symbol: i for i in parse_products(body)}
    assert instruments.keys() == {"BTC-USD", "XYZ-EUR"}
    assert instruments["XYZ-EUR"].status == "halted"
    assert instruments["XYZ-EUR"].price_decimals == 4 and instruments["XYZ-EUR"].size_decimals == 1


# -- private REST -----------------------------------------------------------------------------


def _intent(side: Side, price: str, size: str, leg: str) -> OrderIntent:
    return OrderIntent(venue="coinbase", symbol="BTC-USD", side=side, price=price, size=size,
                       client_order_id=CoinbaseTrading.client_order_id("opp-1", leg))  # fmt: skip


async def test_wrong_secret_is_refused_with_401_unauthorized(venue):
    market, server = venue
    trading, rest = await _trading(server, market, Credentials(KEY_NAME, SecretStr(new_pem())))
    try:
        with pytest.raises(InvalidSignature) as caught:
            await trading.place_order(_intent(Side.BUY, "68901.00", "0.1", "buy"))
    finally:
        await rest.close()
    assert caught.value.code == 401
    assert market.orders_total == 0  # nothing traded


async def test_signed_ioc_fills_and_moves_balances(venue):
    market, server = venue
    trading, rest = await _trading(server, market)
    try:
        before = (await trading.balances()).balances
        report = await trading.place_order(_intent(Side.BUY, "68901.00", "0.3", "buy"))
        after = (await trading.balances()).balances
    finally:
        await rest.close()
    assert report.status is OrderStatus.FILLED and report.filled_size == "0.3"
    assert report.avg_price == "68901" and report.fee_asset == "USD" and report.venue_order_id
    assert D(after["BTC"].free) - D(before["BTC"].free) == D("0.3")
    assert D(before["USD"].free) - D(after["USD"].free) == D("20670.30") + D(report.fee)


async def test_ioc_partial_fill_is_canceled_with_the_filled_part(venue):
    market, server = venue
    trading, rest = await _trading(server, market)
    try:  # 0.5 offered at 68901.00, the next level is above the limit
        report = await trading.place_order(_intent(Side.BUY, "68901.00", "1", "buy"))
    finally:
        await rest.close()
    assert report.status is OrderStatus.CANCELED
    assert (report.filled_size, report.size, report.price) == ("0.5", "1", "68901.00")


async def test_insufficient_funds_is_coinbase_insufficient_fund(venue):
    market, server = venue
    trading, rest = await _trading(server, market)
    try:
        with pytest.raises(InsufficientBalance) as caught:
            await trading.place_order(_intent(Side.BUY, "68902.00", "50", "big"))
    finally:
        await rest.close()
    assert caught.value.api_code == "INSUFFICIENT_FUND"


async def test_order_is_found_by_client_id_by_a_fresh_client_and_cancel_is_a_no_op(venue):
    market, server = venue
    trading, rest = await _trading(server, market)
    intent = _intent(Side.BUY, "68901.00", "0.1", "buy")
    try:
        placed = await trading.place_order(intent)
    finally:
        await rest.close()
    fresh, rest = await _trading(server, market)  # knows no order ids: lists and matches
    try:
        found = await fresh.get_order("BTC-USD", intent.client_order_id)
        canceled = await fresh.cancel_order("BTC-USD", intent.client_order_id)
        with pytest.raises(UnknownOrder):
            await fresh.get_order("BTC-USD", CoinbaseTrading.client_order_id("opp-9", "buy"))
    finally:
        await rest.close()
    assert found.venue_order_id == placed.venue_order_id and found.status is OrderStatus.FILLED
    assert canceled.status is OrderStatus.FILLED


async def test_lost_response_is_resolved_by_client_order_id_without_a_second_order(venue):
    market, server = venue
    market.armed_faults.arm("lose_response", "BTC-USD")
    trading, rest = await _trading(server, market)
    intent = _intent(Side.BUY, "68901.00", "0.1", "buy")
    try:
        with pytest.raises((RequestTimeout, VenueUnavailable)):
            await trading.place_order(intent)
        report = await trading.get_order("BTC-USD", intent.client_order_id)
    finally:
        await rest.close()
    assert report.status is OrderStatus.FILLED and market.orders_total == 1


async def test_client_order_ids_are_deterministic_uuids():
    first = CoinbaseTrading.client_order_id("opp-1", "buy")
    assert first == CoinbaseTrading.client_order_id("opp-1", "buy")
    assert first != CoinbaseTrading.client_order_id("opp-1", "sell")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )


@pytest.mark.parametrize(("kind", "status"), [("http_429", 429), ("http_418", 429),
                                              ("http_5xx", 503)])  # fmt: skip
async def test_injected_http_faults_look_like_coinbase(kind, status):
    response = create_app(coinbase_market())[ERROR_RESPONSE](kind, 2.0)
    assert response.status == status
    assert json.loads(response.body).keys() == {"error", "message", "error_details"}
    if status == 429:
        assert response.headers["Retry-After"] == "2"
