"""MarketDataFeed + BitfinexMarket against the Bitfinex simulator over real sockets (127.0.0.1).

conf (SEQ_ALL | OB_CHECKSUM) -> subscribe -> snapshot -> one message a level change and a
checksum after each change, applied by the real book engine with the venue's checksum; a
dropped connection reconnects and resubscribes; a sequence number that never arrives resyncs
every book (unsubscribe by chanId + subscribe); a wrong checksum resyncs its book. The truth
each time is the simulator's own book, compared level by level with the engine's LIVE book.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from arb_orderbook.bookset import BookSet
from arb_simulator import venue_market
from arb_structs import BookSnapshot, BookState, MdEvent
from arb_venues import checksums
from arb_venues.base import Endpoints
from arb_venues.bitfinex.market import BitfinexMarket
from arb_venues.bitfinex.sim.app import create_app
from arb_venues.common.feed import Backoff, MarketDataFeed

pytestmark = pytest.mark.integration

D = Decimal
SYMBOLS = ("BTC-USDT", "ETH-USDT")


async def until(condition: Callable[[], bool], what: str, tick: Callable[[], object],
                limit_s: float = 20.0) -> None:  # fmt: skip
    """Move the market one step at a time until a condition the feed reaches asynchronously
    holds (a bound, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        tick()
        await asyncio.sleep(0.02)


async def test_feed_stays_checksum_verified_through_reconnects_gaps_and_bad_checksums() -> None:
    market = venue_market("bitfinex", symbols=SYMBOLS)
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = f"{server.host}:{server.port}"
    protocol = BitfinexMarket(Endpoints(ws_url=f"ws://{base}/ws/2", rest_url=f"http://{base}"))
    books = BookSet(checksums=checksums(["bitfinex"]))
    snapshots: list[str] = []
    feeds: list[MarketDataFeed] = []

    def emit(event: MdEvent) -> None:
        """As the book service: apply, and ask for a resync where the engine wants one."""
        if isinstance(event, BookSnapshot):
            snapshots.append(event.symbol)
        for book, result in books.apply_event(event):
            if result.resync and result.state is not result.previous_state and feeds:
                feeds[0].request_resync(book.symbol, result.reason)

    def live_and_true(symbol: str) -> bool:
        book = books.venue_books("bitfinex")
        found = [b for b in book if b.symbol == symbol]
        if not found or found[0].state is not BookState.LIVE:
            return False
        truth = market.book(symbol)
        bids, asks = found[0].top(25)
        return bids == [(float(p), float(s)) for p, s in truth.bids[:25]] and asks == [
            (float(p), float(s)) for p, s in truth.asks[:25]
        ]

    def step() -> None:
        market.market.step()

    feed = MarketDataFeed(protocol, list(market.instruments.values()), emit,
                          backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
    feeds.append(feed)
    stopping = asyncio.Event()
    runner = asyncio.create_task(feed.run(stopping))
    counts = books.counts
    try:
        await until(lambda: snapshots.count("BTC-USDT") == 1, "the first BTC-USDT snapshot", step)
        await until(
            lambda: all(live_and_true(s) for s in SYMBOLS), "both books LIVE and true", step
        )
        assert counts["bitfinex"].checksums_ok >= 2 and counts["bitfinex"].checksum_failures == 0
        parser = feed.parser
        assert getattr(parser, "sequencing", False) and getattr(parser, "checksums", False)

        # the venue drops the connection: reconnect, conf again, fresh snapshots
        market.armed_faults.arm("drop_connection", "BTC-USDT")
        await until(lambda: feed.stats.connects == 2 and snapshots.count("BTC-USDT") >= 2,
                    "reconnect and a new BTC-USDT snapshot", step)  # fmt: skip
        await until(lambda: all(live_and_true(s) for s in SYMBOLS), "LIVE again after it", step)

        # a sequence number that never arrives: every book is resynced
        before = {s: snapshots.count(s) for s in SYMBOLS}
        market.armed_faults.arm("skip_seq")  # whichever book changes next
        await until(lambda: all(snapshots.count(s) > before[s] for s in SYMBOLS),
                    "a resync snapshot of every book", step)  # fmt: skip
        assert getattr(parser, "sequence_gaps", 0) >= 1
        await until(lambda: all(live_and_true(s) for s in SYMBOLS), "LIVE after the gap", step)

        # a wrong checksum: that book fails it and is resynced
        failures = counts["bitfinex"].checksum_failures
        before_btc = snapshots.count("BTC-USDT")
        market.armed_faults.arm("bad_checksum", "BTC-USDT")
        await until(lambda: counts["bitfinex"].checksum_failures == failures + 1,
                    "the wrong checksum seen", step)  # fmt: skip
        await until(lambda: snapshots.count("BTC-USDT") > before_btc, "its resync snapshot", step)
        await until(lambda: live_and_true("BTC-USDT"), "BTC-USDT LIVE and true at the end", step)
        assert counts["bitfinex"].crossed == 0
    finally:
        stopping.set()
        await asyncio.wait_for(runner, 10)
        await server.close()
