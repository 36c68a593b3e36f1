"""A real third-party client against the KuCoin simulator: ccxt pro's ``watch_order_book`` for
KuCoin spot (its own bullet-public token call, its pings, its ``/market/level2`` subscription,
its REST ``level2_100`` snapshot and its ``sequenceStart``/``sequenceEnd`` checks) keeps a
consistent book while the market moves, and ends equal to the simulator's book. Runs when
ccxt is installed (a dev dependency)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.kucoin.sim.app import TOKENS, create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving
from tests.unit.venues.kucoin.helpers import BTC_USDT

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = pytest.mark.integration


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, TestServer]]:
    market = venue_market("kucoin", instruments=[BTC_USDT], rate=50.0)
    server = TestServer(create_app(market, ping_interval_ms=1000), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, server
    finally:
        await server.close()


def _pointed_at(host: str) -> Any:
    exchange = ccxtpro.kucoin()
    exchange.has["fetchCurrencies"] = False  # the simulator serves no currency list
    # Spot symbols only, without the tickers ccxt reads fees from (the simulator serves neither).
    exchange.options["fetchMarkets"] = {"types": ["spot"], "fetchTickersFees": False}
    exchange.urls["api"] = {
        name: (f"http://{host}" if isinstance(url, str) and "kucoin" in url else url)
        for name, url in exchange.urls["api"].items()
    }
    return exchange


async def test_ccxt_watch_order_book_tracks_the_simulated_book(served) -> None:
    market, server = served
    exchange = _pointed_at(f"127.0.0.1:{server.port}")
    try:
        books = await watch_while_moving(exchange, market, limit=100, timeout_s=30)
        got, want = await settled(exchange, market)
        assert got == want
        assert books > 10
        assert len(server.app[TOKENS]) >= 1  # ccxt asked the simulator for its token
    finally:
        await exchange.close()
