"""The Crypto.com simulator's protocol over a real socket: the documented shapes, the
heartbeat rule, signature checks and reason codes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot
from arb_venues.base import Credentials
from arb_venues.common.symbols import SymbolMap
from arb_venues.cryptocom.parser import CryptocomParser
from arb_venues.cryptocom.signing import signed_body
from arb_venues.cryptocom.sim.app import STREAM
from pydantic import SecretStr

from tests.unit.venues.cryptocom.instruments import API_KEY, BTC, ETH, SECRET

pytestmark = pytest.mark.integration
D = Decimal
SUBSCRIBE = {"id": 1, "method": "subscribe", "nonce": 1,
             "params": {"channels": ["book.BTC_USDT.10"],
                        "book_subscription_type": "SNAPSHOT_AND_UPDATE",
                        "book_update_frequency": 10}}  # fmt: skip


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, object]:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    value: dict[str, object] = msgspec.json.decode(message.data)
    return value


async def test_get_book_and_instruments_have_the_documented_shape(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    url = server.make_url("/exchange/v1/public/get-book?instrument_name=BTC_USDT&depth=3")
    async with session.get(url) as response:
        body = await response.read()
    (snapshot,) = CryptocomParser(SymbolMap([BTC])).parse_rest(str(url), body, 1)
    assert snapshot.bids == [(100.0, 1.5), (99.99, 2.5), (99.98, 3.5)]
    assert snapshot.asks[0] == (100.01, 2.0)
    answer = msgspec.json.decode(body)
    assert answer["result"]["data"][0]["bids"][0] == ["100.00", "1.50000", "1"]
    async with session.get(server.make_url("/exchange/v1/public/get-book?instrument_name=X")) as r:
        assert r.status == 400 and (await r.json())["code"] == 209
    async with session.get(server.make_url("/exchange/v1/public/get-instruments")) as r:
        rows = (await r.json())["result"]["data"]
    assert {row["symbol"] for row in rows} == {"BTC_USDT", "ETH_USDT"}
    assert all(row["inst_type"] == "CCY_PAIR" for row in rows)


async def test_delta_subscription_sends_ack_snapshot_then_chained_updates(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    parser = CryptocomParser(SymbolMap([BTC, ETH]))
    async with session.ws_connect(server.make_url("/exchange/v1/market")) as ws:
        await ws.send_json(SUBSCRIBE)
        assert await _next(ws) == {"id": 1, "method": "subscribe", "code": 0}
        (snapshot,) = parser.parse_ws(msgspec.json.encode(await _next(ws)), 1)
        assert isinstance(snapshot, BookSnapshot) and len(snapshot.bids) == 10
        market.apply("BTC-USDT", bids=[(D("100.00"), D("0"))])  # the best bid leaves
        (delta,) = parser.parse_ws(msgspec.json.encode(await _next(ws)), 2)
        assert isinstance(delta, BookDelta) and delta.prev_seq == snapshot.seq
        assert (100.0, 0.0) in delta.bids and (99.9, 11.5) in delta.bids  # level 11 enters
        market.armed_faults.arm("skip_seq")
        market.apply("BTC-USDT", asks=[(D("100.01"), D("9"))])
        parser.parse_ws(msgspec.json.encode(await _next(ws)), 3)
        assert parser.resync_needed == {"BTC_USDT"}  # pu names a u that never came


async def test_snapshot_subscription_is_the_default_and_pushes_whole_books(
    server: TestServer, session: aiohttp.ClientSession, market: VenueMarket
) -> None:
    async with session.ws_connect(server.make_url("/exchange/v1/market")) as ws:
        await ws.send_json(
            {"id": 2, "method": "subscribe", "params": {"channels": ["book.BTC_USDT.10"]}}
        )
        await _next(ws)
        await _next(ws)
        market.apply("BTC-USDT", bids=[(D("100.00"), D("4"))])
        push = await _next(ws)
        result = push["result"]
        assert isinstance(result, dict) and result["channel"] == "book"
        assert result["data"][0]["bids"][0] == ["100.00", "4.00000", "1"]


async def test_bad_subscribe_answers_invalid_request(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(server.make_url("/exchange/v1/market")) as ws:
        await ws.send_json({**SUBSCRIBE, "params": {"channels": ["book.BTC_USDT.20"]}})
        reply = await _next(ws)
        assert reply["code"] == 40003 and reply["id"] == 1


async def test_unanswered_heartbeat_closes_the_connection_answered_keeps_it(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    server.app[STREAM].heartbeat_interval_s = 0.1
    async with session.ws_connect(server.make_url("/exchange/v1/market")) as ws:
        beat = await _next(ws)
        assert beat["method"] == "public/heartbeat"
        await ws.send_json({"id": beat["id"], "method": "public/respond-heartbeat"})
        again = await _next(ws)
        assert again["method"] == "public/heartbeat" and again["id"] != beat["id"]
        closed = await asyncio.wait_for(ws.receive(), 5)  # not answered this time
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1000


@pytest.mark.parametrize(("secret", "api_key"), [("wrong", API_KEY), (SECRET, "nobody")])
async def test_private_call_with_a_bad_signature_or_key_is_40101(
    server: TestServer, session: aiohttp.ClientSession, secret: str, api_key: str
) -> None:
    credentials = Credentials(api_key=api_key, secret=SecretStr(secret))
    body, _ = signed_body(credentials, "private/user-balance", {}, 3)
    async with session.post(server.make_url("/exchange/v1/private/user-balance"),
                            data=body) as response:  # fmt: skip
        assert response.status == 401
        assert (await response.json())["code"] == 40101


async def test_stale_nonce_is_40102(server: TestServer, session: aiohttp.ClientSession) -> None:
    credentials = Credentials(api_key=API_KEY, secret=SecretStr(SECRET))
    body, _ = signed_body(credentials, "private/user-balance", {}, 3, nonce_ms=1)
    async with session.post(server.make_url("/exchange/v1/private/user-balance"),
                            data=body) as response:  # fmt: skip
        assert response.status == 400 and (await response.json())["code"] == 40102
