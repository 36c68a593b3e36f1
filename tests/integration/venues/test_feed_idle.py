"""A venue that goes quiet is left: the feed's idle watch closes a connection that brought no
message for the venue's idle timeout, and the feed reconnects. One that keeps talking is kept.

A real WS server on loopback plays the venue: it accepts, ignores what it is sent, and either
says nothing, or sends a pong message every 50 ms, or only WS pings (which the feed answers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from aiohttp import WSMsgType, web
from arb_core.backoff import Backoff
from arb_simulator.catalog import make_instrument
from arb_venues.base import Endpoints
from arb_venues.bybit.market import BybitMarket
from arb_venues.common.feed import IDLE_LOOKS, MarketDataFeed

from tests.support_web import served

pytestmark = pytest.mark.integration

IDLE_S = 0.4
# Bybit's reply to the feed's ping: a message that carries no book data.
PONG = '{"success":true,"ret_msg":"pong","conn_id":"t","op":"ping"}'


class QuickIdleBybit(BybitMarket):
    idle_timeout_s: ClassVar[float] = IDLE_S


class Venue:
    def __init__(self, talk: tuple[str, float] | None) -> None:
        self.talk = talk  # ("text" or "ping", seconds between)
        self.connects = 0
        self.pongs = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.connects += 1
        talker = asyncio.create_task(self._talk(ws))
        try:
            async for message in ws:  # subscribes and the feed's pings: ignored
                self.pongs += message.type is WSMsgType.PONG
        finally:
            talker.cancel()
        return ws

    async def _talk(self, ws: web.WebSocketResponse) -> None:
        if self.talk is None:
            return
        kind, every_s = self.talk
        while not ws.closed:
            await asyncio.sleep(every_s)
            if kind == "ping":
                await ws.ping(b"are you there")
            else:
                await ws.send_str(PONG)


@pytest.fixture
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[Venue]:
    played = Venue(request.param)
    app = web.Application()
    app.router.add_get("/{tail:.*}", played.handle)  # the market appends its own path
    async with served(app) as url:
        played.url = url.replace("http://", "ws://", 1) + "/ws"
        yield played


async def _run_feed(venue: Venue, seconds: float) -> MarketDataFeed:
    protocol = QuickIdleBybit(Endpoints(ws_url=venue.url, rest_url="http://127.0.0.1:1"))
    feed = MarketDataFeed(protocol, [make_instrument("bybit", "BTC-USDT")], lambda _: None,
                          backoff=Backoff(base_s=0.01, cap_s=0.01))  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    await asyncio.sleep(seconds)
    stopping.set()
    await asyncio.wait_for(task, 5)
    return feed


@pytest.mark.parametrize("venue", [None], indirect=True)
async def test_a_silent_connection_is_closed_within_its_idle_timeout_and_reopened(
    venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    longest = IDLE_S * (1 + 1 / IDLE_LOOKS)  # the watch looks IDLE_LOOKS times a timeout
    run_s = 2 * longest + 0.3
    with caplog.at_level(logging.WARNING):
        await _run_feed(venue, run_s)
    assert venue.connects >= 3, venue.connects  # the first, and one after each idle close
    assert venue.connects <= int(run_s / IDLE_S) + 1  # never closed before a whole timeout
    assert f"no frame for {IDLE_S:g}s; reconnecting" in caplog.text


@pytest.mark.parametrize("venue", [("text", 0.05), ("ping", 0.05)], indirect=True)
async def test_a_connection_that_keeps_talking_is_kept(venue: Venue) -> None:
    await _run_feed(venue, 4 * IDLE_S)
    assert venue.connects == 1
    if venue.talk is not None and venue.talk[0] == "ping":
        assert venue.pongs >= 3 * IDLE_S / 0.05  # every ping answered
