"""A real third-party client against the Bitfinex simulator: ccxt pro's ``watch_order_book``
(its own WS v2 book handling, OB_CHECKSUM verified by ccxt on every ``cs`` message: a
mismatch raises ChecksumError) keeps its book for a few seconds of a moving market, and ends
equal to the simulator's own book. ccxt is a pinned dev dependency; without it this skips."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import venue_market
from arb_venues.bitfinex.sim.app import create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving

pytestmark = pytest.mark.integration

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

SECONDS = 2.0


async def test_ccxt_watch_order_book_stays_checksum_consistent_and_equals_the_simulator() -> None:
    market = venue_market("bitfinex", symbols=("BTC-USDT",))
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = f"{server.host}:{server.port}"
    exchange = ccxtpro.bitfinex({"enableRateLimit": False})
    exchange.urls["api"]["public"] = f"http://{base}"
    exchange.urls["api"]["ws"]["public"] = f"ws://{base}/ws/2"
    exchange.has["fetchCurrencies"] = False  # the test is about the book
    try:
        updates = await watch_while_moving(exchange, market, limit=25, seconds=SECONDS,
                                           timeout_s=10, depth=25)  # fmt: skip
        got, want = await settled(exchange, market, depth=25, wait_s=4.0)
        assert got == want
        assert updates > 10
    finally:
        await exchange.close()
        await server.close()
