"""A real third-party client against the MEXC simulator: ccxt pro's ``watch_order_book`` for
MEXC spot (its own protobuf decoder of the pushes, its SUBSCRIPTION, its REST snapshot and
``fromVersion`` handling) keeps a consistent book while the market moves, and ends equal to
the simulator's book. Runs when ccxt is installed (a dev dependency).

One finding is ccxt's, not the simulator's: MEXC's procedure applies the first push with
``fromVersion <= lastUpdateId + 1 < toVersion + 1`` (a push whose interval straddles the
snapshot's version), but ccxt applies only pushes with ``fromVersion >= lastUpdateId``, both
from its cache (``get_cache_index``) and live (``handle_book_delta``), so the levels changed in
the rest of that interval are missing from its book. The snapshot lands mid-interval only
now and then (more often on a loaded machine). The test records every push ccxt drops that way
and, only when the books differ and such a push was dropped, reports the known ccxt fault as an
expected failure; any other difference fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_venues.mexc.sim.app import create_app

from tests.integration.venues.ccxt_support import settled, watch_while_moving
from tests.unit.venues.mexc.helpers import BTC_USDT

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = pytest.mark.integration


@pytest.fixture
async def served() -> AsyncIterator[tuple[VenueMarket, str]]:
    market = venue_market("mexc", instruments=[BTC_USDT], rate=50.0)
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield market, f"127.0.0.1:{server.port}"
    finally:
        await server.close()


def _pointed_at(host: str) -> Any:
    exchange = ccxtpro.mexc()

    async def no_swaps(params: Any = None) -> list[Any]:
        return []  # ccxt loads MEXC's futures markets too: the spot simulator has none

    exchange.fetch_swap_markets = no_swaps
    exchange.has["fetchCurrencies"] = False  # the simulator serves no currency list
    exchange.urls["api"]["spot"] = {"public": f"http://{host}", "private": f"http://{host}"}
    exchange.urls["api"]["ws"]["spot"] = f"ws://{host}/ws"
    return exchange


def _watch_straddles(exchange: Any, market_symbol: str) -> list[tuple[int, int, int]]:
    """(snapshot or book version, fromVersion, toVersion) of each push ccxt drops although
    MEXC's procedure applies it: fromVersion < version < toVersion."""
    dropped: list[tuple[int, int, int]] = []

    def straddles(version: Any, delta: Any) -> None:
        first, last = int(delta.get("fromVersion", -1)), int(delta.get("toVersion", -1))
        if version is not None and first < int(version) < last:
            dropped.append((int(version), first, last))

    fetch, apply = exchange.fetch_rest_order_book_safe, exchange.handle_book_delta

    async def fetch_and_check(*args: Any, **kwargs: Any) -> Any:
        snapshot = await fetch(*args, **kwargs)
        for delta in exchange.orderbooks[market_symbol].cache:  # what ccxt picks from next
            straddles(snapshot.get("nonce"), delta)
        return snapshot

    def apply_and_check(orderbook: Any, delta: Any) -> Any:
        straddles(orderbook.get("nonce"), delta)
        return apply(orderbook, delta)

    exchange.fetch_rest_order_book_safe, exchange.handle_book_delta = (
        fetch_and_check,
        apply_and_check,
    )
    return dropped


async def test_ccxt_watch_order_book_tracks_the_simulated_book(served) -> None:
    market, host = served
    exchange = _pointed_at(host)
    dropped = _watch_straddles(exchange, "BTC/USDT")
    try:
        books = await watch_while_moving(exchange, market)
        got, want = await settled(exchange, market)
        if got != want and dropped:
            pytest.xfail(
                f"ccxt dropped pushes straddling its book version {dropped}: ccxt's "
                "MEXC sync applies only fromVersion >= version (see the docstring)"
            )
        assert got == want
        assert books >= 1  # how many depends on the machine's load; the book above is the check
    finally:
        await exchange.close()
