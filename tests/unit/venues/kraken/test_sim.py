"""The simulator's Kraken over real sockets on 127.0.0.1, spoken to by the real adapter.

Runs on the simulator's own market (helpers.kraken_market) with a known book.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import InsufficientBalance, InvalidSignature, RateLimited, UnknownOrder
from arb_venues.fees import with_account_fees
from arb_venues.kraken import schemas
from arb_venues.kraken.errors import kraken_error_mapper
from arb_venues.kraken.market import KrakenMarket
from arb_venues.kraken.sim.app import create_app
from arb_venues.kraken.trading import KrakenTrading
from arb_venues.simapi import ERROR_RESPONSE
from pydantic import SecretStr

from .helpers import API_KEY, BTC_USD, SECRET, ReferenceBook, kraken_market

pytestmark = pytest.mark.integration


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, TestServer]]:
    market = kraken_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, server
    finally:
        await server.close()


def _rest(server: TestServer) -> RestClient:
    return RestClient(
        "kraken", str(server.make_url("")), error_mapper=kraken_error_mapper(), request=ONCE
    )


async def _read_until(
    ws: aiohttp.ClientWebSocketResponse, parser, book: ReferenceBook, snapshots: int, deltas: int
) -> list[str]:
    """Feed frames to parser + reference book until it saw this many snapshots and deltas."""
    raws: list[str] = []
    seen = {BookSnapshot: 0, BookDelta: 0}
    while seen[BookSnapshot] < snapshots or seen[BookDelta] < deltas:
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        raws.append(message.data)
        for event in parser.parse_ws(message.data, 1):
            book.apply(event)
            seen[type(event)] = seen.get(type(event), 0) + 1
    return raws


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_adapter_subscribes_and_rebuilds_every_checksum(served, version: str) -> None:
    market, server = served
    protocol = KrakenMarket(
        Endpoints(str(server.make_url("")).replace("http", "ws"), ""), 10, protocol_version=version
    )
    parser = protocol.make_parser(SymbolMap([BTC_USD]))
    book = ReferenceBook()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(protocol.ws_url([BTC_USD])) as ws,
    ):
        for message in protocol.subscribe_messages([BTC_USD]):
            await ws.send_str(message)
        await ws.send_str(protocol.heartbeat_message() or "")
        raws = await _read_until(ws, parser, book, 1, 0)
        for move in (
            {"bids": [("44999.5", "3")]},
            {"asks": [("45000.5", "0")]},
            {"bids": [("44999.9", "0.5")], "asks": [("45000.1", "0.2")]},
        ):
            market.apply("BTC-USD", move.get("bids", []), move.get("asks", []))
        raws += await _read_until(ws, parser, book, 0, 3)
    assert (book.applied, book.gaps, book.checksums_bad) == (3, 0, 0)
    assert book.checksums_ok == (4 if version == "v2" else 3)
    assert any("pong" in r for r in raws)


async def _snapshot_frames(server: TestServer) -> dict[str, str]:
    out = {}
    async with aiohttp.ClientSession() as session:
        for version, path in (("v2", "/v2"), ("v1", "/")):
            protocol = KrakenMarket(Endpoints("ws://x", ""), protocol_version=version)
            async with session.ws_connect(server.make_url(path)) as ws:
                await ws.send_str(protocol.subscribe_messages([BTC_USD])[0])
                while version not in out:
                    raw = (await asyncio.wait_for(ws.receive(), 5)).data
                    if '"type":"snapshot"' in raw or '"as":' in raw:
                        out[version] = raw
    return out


@pytest.mark.fixtures
async def test_sim_frames_look_like_the_recorded_ones(served, fixtures_dir: Path) -> None:
    _, server = served
    frames = await _snapshot_frames(server)
    recorded = (fixtures_dir / "kraken" / "nautilus_ws_book_snapshot.json").read_text()
    shape = msgspec.json.decode(recorded)
    ours = msgspec.json.decode(frames["v2"])
    assert set(ours) == set(shape) and set(ours["data"][0]) >= set(shape["data"][0]) - {"timestamp"}
    assert set(ours["data"][0]["bids"][0]) == set(shape["data"][0]["bids"][0])
    # Same wire structs decode both; prices and quantities are JSON numbers in both.
    for raw in (recorded, frames["v2"]):
        envelope = schemas.V2_ENVELOPE.decode(raw)
        [book] = schemas.V2_BOOKS.decode(envelope.data)
        assert bytes(book.bids[0].price)[:1].isdigit() and bytes(book.asks[0].qty)[:1].isdigit()
    # v1: decimals as strings at the pair's decimals (BTC/USD: 1 and 8).
    parts = json.loads(frames["v1"])
    assert parts[-2:] == ["book-10", "XBT/USD"]
    price, volume, stamp = parts[1]["as"][0]
    assert price == "45000.5" and len(volume.split(".")[1]) == 8 and "." in stamp


async def test_rest_depth_and_asset_pairs_feed_the_adapter(served) -> None:
    market, server = served
    rest = _rest(server)
    try:
        fetched = await KrakenMarket(Endpoints("", "")).fetch_instruments(rest)
        # What ingest publishes (the account's fees applied) is what the simulator lists.
        [instrument] = with_account_fees(fetched)
        assert instrument == msgspec.structs.replace(BTC_USD, status="trading")
        body = await rest.get("/0/public/Depth", query="pair=XBTUSD&count=5")
        parser = KrakenMarket(Endpoints("", "")).make_parser(SymbolMap([BTC_USD]))
        [snapshot] = parser.parse_rest("/0/public/Depth?pair=XBTUSD&count=5", body, 1)
        assert isinstance(snapshot, BookSnapshot) and len(snapshot.bids) == 5
        assert snapshot.bids[0][0] == float(market.book("BTC-USD").bids[0][0])
        assert "XXBTZUSD" in json.loads(body)["result"]
    finally:
        await rest.close()


def _trading(server: TestServer, secret: str = SECRET) -> KrakenTrading:
    return KrakenTrading(
        _rest(server), Credentials(API_KEY, SecretStr(secret)), {BTC_USD.symbol: BTC_USD}
    )


def _intent(
    client_order_id: str, side: Side = Side.BUY, size: str = "0.5", price: str = "45001.0"
) -> OrderIntent:
    return OrderIntent(
        venue="kraken",
        symbol="BTC-USD",
        side=side,
        price=price,
        size=size,
        client_order_id=client_order_id,
    )


async def test_a_wrong_secret_is_refused_with_kraken_invalid_signature(served) -> None:
    market, server = served
    wrong = SECRET.replace("kQH5", "kQH6")
    trading = _trading(server, wrong)
    try:
        with pytest.raises(InvalidSignature, match="EAPI:Invalid signature"):
            await trading.place_order(_intent(KrakenTrading.client_order_id("o1", "buy")))
        assert market.orders_total == 0
    finally:
        await trading.rest.close()


async def test_a_signed_ioc_order_fills_moves_balances_and_is_found_by_client_id(served) -> None:
    _market, server = served
    trading = _trading(server)
    client_id = KrakenTrading.client_order_id("o2", "buy")
    try:
        before = await trading.balances()
        report = await trading.place_order(_intent(client_id, size="0.5", price="45001.0"))
        assert report.status is OrderStatus.FILLED and report.filled_size == "0.50000000"
        assert report.client_order_id == client_id and report.venue_order_id.startswith("O")
        assert Decimal(report.avg_price) <= Decimal("45001.0") and Decimal(report.fee) > 0
        after = await trading.balances()
        assert Decimal(after.balances["BTC"].free) - Decimal(
            before.balances["BTC"].free
        ) == Decimal("0.5")
        assert Decimal(after.balances["USD"].free) < Decimal(before.balances["USD"].free)
        found = await trading.get_order("BTC-USD", client_id)
        assert found.venue_order_id == report.venue_order_id and found.status is report.status
        with pytest.raises(UnknownOrder):
            await trading.cancel_order("BTC-USD", client_id)  # an IOC is never open
        with pytest.raises(UnknownOrder):
            await trading.get_order("BTC-USD", KrakenTrading.client_order_id("never", "buy"))
    finally:
        await trading.rest.close()


async def test_partial_ioc_is_canceled_with_its_fill_and_no_funds_is_refused(served) -> None:
    _, server = served
    trading = _trading(server)
    try:
        partial = await trading.place_order(_intent("partial-1", size="1.0", price="45000.5"))
        assert partial.status is OrderStatus.CANCELED
        assert Decimal(partial.filled_size) == Decimal("0.31")  # the one level at 45000.5
        with pytest.raises(InsufficientBalance, match="EOrder:Insufficient funds"):
            await trading.place_order(_intent("too-big", size="100", price="46000.0"))
    finally:
        await trading.rest.close()


async def test_injected_429_reads_as_rate_limited_with_retry_after(served) -> None:
    _, server = served
    response = server.app[ERROR_RESPONSE]("http_429", 2.0)
    assert response.status == 429 and response.headers["Retry-After"] == "2"
    from arb_venues.common.rest import Response as RestResponse

    mapped = kraken_error_mapper()(RestResponse(429, dict(response.headers), response.body, 0))
    assert isinstance(mapped, RateLimited) and mapped.retry_after_s == 2.0
