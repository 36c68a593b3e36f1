"""The Gate sim app over real sockets on 127.0.0.1, spoken to by the real adapter: the same
frames as the recording, update ids that continue the ``with_id`` snapshot, ping/pong,
subscribe errors, faults, and private REST whose signatures the server verifies."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, Instrument, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.ratelimit import RateLimiter
from arb_venues.common.rest import ONCE, Response, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    MalformedFrame,
    RateLimited,
    UnknownOrder,
    VenueUnavailable,
)
from arb_venues.gateio import schemas
from arb_venues.gateio.errors import map_error
from arb_venues.gateio.market import GateMarket
from arb_venues.gateio.parser import GateParser
from arb_venues.gateio.sim.app import create_app
from arb_venues.gateio.sim.bodies import error_response
from arb_venues.gateio.trading import GateTrading
from pydantic import SecretStr

from tests.unit.venues.gateio.recorded import gateio_dir_or_skip, session

pytestmark = pytest.mark.unit  # pure of Redis; real loopback sockets

KEY, SECRET = "gate-key-1", "gate-secret-1"
ETH = Instrument(venue="gateio", symbol="ETH-USDT", venue_symbol="ETH_USDT", base="ETH",
                 quote="USDT", tick_size="0.01", lot_size="0.0001", min_size="0.0001",
                 min_notional="1", price_decimals=2, size_decimals=4)  # fmt: skip
SUBSCRIBE = (
    '{"time":1,"channel":"spot.order_book_update","event":"subscribe",'
    '"payload":["ETH_USDT","100ms"]}'
)


@dataclass
class Sim:
    market: VenueMarket
    server: TestServer
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def trading(self, secret: str = SECRET) -> GateTrading:
        rest = RestClient("gateio", self.base, error_mapper=map_error, request=ONCE)
        return GateTrading(rest, Credentials(KEY, SecretStr(secret)), {ETH.symbol: ETH})

    async def subscribed(self) -> aiohttp.ClientWebSocketResponse:
        ws = await self.http.ws_connect(self.base.replace("http://", "ws://") + "/ws/v4/")
        await ws.send_str(SUBSCRIBE)
        ack = await ws.receive_json(timeout=5)
        assert ack["result"] == {"status": "success"} and ack["event"] == "subscribe"
        return ws


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    market = venue_market(
        "gateio",
        instruments=[ETH],
        accounts=[Account(KEY, SECRET, balances={"USDT": "10000", "ETH": "1"})],
    )
    market.set_book("ETH-USDT", bids=[("3000.00", "2"), ("2999.50", "4")],
                    asks=[("3000.50", "1"), ("3001.00", "3")])  # fmt: skip
    async with (
        TestServer(create_app(market), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        yield Sim(market, server, http)


async def next_text(ws: aiohttp.ClientWebSocketResponse) -> str:
    message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return str(message.data)


def intent(price: str, size: str, cid: str, side: Side = Side.BUY, tif: str = "IOC") -> OrderIntent:
    return OrderIntent(venue="gateio", symbol="ETH-USDT", side=side, price=price, size=size,
                       client_order_id=cid, time_in_force=tif)  # fmt: skip


# -- market data ---------------------------------------------------------------------------------


async def test_updates_continue_the_with_id_snapshot(sim: Sim) -> None:
    parser = GateParser(SymbolMap([ETH]))
    ws = await sim.subscribed()
    url = f"{sim.base}/api/v4/spot/order_book?currency_pair=ETH_USDT&limit=100&with_id=true"
    async with sim.http.get(url) as resp:
        [snap] = parser.parse_rest(str(resp.url), await resp.read(), 1)
    assert isinstance(snap, BookSnapshot) and snap.seq == 1
    assert snap.bids == [(3000.0, 2.0), (2999.5, 4.0)] and snap.asks[0] == (3000.5, 1.0)
    sim.market.apply("ETH-USDT", bids=[("3000.00", "0")], asks=[("3000.25", "1.5")])
    [delta] = parser.parse_ws(await next_text(ws), 2)
    assert isinstance(delta, BookDelta) and delta.symbol == "ETH-USDT"
    assert delta.prev_seq + 1 <= snap.seq + 1 <= delta.seq  # Gate's U <= id+1 <= u
    assert delta.bids == [(3000.0, 0.0)] and delta.asks == [(3000.25, 1.5)]
    await ws.close()


async def test_sim_frames_have_the_recorded_shape(sim: Sim) -> None:
    recorded = session(gateio_dir_or_skip())
    real = next(f.raw for f in recorded if '"event":"update"' in f.raw and "order_book" in f.raw)
    real_snap = next(f.raw for f in recorded if f.kind == "rest")
    ws = await sim.subscribed()
    sim.market.apply("ETH-USDT", bids=[("2999.75", "3.25")])
    ours = await next_text(ws)
    for raw in (ours, real):
        schemas.update_frame_decoder.decode(raw)  # the same wire struct decodes both
    mine, theirs = msgspec.json.decode(ours), msgspec.json.decode(real)
    assert {"time", "channel", "event", "result"} <= set(mine)
    assert set(theirs["result"]) <= set(mine["result"])
    assert all(isinstance(x, str) for level in mine["result"]["b"] for x in level)
    url = f"{sim.base}/api/v4/spot/order_book?currency_pair=ETH_USDT&limit=5&with_id=true"
    async with sim.http.get(url) as resp:
        body = await resp.json()
    assert set(msgspec.json.decode(real_snap)) <= set(body)
    await ws.close()


async def test_ping_is_answered_on_pong_and_bad_requests_get_errors(sim: Sim) -> None:
    ws = await sim.subscribed()
    market = GateMarket(Endpoints(ws_url="", rest_url=""))
    await ws.send_str(market.heartbeat_message() or "")
    pong = await ws.receive_json(timeout=5)
    assert pong["channel"] == "spot.pong"
    parser = GateParser(SymbolMap([ETH]))
    assert parser.parse_ws(msgspec.json.encode(pong), 1) == []
    await ws.send_str(SUBSCRIBE.replace("ETH_USDT", "NOPE_USDT"))
    with pytest.raises(MalformedFrame, match="invalid argument"):
        parser.parse_ws(await next_text(ws), 2)
    await ws.close()


async def test_adapter_subscribes_fetches_instruments_and_snapshots(sim: Sim) -> None:
    market = GateMarket(Endpoints(ws_url=sim.base + "/ws/v4/", rest_url=sim.base))
    [message] = market.subscribe_messages([ETH])
    assert msgspec.json.decode(message)["payload"] == ["ETH_USDT", "100ms"]
    rest = RestClient("gateio", sim.base, limiter=RateLimiter(GateMarket.rest_limits),
                      error_mapper=market.error_mapper())  # fmt: skip
    try:
        [instrument] = await market.fetch_instruments(rest)
        assert (instrument.symbol, instrument.venue_symbol) == ("ETH-USDT", "ETH_USDT")
        assert (instrument.tick_size, instrument.lot_size) == ("0.01", "0.0001")
        parser = market.make_parser(SymbolMap([instrument]))
        [snap] = await market.fetch_snapshot(rest, instrument, parser, time.time_ns)
        assert isinstance(snap, BookSnapshot) and snap.seq == sim.market.book("ETH-USDT").seq
    finally:
        await rest.close()


async def test_faults_malformed_skip_seq_and_drop(sim: Sim) -> None:
    parser = GateParser(SymbolMap([ETH]))
    ws = await sim.subscribed()
    sim.market.apply("ETH-USDT", asks=[("3002.00", "1")])
    [first] = parser.parse_ws(await next_text(ws), 1)
    sim.market.armed_faults.arm("skip_seq", "ETH-USDT")
    sim.market.apply("ETH-USDT", asks=[("3003.00", "1")])  # never sent
    sim.market.armed_faults.arm("malformed_frame")
    with pytest.raises(MalformedFrame):
        parser.parse_ws(await next_text(ws), 2)
    sim.market.apply("ETH-USDT", asks=[("3004.00", "1")])
    [after] = parser.parse_ws(await next_text(ws), 3)
    assert after.prev_seq > first.seq  # the book rule sees a gap
    sim.market.armed_faults.arm("drop_connection")
    assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


# -- private REST --------------------------------------------------------------------------------


async def test_signed_ioc_fills_and_moves_balances_as_the_ledger_has_it(sim: Sim) -> None:
    client = sim.trading()
    try:
        report = await client.place_order(intent("3001.00", "2", "arbioc1"))
        order = sim.market.get_order(KEY, "ETH-USDT", "arbioc1")
        assert order is not None and order.filled == Decimal("2")
        assert report.status is OrderStatus.FILLED and report.client_order_id == "arbioc1"
        assert Decimal(report.quote_filled) == order.quote_filled == Decimal("6001.50")
        assert Decimal(report.fee) == order.fee and report.fee_asset == order.fee_asset == "ETH"
        balances = (await client.balances()).balances
        for asset in ("ETH", "USDT"):
            free, locked = sim.market.balances(KEY)[asset]
            assert (
                Decimal(balances[asset].free) == free and Decimal(balances[asset].locked) == locked
            )
        again = await client.get_order("ETH-USDT", "arbioc1")
        assert (again.status, again.filled_size) == (report.status, report.filled_size)
    finally:
        await client.rest.close()


async def test_ioc_remainder_cancel_and_refusals(sim: Sim) -> None:
    client = sim.trading()
    try:
        partial = await client.place_order(intent("3000.50", "3", "arbioc2"))
        assert partial.status is OrderStatus.CANCELED and partial.filled_size == "1"
        resting = await client.place_order(intent("2900.00", "0.1", "arbgtc1", tif="GTC"))
        assert resting.status is OrderStatus.NEW
        cancelled = await client.cancel_order("ETH-USDT", "arbgtc1")
        assert cancelled.status is OrderStatus.CANCELED
        done = await client.cancel_order("ETH-USDT", "arbioc2")  # closed: read back instead
        assert done.status is OrderStatus.CANCELED and done.filled_size == "1"
        with pytest.raises(UnknownOrder):
            await client.get_order("ETH-USDT", "neverplaced")
        with pytest.raises(InsufficientBalance):
            await client.place_order(intent("3001.00", "100", "arbbig1"))
    finally:
        await client.rest.close()


async def test_wrong_secret_is_refused_and_nothing_trades(sim: Sim) -> None:
    client = sim.trading(secret="not-the-secret")
    try:
        with pytest.raises(InvalidSignature, match="INVALID_SIGNATURE"):
            await client.place_order(intent("3001.00", "0.1", "arbbad1"))
        assert sim.market.orders(KEY) == []
    finally:
        await client.rest.close()


async def test_client_ids_are_sent_as_gate_text_and_read_back_without_the_prefix(sim: Sim) -> None:
    cid = GateTrading.client_order_id("opp-1", "buy")
    assert len(cid) == 28 and cid.startswith("arb")
    client = sim.trading()
    try:
        await client.place_order(intent("3001.00", "0.1", cid))
        url = f"{sim.base}/api/v4/spot/orders/t-{cid}?currency_pair=ETH_USDT"
        async with sim.http.get(url) as resp:
            assert resp.status == 401  # unsigned
        [listed] = await client.recent_orders(["ETH-USDT"], time.time_ns() - 10**9)
        assert listed.client_order_id == cid
    finally:
        await client.rest.close()


@pytest.mark.parametrize(("kind", "status", "error"), [("http_429", 429, RateLimited),
                         ("http_5xx", 500, VenueUnavailable)])  # fmt: skip
def test_error_responses_speak_gate(kind: str, status: int, error: type) -> None:
    response = error_response(kind, 2.0)
    assert response.status == status and response.body is not None
    mapped = map_error(Response(status, dict(response.headers), bytes(response.body), 0.0))  # type: ignore[arg-type]
    assert isinstance(mapped, error)
    if isinstance(mapped, RateLimited):
        assert mapped.retry_after_s == 2.0
