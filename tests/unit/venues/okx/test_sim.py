"""The OKX simulator over real sockets (127.0.0.1), spoken to by the real adapter."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    MalformedFrame,
    RateLimited,
    UnknownOrder,
    VenueUnavailable,
)
from arb_venues.fees import with_account_fees
from arb_venues.okx import VENUE, schemas
from arb_venues.okx.errors import error_mapper
from arb_venues.okx.market import OkxMarket
from arb_venues.okx.parser import OkxParser
from arb_venues.okx.trading import OkxTrading
from arb_venues.simapi import ERROR_RESPONSE
from pydantic import SecretStr

from tests.unit.venues.okx.helpers import (
    BTC_USDT,
    SEQ0,
    fixtures_path,
    okx_market,
    recorded_ws,
)

pytestmark = pytest.mark.integration  # real sockets on loopback

OKX_NUMBER = re.compile(r"^(0|[1-9]\d*)(\.\d*[1-9])?$")  # "41006.8", "0.5", "100": no padding


@pytest.fixture
def market() -> VenueMarket:
    return okx_market()


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
    client = RestClient("okx", str(server.make_url("")), error_mapper=error_mapper, request=ONCE)
    try:
        yield client
    finally:
        await client.close()


def trading(rest: RestClient, secret: str = "secret-1", key: str = "key-1") -> OkxTrading:
    credentials = Credentials(api_key=key, secret=SecretStr(secret), passphrase=SecretStr("pass-1"))
    return OkxTrading(rest, credentials, {"BTC-USDT": BTC_USDT})


def intent(side: Side, price: str, size: str, client_id: str) -> OrderIntent:
    return OrderIntent(
        venue="okx", symbol="BTC-USDT", side=side, price=price, size=size, client_order_id=client_id
    )


async def _frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[str]:
    return [await ws.receive_str(timeout=5) for _ in range(count)]


async def test_ws_subscribe_snapshot_update_and_ping_parse_with_the_real_parser(
    server: TestServer, market: VenueMarket
) -> None:
    protocol = OkxMarket(Endpoints(ws_url=str(server.make_url("/ws/v5/public")), rest_url=""))
    parser = protocol.make_parser(SymbolMap([BTC_USDT]))
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(protocol.ws_url([BTC_USDT])) as ws,
    ):
        for message in protocol.subscribe_messages([BTC_USDT]):
            await ws.send_str(message)
        ack, snapshot = await _frames(ws, 2)
        assert parser.parse_ws(ack, 1) == []
        [snap] = parser.parse_ws(snapshot, 2)
        assert isinstance(snap, BookSnapshot)
        assert (snap.seq, snap.bids[0], snap.asks[0], snap.checksum) == (
            SEQ0,
            (41006.8, 1.5),
            (41007.1, 0.5),
            None,
        )
        market.apply("BTC-USDT", bids=[("41006.8", "0")], asks=[("41007", "0.3")])
        [delta] = parser.parse_ws(await ws.receive_str(timeout=5), 3)
        assert isinstance(delta, BookDelta)
        assert (delta.prev_seq, delta.seq, delta.bids, delta.asks) == (
            SEQ0,
            SEQ0 + 1,
            [(41006.8, 0.0)],
            [(41007.0, 0.3)],
        )
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=5) == "pong"


async def test_bad_subscribe_gets_okx_error_event(server: TestServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.make_url("/ws/v5/public")) as ws,
    ):
        await ws.send_str('{"op":"subscribe","argss":[{"channel":"books"}]}')
        reply = await ws.receive_str(timeout=5)
        await ws.send_str('{"op":"subscribe","args":[{"channel":"books","instId":"NOPE-X"}]}')
        unknown = await ws.receive_str(timeout=5)
    assert json.loads(reply)["event"] == "error" and json.loads(reply)["code"] == "60012"
    assert json.loads(unknown)["code"] == "60018"
    with pytest.raises(MalformedFrame, match="60012"):
        OkxParser().parse_ws(reply, 1)


async def test_rest_snapshot_and_instruments_through_the_adapter(
    server: TestServer, rest: RestClient, market: VenueMarket
) -> None:
    protocol = OkxMarket(Endpoints(ws_url="", rest_url=rest.base_url))
    parser = protocol.make_parser(SymbolMap([BTC_USDT]))
    [snap] = await protocol.fetch_snapshot(rest, BTC_USDT, parser, lambda: 9)
    assert isinstance(snap, BookSnapshot)
    assert (snap.seq, snap.bids_text, snap.asks_text, snap.ts_recv) == (
        market.book("BTC-USDT").seq,
        [("41006.8", "1.5"), ("41006", "0.25")],
        [("41007.1", "0.5"), ("41010", "2")],
        9,
    )
    # What ingest publishes (fetched, then the account's fees) is what the simulator lists.
    [instrument] = with_account_fees(await protocol.fetch_instruments(rest))
    assert instrument == BTC_USDT


async def test_wrong_secret_and_unknown_key_are_refused_with_okx_codes(rest: RestClient) -> None:
    with pytest.raises(InvalidSignature) as wrong_secret:
        await trading(rest, secret="secret-2").balances()
    assert (wrong_secret.value.api_code, wrong_secret.value.code) == ("50113", 401)
    with pytest.raises(InvalidSignature) as unknown_key:
        await trading(rest, key="key-9").balances()
    assert unknown_key.value.api_code == "50111"


async def test_signed_ioc_fills_and_moves_balances(rest: RestClient, market: VenueMarket) -> None:
    client = trading(rest)
    before = await client.balances()
    report = await client.place_order(intent(Side.BUY, "41010", "0.7", "arbBuy1"))
    assert (report.status, report.filled_size, report.fee, report.fee_asset) == (
        OrderStatus.FILLED,
        "0.7",
        "0.0007",
        "BTC",
    )
    assert Decimal(report.avg_price) == (
        Decimal("41007.1") * Decimal("0.5") + Decimal("41010") * Decimal("0.2")
    ) / Decimal("0.7")
    after = await client.balances()
    spent = Decimal(before.balances["USDT"].free) - Decimal(after.balances["USDT"].free)
    assert spent == Decimal("41007.1") * Decimal("0.5") + Decimal("41010") * Decimal("0.2")
    assert Decimal(after.balances["BTC"].free) - Decimal(before.balances["BTC"].free) == Decimal(
        "0.6993"
    )
    assert (await client.get_order("BTC-USDT", "arbBuy1")).status is OrderStatus.FILLED
    cancelled = await client.cancel_order("BTC-USDT", "arbBuy1")  # 51400: already done
    assert cancelled.status is OrderStatus.FILLED


async def test_order_failures_map_to_okx_errors(rest: RestClient) -> None:
    client = trading(rest)
    with pytest.raises(InsufficientBalance) as broke:
        await client.place_order(intent(Side.BUY, "41010", "100", "arbBig1"))
    assert broke.value.api_code == "51008" and "USDT" in str(broke.value)
    with pytest.raises(UnknownOrder) as missing:
        await client.get_order("BTC-USDT", "arbNever1")
    assert missing.value.api_code == "51603"


async def test_lost_response_is_unknown_outcome_then_found_by_client_id(
    rest: RestClient, market: VenueMarket
) -> None:
    market.armed_faults.arm("lose_response")
    client = trading(rest)
    with pytest.raises(VenueUnavailable):
        await client.place_order(intent(Side.SELL, "41006", "0.1", "arbLost1"))
    found = await client.get_order("BTC-USDT", "arbLost1")
    assert (found.status, found.filled_size) == (OrderStatus.FILLED, "0.1")


async def test_injected_http_errors_use_okx_bodies(server: TestServer, rest: RestClient) -> None:
    make = server.app[ERROR_RESPONSE]
    limited = make("http_429", 1.5)
    mapped = error_mapper(_as_response(limited))
    assert (
        isinstance(mapped, RateLimited)
        and mapped.retry_after_s == 1.5
        and mapped.api_code == "50011"
    )
    assert isinstance(error_mapper(_as_response(make("http_5xx", None))), VenueUnavailable)
    assert make("http_418", None).status == 418


def _as_response(response: aiohttp.web.Response):
    from arb_venues.common.rest import Response

    assert isinstance(response.body, bytes)
    return Response(response.status, dict(response.headers), response.body, 0.0)


async def test_sim_frames_match_the_recorded_shapes_and_number_format(
    server: TestServer, rest: RestClient, market: VenueMarket
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.make_url("/ws/v5/public")) as ws,
    ):
        await ws.send_str(OkxMarket(Endpoints("", "")).subscribe_messages([BTC_USDT])[0])
        _, snapshot = await _frames(ws, 2)
        market.apply("BTC-USDT", bids=[("41006.5", "0.125")])
        update = await ws.receive_str(timeout=5)
    fixtures = fixtures_path()
    if fixtures is None:
        pytest.skip("recorded data not found (set ARB_FIXTURES_DIR)")
    doc = json.loads((fixtures / "okx" / "nautilus_ws_books_update.json").read_text())
    recorded = [f for f in recorded_ws(fixtures) if '"books"' in f and '"action"' in f]
    real_snapshot = next(f for f in recorded if '"snapshot"' in f)
    real_update = next(f for f in recorded if '"update"' in f)
    for sim_frame, real_frame in ((snapshot, real_snapshot), (update, real_update)):
        sim, real = json.loads(sim_frame), json.loads(real_frame)
        assert sim.keys() == real.keys() and sim["action"] == real["action"]
        # same fields as OKX today: the 2022 recording plus seqId/prevSeqId (doc frame)
        assert sim["data"][0].keys() == doc["data"][0].keys()
        for frame in (sim_frame, real_frame):  # the same structs decode both
            envelope = schemas.ENVELOPE.decode(frame)
            schemas.BOOK_DATA.decode(envelope.data)
            [text] = schemas.BOOK_TEXT.decode(envelope.data)
            for level in text.asks + text.bids:
                assert len(level) == 4 and all(OKX_NUMBER.match(x) for x in level), level
    body = msgspec.json.decode(await rest.get("/api/v5/market/books", query="instId=BTC-USDT&sz=5"))
    assert body["code"] == "0" and isinstance(body["data"][0]["seqId"], int)
    assert all(OKX_NUMBER.match(x) for level in body["data"][0]["asks"] for x in level)
