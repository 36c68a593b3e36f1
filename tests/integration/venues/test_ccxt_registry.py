"""ccxt.pro, unchanged but for its URLs, against the simulator of every venue of the registry
at once: it loads its markets (and currencies, futures markets, ...) as it would against the
real venue, watches BTC/USDT for a few seconds of a moving market, and once the market is
paused its book equals the simulator's own book (top 10 levels, exact prices and sizes).

Every REST call ccxt made must have been served (the simulator's request log shows no
404/405). Venues whose start-up ccxt calls the simulator does not serve yet are listed in
NOT_YET with what is missing; their own tests/integration/venues/<venue>/test_ccxt.py turn
those calls off and check the book. Runs when ccxt is installed (a dev dependency); the
venues run concurrently (about 5 s for all of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_venues import VENUE_NAMES

from tests.integration.venues.ccxt_support import Book, top
from tests.support_clients import ccxt_pointed_at

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (uv sync --group dev)")

pytestmark = [
    pytest.mark.integration,
    # Seven ccxt clients at once time out under make test's full load (one .ci/run of three):
    # run by `make test-clients`, on a machine doing nothing else.
    pytest.mark.skipif(
        os.environ.get("ARB_CLIENT_TESTS") != "1",
        reason="seven ccxt clients at once: `make test-clients` (ARB_CLIENT_TESTS=1)",
    ),
]

# What ccxt 4.5.90 asks for at start-up that these venues' simulators do not serve yet.
NOT_YET = {
    "htx": "GET /v2/reference/currencies",
    "bitget": "GET /api/v2/spot/public/coins",
    "gateio": "GET /api/v4/spot/currencies (and margin pairs)",
    "kucoin": "GET /api/v3/currencies (and the tickers ccxt reads fees from)",
    "mexc": "GET /api/v1/contract/detail (futures markets)",
}
VENUES = [v for v in VENUE_NAMES if v not in NOT_YET]
WATCH_S = 2.0
DEPTH = 10


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=VENUES, symbols=["BTC-USDT", "ETH-USDT"], rate=20,
                                 inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as sim:
        yield sim


async def _watch(sim: Simulator, venue: str, ready: asyncio.Event, paused: asyncio.Event
                 ) -> str | None:  # fmt: skip
    """Watch BTC/USDT until the market pauses, then wait for ccxt's book to equal the
    simulator's; None when it did, else what went wrong."""
    exchange = ccxt_pointed_at(ccxtpro, venue, sim.urls[venue]["rest"])
    books: list[str] = []  # "" per good book seen, else what was wrong with it

    async def watch() -> None:
        while True:
            book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), 60)
            bids, asks = top(book["bids"], DEPTH), top(book["asks"], DEPTH)
            ok = bids and asks and bids[0][0] < asks[0][0]
            books.append("" if ok else f"empty or crossed book {bids[:1]} {asks[:1]}")
            if len(books) >= 3:
                ready.set()

    try:
        watcher = asyncio.create_task(watch())
        await asyncio.wait([watcher, asyncio.ensure_future(paused.wait())],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if watcher.done():  # it failed while the market moved
            watcher.result()
        watcher.cancel()  # ccxt keeps applying what arrives without a watch waiting
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if any(books):
            return f"{venue}: {[b for b in books if b][:3]}"
        truth = sim.venue_markets[venue].book("BTC-USDT")
        want = (top(truth.bids, DEPTH), top(truth.asks, DEPTH))
        got: Book = ([], [])
        for _ in range(100):  # the pushes sent before the pause arrive
            book = exchange.orderbooks["BTC/USDT"]
            got = (top(book["bids"], DEPTH), top(book["asks"], DEPTH))
            if got == want:
                break
            await asyncio.sleep(0.05)
        if got != want:
            return f"{venue}: ccxt's book {got} != the simulator's {want}"
        if len(books) < 3:
            return f"{venue}: only {len(books)} book updates in {WATCH_S} s"
        return None
    except Exception as exc:
        return f"{venue}: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        with contextlib.suppress(Exception):
            await exchange.close()


async def test_ccxt_watch_order_book_on_every_venue_equals_the_simulated_book(
    sim: Simulator,
) -> None:
    paused = asyncio.Event()
    ready = {venue: asyncio.Event() for venue in VENUES}
    watchers = [asyncio.create_task(_watch(sim, v, ready[v], paused)) for v in VENUES]
    # Markets loaded and books coming on every venue (slow on a loaded box), then a few
    # seconds of a moving market.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            await asyncio.gather(*(event.wait() for event in ready.values()))
    await asyncio.sleep(WATCH_S)
    await sim.pause()
    paused.set()
    problems = [p for p in await asyncio.gather(*watchers) if p is not None]
    unserved = {v: log.unserved() for v, log in sim.requests.items() if log.unserved()}
    assert not problems, problems
    assert not unserved, f"ccxt asked for what the simulator does not serve: {unserved}"
