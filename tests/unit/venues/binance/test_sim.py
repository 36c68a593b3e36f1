"""The Binance sim app over real sockets on 127.0.0.1, spoken to by the real adapter."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.binance import schemas
from arb_venues.binance.errors import map_error
from arb_venues.binance.market import BinanceMarket
from arb_venues.binance.parser import BinanceParser
from arb_venues.binance.sim.app import create_app
from arb_venues.binance.sim.bodies import error_response
from arb_venues.binance.trading import BinanceTrading
from arb_venues.common.ratelimit import RateLimiter
from arb_venues.common.rest import ONCE, Response, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    MalformedFrame,
    RateLimited,
    TimestampRejected,
    UnknownOrder,
    VenueUnavailable,
)
from pydantic import SecretStr

from tests.unit.venues.binance.instruments import instrument
from tests.unit.venues.binance.recorded import binance_dir_or_skip, session

pytestmark = pytest.mark.unit  # pure of Redis; real loopback sockets like the brief asks

KEY, SECRET = "sim-key-1", "sim-secret-1"
BNB = instrument("BNB", "BTC", tick="0.000001", lot="0.01", min_notional="0.0001")
EIGHT = re.compile(r"^\d+\.\d{8}$")


@dataclass
class Sim:
    market: VenueMarket
    server: TestServer
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")

    def trading(self, secret: str = SECRET, clock_skew_ns: int = 0) -> BinanceTrading:
        rest = RestClient("binance", self.base, error_mapper=map_error, request=ONCE)
        rest.clock.offset_ns = clock_skew_ns  # no time source: the signer keeps this offset
        creds = Credentials(api_key=KEY, secret=SecretStr(secret))
        return BinanceTrading(rest, creds, {BNB.symbol: BNB})

    async def connect(self, path: str) -> aiohttp.ClientWebSocketResponse:
        ws = await self.http.ws_connect(f"{self.ws_base}{path}")
        await ws.send_str('{"method":"GET_PROPERTY","params":["combined"],"id":99}')
        reply = await ws.receive_json(timeout=5)  # the server loop runs: the client is registered
        assert reply["id"] == 99
        return ws


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    market = venue_market(
        "binance",
        instruments=[BNB],
        accounts=[Account(KEY, SECRET, balances={"BTC": "1", "BNB": "0"})],
    )
    market.set_book("BNB-BTC", bids=[("0.005000", "10"), ("0.004990", "20")],
                    asks=[("0.005010", "5"), ("0.005020", "50")])  # fmt: skip
    async with (
        TestServer(create_app(market), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        yield Sim(market, server, http)


async def next_text(ws: aiohttp.ClientWebSocketResponse) -> str:
    message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return str(message.data)


def intent(price: str, size: str, cid: str, side: Side = Side.BUY) -> OrderIntent:
    return OrderIntent(venue="binance", symbol="BNB-BTC", side=side, price=price, size=size,
                       client_order_id=cid)  # fmt: skip


# -- market data ---------------------------------------------------------------------------------


async def test_combined_diffs_continue_the_rest_snapshot(sim: Sim) -> None:
    parser = BinanceParser(SymbolMap([BNB]))
    ws = await sim.connect("/stream?streams=bnbbtc@depth@100ms")
    async with sim.http.get(f"{sim.base}/api/v3/depth?symbol=BNBBTC&limit=1000") as resp:
        url, body = str(resp.url), await resp.read()
    [snap] = parser.parse_rest(url, body, 1)
    assert isinstance(snap, BookSnapshot) and snap.seq == 1
    assert snap.bids == [(0.005, 10.0), (0.00499, 20.0)] and snap.asks[0] == (0.00501, 5.0)
    sim.market.apply("BNB-BTC", bids=[("0.005000", "0")], asks=[("0.005005", "1.5")])
    [delta] = parser.parse_ws(await next_text(ws), 2)
    assert isinstance(delta, BookDelta) and delta.symbol == "BNB-BTC"
    assert delta.prev_seq <= snap.seq < delta.seq  # applies straight onto the snapshot
    assert delta.bids == [(0.005, 0.0)] and delta.asks == [(0.005005, 1.5)]
    await ws.close()


async def test_sim_frames_have_the_recorded_shape_and_number_format(sim: Sim) -> None:
    recorded = session(binance_dir_or_skip())
    real_diff = next(f.raw for f in recorded if f.kind == "ws" and "depthUpdate" in f.raw)
    real_snap = next(f.raw for f in recorded if f.kind == "rest")
    ws = await sim.connect("/stream?streams=bnbbtc@depth@100ms")
    sim.market.apply("BNB-BTC", bids=[("0.004995", "3.25")], asks=[("0.005020", "0")])
    ours = await next_text(ws)
    for raw in (ours, real_diff):
        schemas.combined_depth_decoder.decode(raw)  # the same wire struct decodes both
    mine, theirs = msgspec.json.decode(ours), msgspec.json.decode(real_diff)
    assert list(mine) == list(theirs) == ["stream", "data"]
    assert list(mine["data"]) == list(theirs["data"])
    assert mine["data"]["b"] == [["0.00499500", "3.25000000"]]
    assert all(EIGHT.match(x) for side in ("b", "a") for lv in mine["data"][side] for x in lv)
    assert all(EIGHT.match(x) for side in ("b", "a") for lv in theirs["data"][side] for x in lv)
    async with sim.http.get(f"{sim.base}/api/v3/depth?symbol=BNBBTC") as resp:
        snap = await resp.read()
        assert "X-MBX-USED-WEIGHT-1M" in resp.headers
    schemas.depth_snapshot_decoder.decode(snap)
    assert list(msgspec.json.decode(snap)) == list(msgspec.json.decode(real_snap))
    assert msgspec.json.decode(snap)["bids"][0] == ["0.00500000", "10.00000000"]
    await ws.close()


async def test_raw_stream_with_subscribe_method(sim: Sim) -> None:
    parser = BinanceParser(SymbolMap([BNB]))
    ws = await sim.connect("/ws")
    await ws.send_str('{"method":"SUBSCRIBE","params":["bnbbtc@depth@100ms"],"id":1}')
    assert await next_text(ws) == '{"result":null,"id":1}'
    await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":2}')
    assert msgspec.json.decode(await next_text(ws)) == {"result": ["bnbbtc@depth@100ms"], "id": 2}
    sim.market.apply("BNB-BTC", asks=[("0.005030", "1")])
    frame = await next_text(ws)
    assert frame.startswith('{"e":"depthUpdate"')
    [delta] = parser.parse_ws(frame, 1)
    assert isinstance(delta, BookDelta) and delta.seq == 2
    await ws.send_str('{"method":"SUBSCRIBED","id":3}')
    error = msgspec.json.decode(await next_text(ws))
    assert error["code"] == 2 and "unknown variant" in error["msg"]
    with pytest.raises(MalformedFrame):
        parser.parse_ws(msgspec.json.encode(error), 1)
    await ws.send_str("{nope")
    assert msgspec.json.decode(await next_text(ws))["code"] == 3
    await ws.close()


async def test_market_adapter_fetches_instruments_and_snapshots(sim: Sim) -> None:
    market = BinanceMarket(Endpoints(ws_url=sim.ws_base, rest_url=sim.base))
    limiter = RateLimiter(BinanceMarket.rest_limits)  # the venue's weights and budget
    rest = RestClient("binance", sim.base, limiter=limiter, error_mapper=market.error_mapper())
    try:
        [inst] = await market.fetch_instruments(rest)
        assert (inst.symbol, inst.venue_symbol, inst.tick_size, inst.lot_size) == (
            "BNB-BTC", "BNBBTC", "0.000001", "0.01",
        )  # fmt: skip
        assert (inst.min_notional, inst.price_decimals, inst.size_decimals) == ("0.0001", 6, 2)
        parser = market.make_parser(SymbolMap([inst]))
        [snap] = await market.fetch_snapshot(rest, inst, parser, lambda: 9)
        assert isinstance(snap, BookSnapshot) and snap.seq == 1 and snap.ts_recv == 9
    finally:
        await rest.close()


async def test_too_many_messages_per_second_closes_the_connection(sim: Sim) -> None:
    ws = await sim.connect("/ws")  # one message used
    for n in range(6):
        await ws.send_str(f'{{"method":"GET_PROPERTY","params":["combined"],"id":{n}}}')
    kinds = [(await ws.receive(timeout=5)).type for _ in range(6)]
    assert aiohttp.WSMsgType.CLOSE in kinds or ws.closed


async def test_faults_drop_malformed_and_skip_seq(sim: Sim) -> None:
    parser = BinanceParser(SymbolMap([BNB]))
    ws = await sim.connect("/stream?streams=bnbbtc@depth@100ms")
    sim.market.apply("BNB-BTC", asks=[("0.005030", "1")])
    [first] = parser.parse_ws(await next_text(ws), 1)
    sim.market.armed_faults.arm("skip_seq", "BNB-BTC")
    sim.market.apply("BNB-BTC", asks=[("0.005040", "1")])  # never sent
    sim.market.armed_faults.arm("malformed_frame")
    with pytest.raises(MalformedFrame):
        parser.parse_ws(await next_text(ws), 2)
    sim.market.apply("BNB-BTC", asks=[("0.005050", "1")])
    [after] = parser.parse_ws(await next_text(ws), 3)
    assert after.prev_seq > first.seq  # the book rule sees a gap
    sim.market.armed_faults.arm("drop_connection")
    assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


# -- private REST --------------------------------------------------------------------------------


async def test_wrong_secret_is_refused_with_binances_signature_error(sim: Sim) -> None:
    trading = sim.trading(secret="not-the-secret")
    try:
        with pytest.raises(InvalidSignature) as caught:
            await trading.place_order(intent("0.005010", "1", "arb-buy-1"))
        assert caught.value.api_code == -1022 and caught.value.code == 400
    finally:
        await trading.rest.close()
    query = "symbol=BNBBTC&timestamp=1&signature=00"
    async with sim.http.get(f"{sim.base}/api/v3/order?{query}",
                            headers={"X-MBX-APIKEY": KEY}) as resp:  # fmt: skip
        assert resp.status == 400
        assert (
            await resp.read() == b'{"code":-1022,"msg":"Signature for this request is not valid."}'
        )
    assert sim.market.orders_total == 0


async def test_signed_ioc_order_fills_and_moves_balances(sim: Sim) -> None:
    trading = sim.trading()
    try:
        report = await trading.place_order(intent("0.005020", "6", "arb-buy-2"))
        assert report.status is OrderStatus.FILLED and report.client_order_id == "arb-buy-2"
        assert (report.filled_size, report.price, report.size) == ("6", "0.00502", "6")
        cost = Decimal("0.005010") * 5 + Decimal("0.005020")
        assert Decimal(report.avg_price) == cost / 6
        # Binance charges the taker fee in the asset received (no BNB fee discount here).
        fee = 6 * Decimal("0.001")
        assert (Decimal(report.fee), report.fee_asset) == (fee, "BNB")
        balances = await trading.balances()
        assert Decimal(balances.balances["BNB"].free) == 6 - fee
        assert Decimal(balances.balances["BTC"].free) == 1 - cost
        again = await trading.get_order("BNB-BTC", "arb-buy-2")
        assert (again.status, again.filled_size, again.venue_order_id) == (
            OrderStatus.FILLED, "6", report.venue_order_id,
        )  # fmt: skip
        with pytest.raises(UnknownOrder) as closed:
            await trading.cancel_order("BNB-BTC", "arb-buy-2")
        assert closed.value.api_code == -2011
        with pytest.raises(UnknownOrder) as missing:
            await trading.get_order("BNB-BTC", "arb-never-sent")
        assert missing.value.api_code == -2013
    finally:
        await trading.rest.close()


async def test_ioc_remainder_and_refusals(sim: Sim) -> None:
    trading = sim.trading()
    try:
        partial = await trading.place_order(intent("0.005010", "8", "arb-buy-3"))
        assert partial.status is OrderStatus.CANCELED and partial.filled_size == "5"
        with pytest.raises(InsufficientBalance) as poor:
            await trading.place_order(intent("0.005020", "500", "arb-buy-4"))
        assert poor.value.api_code == -2010
        with pytest.raises(InsufficientBalance):
            await trading.place_order(intent("0.004990", "50", "arb-sell-5", Side.SELL))
    finally:
        await trading.rest.close()
    skewed = sim.trading(clock_skew_ns=-10_000_000_000)  # 10 s behind: outside recvWindow
    try:
        with pytest.raises(TimestampRejected) as late:
            await skewed.balances()
        assert late.value.api_code == -1021
    finally:
        await skewed.rest.close()
    async with sim.http.get(f"{sim.base}/api/v3/account?timestamp=1&signature=00") as resp:
        assert resp.status == 401 and (await resp.json())["code"] == -2014


async def test_lost_response_leaves_an_order_the_client_can_find(sim: Sim) -> None:
    sim.market.armed_faults.arm("lose_response", "BNB-BTC")
    trading = sim.trading()
    try:
        with pytest.raises(VenueUnavailable):
            await trading.place_order(intent("0.005010", "1", "arb-buy-6"))
        found = await trading.get_order("BNB-BTC", "arb-buy-6")
        assert found.status is OrderStatus.FILLED and found.filled_size == "1"
    finally:
        await trading.rest.close()


@pytest.mark.parametrize(("kind", "status"), [("http_429", 429), ("http_418", 418),
                                              ("http_5xx", 503)])  # fmt: skip
def test_error_responses_speak_binance(kind: str, status: int) -> None:
    response = error_response(kind, 3.2)
    assert response.status == status and response.headers["Retry-After"] == "4"
    assert isinstance(response.body, bytes)
    error = map_error(Response(status, dict(response.headers), response.body, 0.0))
    if status in (418, 429):
        assert isinstance(error, RateLimited) and error.retry_after_s == 4.0
        assert error.api_code == -1003
    else:
        assert isinstance(error, VenueUnavailable)
