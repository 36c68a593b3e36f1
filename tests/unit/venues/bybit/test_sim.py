"""The Bybit sim over real sockets on 127.0.0.1, read by the real adapter's parser.

Fidelity: the sim's frames and bodies decode with the same wire structs as the recorded
session and the docs' examples, with the same keys and numbers as strings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot
from arb_venues.base import Endpoints
from arb_venues.bybit import errors as codes
from arb_venues.bybit import schemas
from arb_venues.bybit.market import BybitMarket
from arb_venues.bybit.parser import BybitParser
from arb_venues.bybit.sim.app import error_response
from arb_venues.common.rest import Response, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import BadRequest, MalformedFrame, RateLimited, VenueUnavailable

from tests.unit.venues.bybit.instruments import BTC, XRP
from tests.unit.venues.bybit.recorded import session_lines

pytestmark = pytest.mark.integration

D = Decimal


async def _next(ws: aiohttp.ClientWebSocketResponse) -> str:
    message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return str(message.data)


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, *topics: str) -> list[str]:
    """Send one subscribe; return the ack and one snapshot per topic."""
    await ws.send_str(json.dumps({"op": "subscribe", "args": list(topics), "req_id": "r1"}))
    return [await _next(ws) for _ in range(len(topics) + 1)]


def _parser() -> BybitParser:
    return BybitParser(SymbolMap([BTC, XRP]))


class Book:
    def __init__(self, snapshot: BookSnapshot) -> None:
        self.seq, self.bids, self.asks = snapshot.seq, dict(snapshot.bids), dict(snapshot.asks)

    def apply(self, delta: BookDelta) -> None:
        assert delta.prev_seq == self.seq, (delta.prev_seq, self.seq)
        for side, levels in ((self.bids, delta.bids), (self.asks, delta.asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        self.seq = delta.seq


def _top(market: VenueMarket, symbol: str, depth: int) -> tuple[dict[float, float], ...]:
    book = market.book(symbol)
    return (
        {float(p): float(s) for p, s in book.bids[:depth]},
        {float(p): float(s) for p, s in book.asks[:depth]},
    )


async def test_subscribe_gets_ack_then_snapshot_then_contiguous_deltas_of_the_top_n(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    parser = _parser()
    async with session.ws_connect(server.make_url("/v5/public/spot")) as ws:
        ack, snapshot_text = await _subscribe(ws, "orderbook.1.BTCUSDT")
        assert json.loads(ack) == {
            "success": True,
            "ret_msg": "subscribe",
            "conn_id": json.loads(ack)["conn_id"],
            "req_id": "r1",
            "op": "subscribe",
        }
        assert parser.parse_ws(ack, 1) == []
        (snapshot,) = parser.parse_ws(snapshot_text, 2)
        assert isinstance(snapshot, BookSnapshot) and snapshot.depth == 1
        book = Book(snapshot)
        assert (book.bids, book.asks) == _top(market, "BTC-USDT", 1)
        # the best ask goes: the next one enters the 1-level window (one push of 10 ms)
        market.apply("BTC-USDT", asks=[(D("100.01"), D("0"))])
        deltas = [parser.parse_ws(await _next(ws), 3)[0]]
        market.apply("BTC-USDT", bids=[(D("99.50"), D("7"))])  # outside the window: no push
        # a better bid enters the window: the old best bid leaves it with size "0"
        market.apply("BTC-USDT", bids=[(D("100.01"), D("0.25"))])
        deltas.append(parser.parse_ws(await _next(ws), 3)[0])
        assert all(isinstance(d, BookDelta) for d in deltas)
        assert deltas[0].asks == [(100.02, 3.0), (100.01, 0.0)] and deltas[0].bids == []
        assert deltas[1].bids == [(100.01, 0.25), (100.0, 0.0)]
        for delta in deltas:
            book.apply(delta)  # type: ignore[arg-type]
        assert (book.bids, book.asks) == _top(market, "BTC-USDT", 1)
        await ws.send_str('{"op":"ping","req_id":"p1"}')
        pong = await _next(ws)
        assert json.loads(pong)["ret_msg"] == "pong" and parser.parse_ws(pong, 4) == []


async def test_a_refused_topic_and_too_many_args_get_bybit_error_acks(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(server.make_url("/v5/public/spot")) as ws:
        await ws.send_str('{"op":"subscribe","args":["orderbook.50.NOPEUSDT"]}')
        refused = await _next(ws)
        assert json.loads(refused)["success"] is False
        with pytest.raises(MalformedFrame) as error:
            _parser().parse_ws(refused, 1)
        assert error.value.kind == "subscribe_rejected" and "NOPEUSDT" in str(error.value)
        await ws.send_str(
            json.dumps({"op": "subscribe", "args": [f"orderbook.50.BTCUSDT{i}" for i in range(11)]})
        )
        too_many = json.loads(await _next(ws))
        assert (too_many["success"], too_many["ret_msg"]) == (False, "args size >10")


async def test_resubscribe_sends_a_fresh_snapshot_at_the_current_update_id(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    protocol = BybitMarket(Endpoints(ws_url=str(server.make_url("")), rest_url=""))
    parser = _parser()
    async with session.ws_connect(server.make_url("/v5/public/spot")) as ws:
        for message in protocol.subscribe_messages([BTC]):
            await ws.send_str(message)
        await _next(ws)
        (first,) = parser.parse_ws(await _next(ws), 1)
        market.armed_faults.arm("skip_seq")
        market.apply("BTC-USDT", bids=[(D("100.00"), D("9"))])
        (gapped,) = parser.parse_ws(await _next(ws), 2)
        assert isinstance(gapped, BookDelta) and gapped.prev_seq > first.seq  # a gap
        for message in protocol.resubscribe_messages(BTC):
            await ws.send_str(message)
        replies = [await _next(ws) for _ in range(3)]  # unsubscribe ack, subscribe ack, snapshot
        assert [json.loads(r).get("op") for r in replies[:2]] == ["unsubscribe", "subscribe"]
        (fresh,) = parser.parse_ws(replies[2], 3)
        assert isinstance(fresh, BookSnapshot) and fresh.seq == gapped.seq
        assert dict(fresh.bids)[100.0] == 9.0


async def test_rest_orderbook_and_instruments_read_by_the_adapter(
    server: TestServer, market: VenueMarket
) -> None:
    rest = RestClient("bybit", str(server.make_url("")), error_mapper=codes.map_response)
    try:
        query = "category=spot&symbol=BTCUSDT&limit=5"
        body = await rest.get("/v5/market/orderbook", query=query)
        (snapshot,) = _parser().parse_rest(f"/v5/market/orderbook?{query}", body, 1)
        assert isinstance(snapshot, BookSnapshot) and len(snapshot.bids) == 5
        assert (dict(snapshot.bids), dict(snapshot.asks)) == _top(market, "BTC-USDT", 5)
        protocol = BybitMarket(Endpoints(ws_url="", rest_url=str(server.make_url(""))))
        instruments = {i.symbol: i for i in await protocol.fetch_instruments(rest)}
        for expected in (BTC, XRP):
            got = instruments[expected.symbol]
            assert (
                got.venue_symbol,
                got.tick_size,
                got.lot_size,
                got.min_size,
                got.min_notional,
                got.price_decimals,
                got.size_decimals,
            ) == (
                expected.venue_symbol,
                expected.tick_size,
                expected.lot_size,
                expected.min_size,
                expected.min_notional,
                expected.price_decimals,
                expected.size_decimals,
            )
        with pytest.raises(BadRequest) as error:
            await rest.get("/v5/market/orderbook", query="category=spot&symbol=NOPE")
        assert error.value.api_code == 10001
    finally:
        await rest.close()


def _keys(value: Any) -> Any:
    """The key structure of a JSON value (lists by their first element)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__


@pytest.mark.fixtures
async def test_sim_frames_have_the_recorded_keys_and_string_numbers(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    recorded = [json.loads(line) for line in session_lines()[:2]]
    async with session.ws_connect(server.make_url("/v5/public/spot")) as ws:
        _, snapshot_text = await _subscribe(ws, "orderbook.50.XRPUSDT")
        market.apply("XRP-USDT", bids=[(D("1.9531"), D("75"))], asks=[(D("1.9532"), D("250.5"))])
        delta_text = await _next(ws)
    for text, reference in zip((snapshot_text, delta_text), recorded, strict=True):
        frame = json.loads(text)
        assert _keys(frame) == _keys(reference)  # same keys, numbers as strings in levels
        assert schemas.WS_FRAME.decode(text).data is not None
    snapshot = json.loads(snapshot_text)["data"]
    assert snapshot["b"][0] == ["1.9531", "100.00"]  # tick and lot decimals, like "1.9530"
    assert json.loads(delta_text)["data"]["a"] == [["1.9532", "250.50"]]


async def test_drop_connection_and_malformed_frame_faults(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    async with session.ws_connect(server.make_url("/v5/public/spot")) as ws:
        await _subscribe(ws, "orderbook.50.BTCUSDT")
        market.armed_faults.arm("malformed_frame")
        market.apply("BTC-USDT", bids=[(D("100.00"), D("3"))])
        with pytest.raises(MalformedFrame):
            _parser().parse_ws(await _next(ws), 1)
        (delta,) = _parser().parse_ws(await _next(ws), 2)  # the real delta still follows
        assert isinstance(delta, BookDelta)
        market.armed_faults.arm("drop_connection")
        market.apply("BTC-USDT", bids=[(D("100.00"), D("4"))])
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("http_429", 429, RateLimited),
        ("http_418", 403, RateLimited),
        ("http_5xx", 503, VenueUnavailable),
    ],
)
def test_error_responses_are_bybit_style_and_map_back(
    kind: str, status: int, error: type[Exception]
) -> None:
    response = error_response(kind, 2.0)
    assert response.status == status and response.headers["Retry-After"] == "2"
    assert isinstance(response.body, bytes)
    mapped = codes.map_response(Response(status, dict(response.headers), response.body, 0.0))
    assert isinstance(mapped, error)
    if isinstance(mapped, RateLimited):
        assert mapped.retry_after_s == 2.0
    if status != 403:
        assert msgspec.json.decode(response.body)["retCode"] in (10006, 10016)
