"""MarketDataFeed + the HTX adapter against the HTX simulator over real sockets: gzip frames,
the server's ping answered, the mbp book synced from a ``req`` refresh, gaps and drops healed.
The truth every book is held to is the simulator's own book (``market.book``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from arb_orderbook.bookset import BookSet
from arb_simulator import VenueMarket, venue_market
from arb_structs import BookState, MdEvent
from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.common.symbols import SymbolMap
from arb_venues.htx.market import MBP_PUSH_INTERVAL_S, HtxDepthMarket, HtxMarket
from arb_venues.htx.parser import HtxParser
from arb_venues.htx.sim.app import create_app

from tests.unit.venues.htx.helpers import BTC_USDT

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
PING_S = 0.6  # the simulator's ping period here (HTX: 5 s); two missed pings close


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
    events: list[MdEvent] = field(default_factory=list)
    gaps: int = 0

    def emit(self, event: MdEvent) -> None:
        self.events.append(event)
        for _, result in self.books.apply_event(event):
            self.gaps += result.gap

    def state(self) -> BookState | None:
        book = self.books.get("htx", SYMBOL)
        return book.state if book is not None else None

    def matches_the_simulator(self) -> bool:
        book = self.books.get("htx", SYMBOL)
        if book is None or book.state is not BookState.LIVE:
            return False
        truth = self.market.book(SYMBOL)
        bids, asks = book.top(10)
        return (bids == [(float(p), float(s)) for p, s in truth.bids[:10]]
                and asks == [(float(p), float(s)) for p, s in truth.asks[:10]])  # fmt: skip


class SilentParser(HtxParser):
    """Parses like the adapter's parser but never answers a ping."""

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        events = super().parse_ws(raw, ts_recv)
        self.replies.clear()
        return events


class SilentHtx(HtxMarket):
    """The adapter without its pongs: the negative control of the ping/pong test."""

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return SilentParser(symbols)


def htx_market() -> VenueMarket:
    market = venue_market("htx", instruments=[BTC_USDT])
    market.set_book(SYMBOL, bids=[("60000", "1"), ("59999.5", "2")],
                    asks=[("60000.5", "0.5"), ("60001", "3")])  # fmt: skip
    return market


async def _harness(protocol: type[MarketDataProtocol], path: str) -> AsyncIterator[Harness]:
    market = htx_market()
    app = create_app(market, gzip_frames=True, ping_interval_s=PING_S)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    endpoints = Endpoints(ws_url=str(server.make_url(path)), rest_url=str(server.make_url("")))
    harness = Harness(market, None)  # type: ignore[arg-type]
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
async def mbp() -> AsyncIterator[Harness]:
    async for harness in _harness(HtxMarket, "/feed"):
        yield harness


@pytest.fixture
async def silent() -> AsyncIterator[Harness]:
    async for harness in _harness(SilentHtx, "/feed"):
        yield harness


@pytest.fixture
async def depth() -> AsyncIterator[Harness]:
    async for harness in _harness(HtxDepthMarket, "/ws"):
        yield harness


def move(market: VenueMarket, step: int) -> None:
    market.apply(SYMBOL, bids=[(f"{59990 + step}", "0.25")], asks=[(f"{60010 + step}", "1.5")])


async def test_mbp_book_goes_live_from_the_refresh_and_tracks_the_simulator(mbp) -> None:
    await until(lambda: mbp.state() is BookState.LIVE, "LIVE from the req refresh")
    for step in range(5):
        move(mbp.market, step)
    await until(mbp.matches_the_simulator, "the simulator's book")
    # Several of the server's pings passed: each was answered, the connection stayed up.
    await asyncio.sleep(4 * PING_S)
    assert mbp.feed.stats.connects == 1 and mbp.feed.parser.pings_seen >= 3  # type: ignore[attr-defined]
    assert mbp.gaps == 0 and mbp.feed.stats.bad_frames == {}


async def test_without_pongs_the_server_closes_and_the_feed_comes_back_live(silent) -> None:
    await until(lambda: silent.feed.stats.connects >= 2, "the server closing a silent client")
    move(silent.market, 1)
    await until(silent.matches_the_simulator, "LIVE again after the reconnect")


async def test_a_skipped_seqnum_is_a_gap_and_the_resync_req_heals_it(mbp) -> None:
    await until(lambda: mbp.state() is BookState.LIVE, "LIVE")
    mbp.market.armed_faults.arm("skip_seq")
    move(mbp.market, 1)  # never sent
    await asyncio.sleep(2 * MBP_PUSH_INTERVAL_S[150])  # mbp.150 pushes each 100 ms's changes
    move(mbp.market, 2)  # its prevSeqNum names the skipped one
    await until(lambda: mbp.gaps == 1 and mbp.state() is BookState.SUSPECT, "the gap")
    assert mbp.feed.request_resync(SYMBOL, "gap")  # what the book service asks ingest for
    move(mbp.market, 3)
    await until(mbp.matches_the_simulator, "LIVE after the resync")


async def test_a_dropped_connection_reconnects_and_resyncs(mbp) -> None:
    await until(lambda: mbp.state() is BookState.LIVE, "LIVE")
    mbp.market.armed_faults.arm("drop_connection")
    move(mbp.market, 1)
    await until(lambda: mbp.feed.stats.connects == 2, "reconnect")
    move(mbp.market, 2)
    await until(mbp.matches_the_simulator, "LIVE after the reconnect")


async def test_an_impossible_level_never_reaches_a_live_book(mbp) -> None:
    await until(lambda: mbp.state() is BookState.LIVE, "LIVE")
    mbp.market.armed_faults.arm("bad_level", value="-5")
    move(mbp.market, 1)
    await until(lambda: mbp.feed.stats.bad_frames.get("bad_price") == 1, "the refused frame")
    move(mbp.market, 2)
    await until(mbp.matches_the_simulator, "LIVE after the resync")
    book = mbp.books.book("htx", SYMBOL)
    assert all(price > 0 for price, _ in book.top(100)[0])


async def test_the_depth_channel_replaces_the_book_with_every_push(depth) -> None:
    await until(lambda: depth.state() is BookState.LIVE, "LIVE from the first push")
    for step in range(3):
        move(depth.market, step)
    await until(depth.matches_the_simulator, "the simulator's book")
    assert depth.gaps == 0 and depth.feed.stats.resyncs == 0


async def test_one_connection_with_an_interval_and_a_per_change_topic_gets_both() -> None:
    """mbp.150 pushes each 100 ms's changes, mbp.5 every change: on one connection, the
    per-change frames must not hide the interval pushes of the same book (they share the
    book's seqNum, not a counter of what was sent)."""
    import json

    import aiohttp

    market = htx_market()
    server = TestServer(create_app(market, gzip_frames=False, ping_interval_s=30), host="127.0.0.1")
    await server.start_server()
    pushes: dict[str, list[int]] = {"mbp.150": [], "mbp.5": []}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.make_url("/feed")) as ws,
        ):
            for n, topic in enumerate(("market.btcusdt.mbp.150", "market.btcusdt.mbp.5")):
                await ws.send_str(json.dumps({"sub": topic, "id": str(n)}))

            async def read(seconds: float) -> None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):
                        async for msg in ws:
                            frame = json.loads(msg.data)
                            channel = frame.get("ch", "")
                            for name, seqs in pushes.items():
                                if channel.endswith(name):
                                    seqs.append(frame["tick"]["seqNum"])

            await read(0.3)  # the subscriptions' answers
            for step in range(1, 4):
                move(market, step)
                await read(2 * MBP_PUSH_INTERVAL_S[150])
    finally:
        await server.close()
    assert len(pushes["mbp.5"]) == 3, pushes
    # each move was pushed by mbp.150 too, in its interval: the last push is the book now
    assert pushes["mbp.150"] and pushes["mbp.150"][-1] == market.book(SYMBOL).seq, pushes
