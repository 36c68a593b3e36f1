"""MarketDataFeed + the Bitget adapter against the Bitget simulator over real sockets: the
``books`` snapshot after the subscribe, every update proven by the top-25 checksum, a change
that never arrived caught by the next checksum and healed by the resubscribe, drops and
impossible levels. The truth every book is held to is the simulator's own book."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from arb_orderbook.bookset import BookSet
from arb_orderbook.result import ChecksumCheck
from arb_simulator import VenueMarket, venue_market
from arb_structs import BookState, MdEvent
from arb_venues import checksums
from arb_venues.base import Endpoints
from arb_venues.bitget.market import BOOKS_PUSH_INTERVAL_S, BitgetMarket
from arb_venues.bitget.sim.app import create_app
from arb_venues.common.feed import Backoff, MarketDataFeed

from tests.unit.venues.bitget.helpers import BTC_USDT

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
    books: BookSet = field(default_factory=lambda: BookSet(checksums=checksums(["bitget"])))
    checks: dict[str, int] = field(default_factory=dict)

    def emit(self, event: MdEvent) -> None:
        for book, result in self.books.apply_event(event):
            self.checks[result.checksum] = self.checks.get(result.checksum, 0) + 1
            if result.resync:
                self.feed.request_resync(book.symbol, "checksum")  # as the book service asks

    def state(self) -> BookState | None:
        book = self.books.get("bitget", SYMBOL)
        return book.state if book is not None else None

    def matches_the_simulator(self) -> bool:
        book = self.books.get("bitget", SYMBOL)
        if book is None or book.state is not BookState.LIVE:
            return False
        truth = self.market.book(SYMBOL)
        bids, asks = book.top(30)
        return (bids == [(float(p), float(s)) for p, s in truth.bids[:30]]
                and asks == [(float(p), float(s)) for p, s in truth.asks[:30]])  # fmt: skip


def bitget_market() -> VenueMarket:
    market = venue_market("bitget", instruments=[BTC_USDT])
    bids = [(f"{60000 - i * 0.5:.1f}", f"{1 + i * 0.01:.4f}") for i in range(40)]
    asks = [(f"{60000.5 + i * 0.5:.1f}", f"{0.5 + i * 0.01:.4f}") for i in range(40)]
    market.set_book(SYMBOL, bids=bids, asks=asks)
    return market


@pytest.fixture
async def bitget() -> AsyncIterator[Harness]:
    market = bitget_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    endpoints = Endpoints(ws_url=str(server.make_url("/v2/ws/public")),
                          rest_url=str(server.make_url("")))  # fmt: skip
    harness = Harness(market, None)  # type: ignore[arg-type]
    harness.feed = MarketDataFeed(BitgetMarket(endpoints), [BTC_USDT], harness.emit,
                                  backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(harness.feed.run(stopping))
    try:
        yield harness
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
        await server.close()


def move(market: VenueMarket, step: int) -> None:
    market.apply(SYMBOL, bids=[(f"{59980 + step}.5", "0.2500")],
                 asks=[(f"{60020 + step}.5", "1.5000")])  # fmt: skip


async def test_the_book_goes_live_and_every_update_passes_its_checksum(bitget) -> None:
    await until(lambda: bitget.state() is BookState.LIVE, "LIVE from the WS snapshot")
    for step in range(4):  # books pushes each 200 ms's changes: two moves a push
        move(bitget.market, 2 * step)
        move(bitget.market, 2 * step + 1)
        await asyncio.sleep(1.5 * BOOKS_PUSH_INTERVAL_S)
    bitget.market.apply(SYMBOL, bids=[("60000.0", "0")])  # the best bid deleted
    await until(bitget.matches_the_simulator, "the simulator's book")
    assert bitget.checks.get(ChecksumCheck.OK, 0) >= 6  # the snapshot and five pushes
    assert ChecksumCheck.FAILED not in bitget.checks and ChecksumCheck.MISSING not in bitget.checks
    assert bitget.feed.stats.connects == 1 and bitget.feed.stats.bad_frames == {}


async def test_a_change_never_sent_fails_the_next_checksum_and_the_resync_heals(bitget) -> None:
    await until(lambda: bitget.state() is BookState.LIVE, "LIVE")
    bitget.market.armed_faults.arm("skip_seq")
    bitget.market.apply(SYMBOL, bids=[("60000.0", "3.0000")])  # the best bid: never sent
    await asyncio.sleep(1.5 * BOOKS_PUSH_INTERVAL_S)  # its push goes (and is skipped) alone
    move(bitget.market, 2)  # its checksum covers the top 25, the missing change among them
    await until(lambda: bitget.checks.get(ChecksumCheck.FAILED, 0) == 1, "the failed checksum")
    move(bitget.market, 3)
    await until(bitget.matches_the_simulator, "LIVE after the resubscribe")


async def test_a_bad_checksum_is_caught_and_healed(bitget) -> None:
    await until(lambda: bitget.state() is BookState.LIVE, "LIVE")
    bitget.market.armed_faults.arm("bad_checksum")
    move(bitget.market, 1)
    await until(lambda: bitget.checks.get(ChecksumCheck.FAILED, 0) == 1, "the failed checksum")
    move(bitget.market, 2)
    await until(bitget.matches_the_simulator, "LIVE after the resubscribe")


async def test_a_dropped_connection_reconnects_and_resyncs(bitget) -> None:
    await until(lambda: bitget.state() is BookState.LIVE, "LIVE")
    bitget.market.armed_faults.arm("drop_connection")
    move(bitget.market, 1)
    await until(lambda: bitget.feed.stats.connects == 2, "reconnect")
    move(bitget.market, 2)
    await until(bitget.matches_the_simulator, "LIVE after the reconnect")


async def test_an_impossible_level_never_reaches_a_live_book(bitget) -> None:
    await until(lambda: bitget.state() is BookState.LIVE, "LIVE")
    bitget.market.armed_faults.arm("bad_level", value="-5")
    move(bitget.market, 1)
    await until(lambda: bitget.feed.stats.bad_frames.get("bad_price") == 1, "the refused frame")
    move(bitget.market, 2)
    await until(bitget.matches_the_simulator, "LIVE after the resync")
    book = bitget.books.book("bitget", SYMBOL)
    assert all(price > 0 for price, _ in book.top(100)[0])
