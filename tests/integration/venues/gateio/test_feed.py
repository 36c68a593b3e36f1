"""MarketDataFeed + GateMarket against the Gate sim app over real loopback sockets.

subscribe (`spot.order_book_update`, a pair each) -> REST `with_id` snapshots
-> updates that continue them; a dropped
connection reconnects and re-snapshots; a skipped sequence shows as a gap to the book rule
and a resync brings a fresh snapshot that the following diffs continue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, MdEvent, VenueStatus
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.common.ratelimit import BucketLimit, RateLimiter
from arb_venues.common.rest import RestClient
from arb_venues.gateio.market import GateMarket
from arb_venues.gateio.sim.app import create_app

pytestmark = pytest.mark.integration

SYMBOLS = ("BTC-USDT", "ETH-USDT")


@dataclass
class Book:
    """The book rule, per symbol: SYNCING buffers, LIVE applies, a gap makes it SUSPECT."""

    state: str = "SYNCING"
    seq: int = 0
    buffered: list[BookDelta] = field(default_factory=list)
    snapshots: int = 0
    applied: int = 0
    gaps: int = 0

    def on(self, event: BookSnapshot | BookDelta) -> None:
        if isinstance(event, BookSnapshot):
            self.state, self.seq, self.snapshots = "LIVE", event.seq, self.snapshots + 1
            pending, self.buffered = self.buffered, []
            for delta in pending:
                self.on(delta)
        elif self.state != "LIVE":
            self.buffered.append(event)
        elif event.seq <= self.seq:
            pass  # stale
        elif event.prev_seq <= self.seq:
            self.seq, self.applied = event.seq, self.applied + 1
        else:
            self.state, self.gaps = "SUSPECT", self.gaps + 1
            self.buffered = []


@dataclass
class Books:
    books: dict[str, Book] = field(default_factory=dict)
    downs: int = 0

    def emit(self, event: MdEvent) -> None:
        if isinstance(event, VenueStatus):
            if event.status == "down":
                self.downs += 1
                for book in self.books.values():
                    book.state, book.buffered = "SYNCING", []
            return
        self.books.setdefault(event.symbol, Book()).on(event)

    def __getitem__(self, symbol: str) -> Book:
        return self.books.setdefault(symbol, Book())


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    """Wait for ``condition`` (a hang guard, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached: {what}")
        await asyncio.sleep(0.01)


async def pump(market: VenueMarket) -> None:
    """The simulator's own clock: every tick moves both books, like a live market."""
    while True:
        market.market.step()
        await asyncio.sleep(0.02)


@pytest.fixture
async def running() -> AsyncIterator[tuple[VenueMarket, MarketDataFeed, Books]]:
    market = venue_market("gateio", symbols=SYMBOLS, rate=100.0)
    instruments = list(market.instruments.values())
    async with TestServer(create_app(market), host="127.0.0.1") as server:
        base = str(server.make_url("")).rstrip("/")
        protocol = GateMarket(
            Endpoints(ws_url=base.replace("http", "ws") + "/ws/v4/", rest_url=base)
        )
        rest = RestClient("gateio", base, limiter=RateLimiter(GateMarket.rest_limits),
                          error_mapper=protocol.error_mapper())  # fmt: skip
        books = Books()
        feed = MarketDataFeed(protocol, instruments, books.emit, rest=rest,
                              snapshot_budget=BucketLimit(20, 20),
                              backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(feed.run(stopping)), asyncio.create_task(pump(market))]
        try:
            yield market, feed, books
        finally:
            stopping.set()
            tasks[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks)


async def test_subscribe_snapshot_then_diffs_continue_it(running) -> None:
    _, feed, books = running
    await until(lambda: books["BTC-USDT"].applied >= 5 and books["ETH-USDT"].applied >= 5,
                "both books live with diffs applied")  # fmt: skip
    for symbol in SYMBOLS:
        assert books[symbol].snapshots == 1 and books[symbol].gaps == 0
    assert feed.stats.connects == 1 and feed.stats.snapshots_ok == 2
    assert feed.stats.bad_frames == {}


async def test_dropped_connection_reconnects_and_resnapshots(running) -> None:
    market, feed, books = running
    await until(lambda: books["BTC-USDT"].applied >= 3, "BTC live")
    market.armed_faults.arm("drop_connection")
    await until(lambda: feed.stats.connects >= 2, "reconnected")
    await until(lambda: all(books[s].snapshots >= 2 and books[s].state == "LIVE"
                            for s in SYMBOLS), "fresh snapshots")  # fmt: skip
    applied = books["ETH-USDT"].applied
    await until(lambda: books["ETH-USDT"].applied >= applied + 3, "diffs after the reconnect")
    assert books.downs >= 1 and feed.stats.snapshots_ok >= 4
    assert books["BTC-USDT"].gaps == 0 and books["ETH-USDT"].gaps == 0


async def test_skipped_sequence_is_a_gap_and_a_resync_recovers(running) -> None:
    market, feed, books = running
    await until(lambda: books["BTC-USDT"].applied >= 3, "BTC live")
    market.armed_faults.arm("skip_seq", "BTC-USDT")
    await until(lambda: books["BTC-USDT"].gaps == 1, "the gap seen by the book rule")
    assert books["BTC-USDT"].state == "SUSPECT" and books["ETH-USDT"].gaps == 0
    assert feed.request_resync("BTC-USDT", "gap")
    await until(lambda: books["BTC-USDT"].state == "LIVE" and books["BTC-USDT"].snapshots == 2,
                "resynced from a fresh snapshot")  # fmt: skip
    applied = books["BTC-USDT"].applied
    await until(lambda: books["BTC-USDT"].applied >= applied + 3, "diffs continue the resync")
    assert books["BTC-USDT"].gaps == 1 and feed.stats.connects == 1
