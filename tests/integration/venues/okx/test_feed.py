"""MarketDataFeed + the OKX adapter against the OKX simulator over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, MdEvent, VenueStatus
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.okx.market import BOOKS_PUSH_INTERVAL_S, OkxMarket
from arb_venues.okx.sim.app import create_app

from tests.support_books import rebuilt
from tests.unit.venues.okx.helpers import BTC_USDT, SEQ0, okx_market

pytestmark = pytest.mark.integration


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Harness:
    def __init__(self, market: VenueMarket, feed: MarketDataFeed) -> None:
        self.market = market
        self.feed = feed
        self.events: list[MdEvent] = []

    def books(self) -> list[BookSnapshot | BookDelta]:
        return [e for e in self.events if isinstance(e, BookSnapshot | BookDelta)]

    def snapshots(self) -> list[BookSnapshot]:
        return [e for e in self.events if isinstance(e, BookSnapshot)]


async def _harness(initial_snapshot: bool) -> AsyncIterator[Harness]:
    market = okx_market()
    server = TestServer(create_app(market, initial_snapshot=initial_snapshot), host="127.0.0.1")
    await server.start_server()
    endpoints = Endpoints(
        ws_url=str(server.make_url("/ws/v5/public")), rest_url=str(server.make_url(""))
    )
    events: list[MdEvent] = []
    feed = MarketDataFeed(
        OkxMarket(endpoints), [BTC_USDT], events.append, backoff=Backoff(base_s=0.01, cap_s=0.05)
    )
    harness = Harness(market, feed)
    harness.events = events
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    try:
        yield harness
    finally:
        stopping.set()
        await asyncio.wait_for(task, 5)
        await server.close()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async for h in _harness(initial_snapshot=True):
        yield h


@pytest.fixture
async def rest_only() -> AsyncIterator[Harness]:
    async for h in _harness(initial_snapshot=False):
        yield h


def replay_rule(events: list[BookSnapshot | BookDelta]) -> tuple[int, int]:
    """(applied, gaps) under the book sequence rule (a snapshot resets the book)."""
    seq, applied, gaps = None, 0, 0
    for event in events:
        if isinstance(event, BookSnapshot):
            seq = event.seq
        elif seq is not None and event.seq > seq:
            if event.prev_seq <= seq:
                seq, applied = event.seq, applied + 1
            else:
                gaps += 1
    return applied, gaps


def duplicates(harness: Harness) -> int:
    return harness.feed.parser.duplicate_snapshots  # type: ignore[attr-defined, no-any-return]


async def both_snapshots_seen(harness: Harness, connects: int = 1) -> None:
    """The WS snapshot (while OKX still sends it) and the REST one (OKX's procedure) of the
    same book state arrived: one became the book's snapshot, the other was a duplicate."""
    await until(
        lambda: harness.feed.stats.snapshots_ok == connects and duplicates(harness) == connects,
        "WS + REST snapshots",
    )


async def test_subscribe_snapshot_then_deltas(harness: Harness) -> None:
    await both_snapshots_seen(harness)
    assert [s.seq for s in harness.snapshots()] == [SEQ0]  # one reset of the book, not two
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.4")])
    harness.market.apply("BTC-USDT", asks=[("41007.1", "0")])
    # books pushes each 100 ms's changes: the two changes of one moment are one update
    await until(lambda: len(harness.books()) == 2, "the push")
    [delta] = [e for e in harness.books() if isinstance(e, BookDelta)]
    assert (delta.prev_seq, delta.seq) == (SEQ0, SEQ0 + 2)
    assert (delta.bids, delta.asks) == ([(41006.9, 0.4)], [(41007.1, 0.0)])
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.7")])
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.2")])  # the later size wins
    await until(lambda: len(harness.books()) == 3, "the next push")
    last = harness.books()[-1]
    assert isinstance(last, BookDelta)
    assert (last.prev_seq, last.seq, last.bids) == (SEQ0 + 2, SEQ0 + 4, [(41006.9, 0.2)])
    assert replay_rule(harness.books()) == (2, 0)
    assert isinstance(harness.events[0], VenueStatus) and harness.events[0].status == "up"


async def test_books_pushes_at_its_interval_and_the_book_stays_right(harness: Harness) -> None:
    """A change every 10 ms for 0.6 s: about one update per BOOKS_PUSH_INTERVAL_S, each the
    changes of its interval, and the book they make is the simulator's."""
    await both_snapshots_seen(harness)
    loop = asyncio.get_running_loop()
    changes = 60
    start = loop.time()
    for step in range(changes):
        bid = (f"{41000 + step % 6}.5", f"0.{step + 1:02d}")
        ask = (f"{41010 + step % 4}.5", "1" if step % 3 else "0")  # some levels deleted
        harness.market.apply("BTC-USDT", bids=[bid], asks=[ask])
        await asyncio.sleep(0.01)
    elapsed = loop.time() - start
    await until(lambda: harness.books()[-1].seq == SEQ0 + changes, "the push of the last change")
    deltas = [e for e in harness.books() if isinstance(e, BookDelta)]
    pushes = elapsed / BOOKS_PUSH_INTERVAL_S
    assert pushes - 2 <= len(deltas) <= pushes + 2, (len(deltas), elapsed)
    assert sum(d.seq - d.prev_seq for d in deltas) == changes  # every change, in a chain
    assert max(d.seq - d.prev_seq for d in deltas) >= 5  # an interval's changes, merged
    assert replay_rule(harness.books()) == (len(deltas), 0)
    book = harness.market.book("BTC-USDT")
    truth = ({float(p): float(z) for p, z in book.bids}, {float(p): float(z) for p, z in book.asks})
    assert rebuilt(harness.books()) == truth


async def test_post_delisting_protocol_gets_its_snapshot_from_rest(rest_only: Harness) -> None:
    await until(lambda: len(rest_only.snapshots()) == 1, "REST snapshot")
    [snap] = rest_only.snapshots()
    assert snap.seq == SEQ0 and snap.bids_text is not None  # REST snapshots carry exact text
    rest_only.market.apply("BTC-USDT", bids=[("41006.9", "0.4")])
    await until(lambda: len(rest_only.books()) == 2, "delta")
    assert replay_rule(rest_only.books()) == (1, 0)


async def test_dropped_connection_reconnects_and_resnapshots(harness: Harness) -> None:
    await both_snapshots_seen(harness)
    harness.market.armed_faults.arm("drop_connection")
    # the sim closes instead of sending it
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.4")])
    await until(lambda: harness.feed.stats.connects == 2, "reconnect")
    await both_snapshots_seen(harness, connects=2)
    assert [s.seq for s in harness.snapshots()] == [SEQ0, SEQ0 + 1]
    harness.market.apply("BTC-USDT", asks=[("41008", "1")])
    await until(
        lambda: any(isinstance(e, BookDelta) and e.seq == SEQ0 + 2 for e in harness.events),
        "delta after the reconnect",
    )
    assert [e.status for e in harness.events if isinstance(e, VenueStatus)] == ["up", "down", "up"]
    assert replay_rule(harness.books()) == (1, 0)


async def test_skipped_sequence_is_a_visible_gap_and_resync_heals_it(harness: Harness) -> None:
    await both_snapshots_seen(harness)
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.4")])  # SEQ0 + 1
    await until(lambda: len(harness.books()) == 2, "its push")
    harness.market.armed_faults.arm("skip_seq")
    harness.market.apply("BTC-USDT", bids=[("41006.7", "0.1")])  # SEQ0 + 2: never sent
    await asyncio.sleep(1.5 * BOOKS_PUSH_INTERVAL_S)  # its push goes (and is skipped) alone
    harness.market.apply("BTC-USDT", asks=[("41008", "1")])  # SEQ0 + 3: prevSeqId SEQ0 + 2
    await until(
        lambda: any(isinstance(e, BookDelta) and e.seq == SEQ0 + 3 for e in harness.events),
        "delta after the skip",
    )
    assert replay_rule(harness.books()) == (1, 1)
    assert harness.feed.request_resync("BTC-USDT", "gap")
    await until(lambda: len(harness.snapshots()) == 2, "resync snapshot")
    assert harness.snapshots()[-1].seq == SEQ0 + 3
    harness.market.apply("BTC-USDT", asks=[("41009", "1")])  # SEQ0 + 4 continues the snapshot
    await until(
        lambda: any(isinstance(e, BookDelta) and e.seq == SEQ0 + 4 for e in harness.events),
        "delta after the resync",
    )
    events = harness.books()
    resync_at = events.index(harness.snapshots()[-1])
    assert replay_rule(events[resync_at:]) == (1, 0)


async def test_resync_of_an_unbroken_book_still_delivers_a_fresh_snapshot(
    harness: Harness,
) -> None:
    """The book service may resync for reasons the parser cannot see (checksum, staleness):
    the feed resets the parser's chain, so the REST answer is not taken for a duplicate."""
    await both_snapshots_seen(harness)
    harness.market.apply("BTC-USDT", bids=[("41006.9", "0.4")])  # SEQ0 + 1
    await until(lambda: len(harness.books()) == 2, "delta")
    assert harness.feed.request_resync("BTC-USDT", "checksum mismatch")
    await until(lambda: len(harness.snapshots()) == 2, "the resync snapshot")
    assert harness.snapshots()[-1].seq == SEQ0 + 1 and duplicates(harness) == 1
