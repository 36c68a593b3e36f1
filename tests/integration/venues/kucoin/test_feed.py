"""MarketDataFeed + the KuCoin adapter against the KuCoin simulator over real sockets: a token
from bullet-public before every connect, pings at the token's pingInterval, the book synced
from a REST snapshot, gaps and drops healed. The truth every book is held to is the
simulator's own book (``market.book``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from arb_orderbook.bookset import BookSet
from arb_simulator import VenueMarket, venue_market
from arb_structs import BookState, MdEvent
from arb_venues.base import Endpoints, MarketDataProtocol
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.kucoin.market import KucoinMarket
from arb_venues.kucoin.sim.app import TOKENS, create_app

from tests.unit.venues.kucoin.helpers import BTC_USDT

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
PING_MS, TIMEOUT_MS = 300, 300  # the simulator's pingInterval / pingTimeout here (18 s / 10 s)


async def until(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Harness:
    market: VenueMarket
    server: TestServer
    feed: MarketDataFeed
    books: BookSet = field(default_factory=BookSet)
    gaps: int = 0

    def emit(self, event: MdEvent) -> None:
        for _, result in self.books.apply_event(event):
            self.gaps += result.gap

    def state(self) -> BookState | None:
        book = self.books.get("kucoin", SYMBOL)
        return book.state if book is not None else None

    def matches_the_simulator(self) -> bool:
        book = self.books.get("kucoin", SYMBOL)
        if book is None or book.state is not BookState.LIVE:
            return False
        truth = self.market.book(SYMBOL)
        bids, asks = book.top(10)
        return (bids == [(float(p), float(s)) for p, s in truth.bids[:10]]
                and asks == [(float(p), float(s)) for p, s in truth.asks[:10]])  # fmt: skip


class SilentKucoin(KucoinMarket):
    """The adapter without its pings: the negative control of the heartbeat test."""

    def heartbeat_interval(self) -> float | None:
        return None


def kucoin_market() -> VenueMarket:
    market = venue_market("kucoin", instruments=[BTC_USDT])
    market.set_book(SYMBOL, bids=[("60000", "1"), ("59999.5", "2")],
                    asks=[("60000.5", "0.5"), ("60001", "3")])  # fmt: skip
    return market


async def _harness(protocol: type[MarketDataProtocol]) -> AsyncIterator[Harness]:
    market = kucoin_market()
    app = create_app(market, ping_interval_ms=PING_MS, ping_timeout_ms=TIMEOUT_MS)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    endpoints = Endpoints(ws_url=base.replace("http", "ws", 1) + "/", rest_url=base)
    harness = Harness(market, server, None)  # type: ignore[arg-type]
    harness.feed = MarketDataFeed(protocol(endpoints), [BTC_USDT], harness.emit,
                                  backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(harness.feed.run(stopping))
    try:
        yield harness
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
        await server.close()


@pytest.fixture
async def feed() -> AsyncIterator[Harness]:
    async for harness in _harness(KucoinMarket):
        yield harness


@pytest.fixture
async def silent() -> AsyncIterator[Harness]:
    async for harness in _harness(SilentKucoin):
        yield harness


def move(market: VenueMarket, step: int) -> None:
    market.apply(SYMBOL, bids=[(f"{59990 + step}", "0.25")], asks=[(f"{60010 + step}", "1.5")])


async def test_book_goes_live_from_the_rest_snapshot_and_pings_keep_the_link(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE from the REST snapshot")
    for step in range(5):
        move(feed.market, step)
    await until(feed.matches_the_simulator, "the simulator's book")
    # The token answer's pingInterval (0.3 s) paces the heartbeat: many intervals pass and
    # the server, which closes a client silent for pingInterval + pingTimeout, keeps it.
    await asyncio.sleep(2.0)
    assert feed.feed.protocol.heartbeat_interval() == PING_MS / 1000
    assert feed.feed.stats.connects == 1 and feed.gaps == 0 and feed.feed.stats.bad_frames == {}
    assert len(feed.server.app[TOKENS]) == 1  # one token per connection


async def test_without_pings_the_server_closes_and_a_new_token_reconnects(silent) -> None:
    await until(lambda: silent.feed.stats.connects >= 2, "the server closing a silent client")
    assert len(silent.server.app[TOKENS]) >= 2  # each connect asked for its own token
    move(silent.market, 1)
    await until(silent.matches_the_simulator, "LIVE again after the reconnect")


async def test_a_skipped_sequence_is_a_gap_and_the_rest_resync_heals_it(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE")
    feed.market.armed_faults.arm("skip_seq")
    move(feed.market, 1)  # never sent
    move(feed.market, 2)  # its sequenceStart is one past the book's sequence + 1
    await until(lambda: feed.gaps == 1 and feed.state() is BookState.SUSPECT, "the gap")
    assert feed.feed.request_resync(SYMBOL, "gap")  # what the book service asks ingest for
    move(feed.market, 3)
    await until(feed.matches_the_simulator, "LIVE after the resync")


async def test_a_dropped_connection_reconnects_and_resyncs(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE")
    feed.market.armed_faults.arm("drop_connection")
    move(feed.market, 1)
    await until(lambda: feed.feed.stats.connects == 2, "reconnect")
    move(feed.market, 2)
    await until(feed.matches_the_simulator, "LIVE after the reconnect")


async def test_an_impossible_level_never_reaches_a_live_book(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE")
    feed.market.armed_faults.arm("bad_level", value="-5")
    move(feed.market, 1)
    await until(lambda: feed.feed.stats.bad_frames.get("bad_price") == 1, "the refused frame")
    move(feed.market, 2)
    await until(feed.matches_the_simulator, "LIVE after the resync")
    book = feed.books.book("kucoin", SYMBOL)
    assert all(price > 0 for price, _ in book.top(100)[0])
