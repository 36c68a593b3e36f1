"""MarketDataFeed + the MEXC adapter against the MEXC simulator over real sockets: binary
protobuf pushes, REST snapshots joined by version, gaps, drops and impossible levels healed.
The truth every book is held to is the simulator's own book (``market.book``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from arb_orderbook.bookset import BookSet
from arb_simulator import VenueMarket, venue_market
from arb_structs import BookState, MdEvent
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.mexc.market import MexcMarket
from arb_venues.mexc.sim.app import create_app

from tests.unit.venues.mexc.helpers import BTC_USDT

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"


async def until(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Harness:
    market: VenueMarket
    feed: MarketDataFeed
    books: BookSet = field(default_factory=BookSet)
    gaps: int = 0
    received: list[str | bytes] = field(default_factory=list)

    def emit(self, event: MdEvent) -> None:
        for _, result in self.books.apply_event(event):
            self.gaps += result.gap

    def state(self) -> BookState | None:
        book = self.books.get("mexc", SYMBOL)
        return book.state if book is not None else None

    def matches_the_simulator(self) -> bool:
        book = self.books.get("mexc", SYMBOL)
        if book is None or book.state is not BookState.LIVE:
            return False
        truth = self.market.book(SYMBOL)
        bids, asks = book.top(10)
        return (bids == [(float(p), float(s)) for p, s in truth.bids[:10]]
                and asks == [(float(p), float(s)) for p, s in truth.asks[:10]])  # fmt: skip


def mexc_market() -> VenueMarket:
    market = venue_market("mexc", instruments=[BTC_USDT])
    market.set_book(SYMBOL, bids=[("60000", "1"), ("59999.5", "2")],
                    asks=[("60000.5", "0.5"), ("60001", "3")])  # fmt: skip
    return market


class FastPing(MexcMarket):
    heartbeat_interval_s = 0.2


@pytest.fixture
async def feed() -> AsyncIterator[Harness]:
    market = mexc_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    endpoints = Endpoints(ws_url=str(server.make_url("/ws")), rest_url=str(server.make_url("")))
    harness = Harness(market, None)  # type: ignore[arg-type]
    harness.feed = MarketDataFeed(FastPing(endpoints), [BTC_USDT], harness.emit,
                                  backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
    harness.feed.tap = lambda kind, url, raw: (
        harness.received.append(raw) if kind == "recv" else None
    )
    stopping = asyncio.Event()
    task = asyncio.create_task(harness.feed.run(stopping))
    try:
        yield harness
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
        await server.close()


def move(market: VenueMarket, step: int) -> None:
    market.apply(SYMBOL, bids=[(f"{59990 + step}", "0.25")], asks=[(f"{60010 + step}", "1.5")])


async def test_book_goes_live_from_the_snapshot_and_tracks_the_simulator(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE from the REST snapshot")
    for step in range(5):
        move(feed.market, step)
    await until(feed.matches_the_simulator, "the simulator's book")
    await asyncio.sleep(0.6)  # several PINGs: each PONG is a frame, the connection stays up
    assert feed.feed.stats.connects == 1 and feed.gaps == 0
    assert feed.feed.stats.bad_frames == {}
    pongs = [r for r in feed.received if b'"PONG"' in (r if isinstance(r, bytes) else r.encode())]
    pushes = [r for r in feed.received if b"publicAggreDepths" in
              (r if isinstance(r, bytes) else r.encode())]  # fmt: skip
    assert len(pongs) >= 2 and pushes  # the tap saw the pushes as their proto3 JSON text


async def test_a_skipped_push_is_a_gap_and_the_resync_heals_it(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE")
    feed.market.armed_faults.arm("skip_seq")
    move(feed.market, 1)  # its push is never sent
    await asyncio.sleep(0.3)
    move(feed.market, 2)  # this push's fromVersion jumps past the book's version + 1
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
    book = feed.books.book("mexc", SYMBOL)
    assert all(price > 0 for price, _ in book.top(100)[0])


async def test_garbage_bytes_are_counted_and_the_book_stays_right(feed) -> None:
    await until(lambda: feed.state() is BookState.LIVE, "LIVE")
    feed.market.armed_faults.arm("malformed_frame")
    move(feed.market, 1)
    await until(lambda: feed.feed.stats.bad_frames.get("protobuf") == 1, "the refused bytes")
    move(feed.market, 2)
    await until(feed.matches_the_simulator, "the simulator's book")
