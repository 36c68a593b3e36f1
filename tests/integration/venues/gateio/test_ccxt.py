"""A real third-party client against the Gate simulator: ccxt pro's ``watch_order_book``
for Gate spot (its ``spot.order_book_update`` subscribe, as it speaks to Gate's EU host, its
``with_id=true`` REST snapshot and its own ``U``/``u`` continuity check) keeps a consistent
book while the market moves, and ends equal to the simulator's book. Runs when ccxt is
installed (a dev dependency)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.gateio.sim.app import create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = venue_market("gateio", symbols=(SYMBOL,), rate=50.0)
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, f"127.0.0.1:{server.port}"
    finally:
        await server.close()


def _pointed_at(host: str) -> Any:
    exchange = ccxtpro.gate()
    exchange.options["fetchMarkets"]["types"] = ["spot"]  # nothing but the simulator serves
    exchange.has["fetchCurrencies"] = False  # the simulator serves no currency list

    async def no_margin_pairs(params: Any = None) -> list[Any]:
        return []  # ccxt also asks for margin pairs; the simulator is spot only

    exchange.publicMarginGetCurrencyPairs = no_margin_pairs
    for section in ("public", "private"):
        exchange.urls["api"][section] = {
            name: f"http://{host}/api/v4" for name in exchange.urls["api"][section]
        }
    # ccxt subscribes Gate's V2 channel (spot.obu) on the global host and the documented
    # spot.order_book_update (the protocol the simulator serves) on Gate's EU host, which it
    # recognises by "gateeu" in the URL: the query string only steers ccxt's choice.
    exchange.urls["api"]["spot"] = f"ws://{host}/ws/v4/?gateeu"
    return exchange


async def test_ccxt_watch_order_book_tracks_the_simulated_book(served) -> None:
    market, host = served
    exchange = _pointed_at(host)
    try:
        books = await watch_while_moving(exchange, market)
        got, want = await settled(exchange, market)
        assert got == want
        assert books >= 5  # 100 ms updates: about 40 in 4 s on an idle box
    finally:
        await exchange.close()
