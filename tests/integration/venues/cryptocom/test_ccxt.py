"""A real third-party client against the Crypto.com simulator: ccxt pro's ``watch_order_book``
for Crypto.com (its public/get-instruments markets, its ``book.{instrument}.50`` subscription,
its heartbeat answers) keeps a consistent book while the market moves, and ends equal to the
simulator's book. Runs when ccxt is installed (a dev dependency)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.cryptocom.sim.app import STREAM, create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving
from tests.unit.venues.cryptocom.instruments import BTC

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = pytest.mark.integration


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = venue_market("cryptocom", instruments=[BTC], rate=50.0)
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    server.app[STREAM].heartbeat_interval_s = 1.0  # ccxt answers each one, or it is closed
    try:
        yield market, f"127.0.0.1:{server.port}"
    finally:
        await server.close()


def _pointed_at(host: str) -> Any:
    exchange = ccxtpro.cryptocom()
    exchange.has["fetchCurrencies"] = False  # a private call on Crypto.com
    exchange.urls["api"] = {
        name: (
            url.replace("https://api.crypto.com", f"http://{host}") if isinstance(url, str) else url
        )
        for name, url in exchange.urls["api"].items()
    }
    exchange.urls["api"]["ws"] = {"public": f"ws://{host}/exchange/v1/market",
                                  "private": f"ws://{host}/exchange/v1/user"}  # fmt: skip
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
