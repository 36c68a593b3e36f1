"""The MEXC simulator speaks MEXC's wire protocol: JSON replies to SUBSCRIPTION and PING,
binary protobuf pushes that decode by MEXC's field numbers, its limits, and REST bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.mexc import schemas
from arb_venues.mexc.sim.app import create_app

from tests.unit.venues.mexc.helpers import BTC_USDT

pytestmark = pytest.mark.unit

CHANNEL = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"


def _market() -> VenueMarket:
    market = venue_market("mexc", instruments=[BTC_USDT])
    market.set_book("BTC-USDT", bids=[("60000", "1")], asks=[("60001", "2")])
    return market


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, TestServer]]:
    market = _market()
    server = TestServer(create_app(market, no_subscription_timeout_s=0.4), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, server
    finally:
        await server.close()


async def test_subscribe_ping_and_a_binary_push(served) -> None:
    market, server = served
    async with aiohttp.ClientSession() as session, session.ws_connect(server.make_url("/ws")) as ws:
        await ws.send_str(
            msgspec.json.encode({"method": "SUBSCRIPTION", "params": [CHANNEL]}).decode()
        )
        assert msgspec.json.decode((await ws.receive()).data) == {
            "id": 0,
            "code": 0,
            "msg": CHANNEL,
        }
        await ws.send_str('{"method":"PING"}')
        assert msgspec.json.decode((await ws.receive()).data) == {"id": 0, "code": 0, "msg": "PONG"}
        seq = market.book("BTC-USDT").seq
        market.apply("BTC-USDT", bids=[("59999", "3")], asks=[])
        market.apply("BTC-USDT", bids=[], asks=[("60001", "0")])
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.BINARY
        push = schemas.PushDataV3ApiWrapper.FromString(message.data)
        body = push.publicAggreDepths
        assert (push.channel, push.symbol) == (CHANNEL, "BTCUSDT")
        assert (int(body.fromVersion), int(body.toVersion)) == (seq + 1, seq + 2)  # aggregated
        assert [(i.price, i.quantity) for i in body.bids] == [("59999", "3")]
        assert [(i.price, i.quantity) for i in body.asks] == [("60001", "0")]
        assert body.eventType == "spot@public.aggre.depth.v3.api.pb@100ms"


async def test_unknown_channels_are_not_subscribed_and_both_intervals_are(served) -> None:
    _, server = served
    async with aiohttp.ClientSession() as session, session.ws_connect(server.make_url("/ws")) as ws:
        await ws.send_str('{"method":"SUBSCRIPTION","params":["spot@public.nope@BTCUSDT"]}')
        reply = msgspec.json.decode((await ws.receive()).data)
        assert reply["code"] == 0 and reply["msg"].startswith("Not Subscribed successfully!")
        many = [CHANNEL, CHANNEL.replace("100ms", "10ms")]
        await ws.send_str(msgspec.json.encode({"method": "SUBSCRIPTION", "params": many}).decode())
        assert msgspec.json.decode((await ws.receive()).data)["msg"] == ",".join(many)


async def test_a_connection_without_a_subscription_is_closed(served) -> None:
    _, server = served
    async with aiohttp.ClientSession() as session, session.ws_connect(server.make_url("/ws")) as ws:
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_rest_depth_and_exchange_info(served) -> None:
    market, server = served
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/api/v3/depth"),
                               params={"symbol": "BTCUSDT", "limit": "5"}) as resp:  # fmt: skip
            depth = await resp.json()
        assert depth["lastUpdateId"] == market.book("BTC-USDT").seq
        assert depth["bids"] == [["60000", "1"]] and depth["asks"] == [["60001", "2"]]
        async with session.get(server.make_url("/api/v3/exchangeInfo")) as resp:
            [info] = (await resp.json())["symbols"]
        assert (info["symbol"], info["status"], info["quotePrecision"]) == ("BTCUSDT", "1", 2)
        async with session.get(server.make_url("/api/v3/depth"), params={"symbol": "NOPE"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 10007
        async with session.post(
            server.make_url("/api/v3/order"), params={"symbol": "BTCUSDT"}
        ) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 400  # api key required
