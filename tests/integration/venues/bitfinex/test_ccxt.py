"""A real third-party client against the Bitfinex simulator: ccxt pro's ``watch_order_book``
(its own WS v2 book handling, OB_CHECKSUM verified by ccxt on every ``cs`` message: a
mismatch raises ChecksumError) keeps its book for a few seconds of a moving market, and ends
equal to the simulator's own book. ccxt is a pinned dev dependency; without it this skips."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import venue_market
from arb_venues.bitfinex.sim.app import create_app

pytestmark = pytest.mark.integration

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

SECONDS = 2.0


def _top(levels: Any, depth: int) -> list[tuple[float, float]]:
    return [(float(level[0]), float(level[1])) for level in list(levels)[:depth]]


async def test_ccxt_watch_order_book_stays_checksum_consistent_and_equals_the_simulator() -> None:
    market = venue_market("bitfinex", symbols=("BTC-USDT",))
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = f"{server.host}:{server.port}"
    exchange = ccxtpro.bitfinex({"enableRateLimit": False})
    exchange.urls["api"]["public"] = f"http://{base}"
    exchange.urls["api"]["ws"]["public"] = f"ws://{base}/ws/2"
    exchange.has["fetchCurrencies"] = False  # the test is about the book
    moving = True

    async def move() -> None:
        while moving:
            market.market.step()
            await asyncio.sleep(0.02)

    stepper = asyncio.create_task(move())
    try:
        book = await exchange.watch_order_book("BTC/USDT", 25)
        updates = 0
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT", 25), 10)
            updates += 1
        moving = False
        await stepper
        assert updates > 10
        truth = market.book("BTC-USDT")
        expected = ([(float(p), float(s)) for p, s in truth.bids[:25]],
                    [(float(p), float(s)) for p, s in truth.asks[:25]])  # fmt: skip
        for _ in range(200):  # the last changes may still be on the wire
            if (_top(book["bids"], 25), _top(book["asks"], 25)) == expected:
                break
            await asyncio.sleep(0.02)
        assert (_top(book["bids"], 25), _top(book["asks"], 25)) == expected
        assert book["bids"][0][0] < book["asks"][0][0]
    finally:
        moving = False
        await stepper
        await exchange.close()
        await server.close()
