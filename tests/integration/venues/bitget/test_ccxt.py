"""A real third-party client against the Bitget simulator: ccxt pro's ``watch_order_book`` for
Bitget spot (the v2 ``books`` channel, its own CRC-32 check of the top 25 levels on every
update, which raises ChecksumError on a mismatch) keeps a consistent book while the market
moves, and ends equal to the simulator's book: an independent implementation of Bitget's
checksum agrees with the one the simulator and the engine share. Runs when ccxt is
installed (a dev dependency)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.bitget.sim.app import create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving
from tests.unit.venues.bitget.helpers import BTC_USDT

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = pytest.mark.integration


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = venue_market("bitget", instruments=[BTC_USDT], rate=50.0)
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, f"127.0.0.1:{server.port}"
    finally:
        await server.close()


def _pointed_at(host: str) -> Any:
    exchange = ccxtpro.bitget()
    exchange.options["fetchMarkets"]["types"] = ["spot"]  # nothing but the simulator
    exchange.has["fetchCurrencies"] = False  # the simulator serves no currency list
    exchange.urls["api"] = {
        name: (f"http://{host}" if isinstance(url, str) else url)
        for name, url in exchange.urls["api"].items()
    }
    exchange.urls["api"]["ws"] = {"public": f"ws://{host}/v2/ws/public"}
    return exchange


async def test_ccxt_watch_order_book_tracks_the_simulated_book(served) -> None:
    market, host = served
    exchange = _pointed_at(host)
    try:
        books = await watch_while_moving(exchange, market)
        got, want = await settled(exchange, market)
        assert got == want
        assert books > 10
    finally:
        await exchange.close()
