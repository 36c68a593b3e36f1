"""MarketDataFeed (the ingest connection loop) against the simulator's Kraken, real sockets.

Kraken has no sequence numbers, so a lost update (skip_seq) cannot show as prev_seq > seq:
it shows as a checksum mismatch on the next update, which the book turns into a resync; here
an independent reference book plays the book service's part.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, MdEvent, VenueStatus
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.kraken.market import KrakenMarket
from arb_venues.kraken.sim.app import create_app

from tests.unit.venues.kraken.helpers import BTC_USD, ReferenceBook, kraken_market

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.events: list[MdEvent] = []
        self.book = ReferenceBook()
        self.changed = asyncio.Event()

    def __call__(self, event: MdEvent) -> None:
        self.events.append(event)
        if isinstance(event, BookSnapshot | BookDelta):
            self.book.apply(event)
        self.changed.set()

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def running(request) -> AsyncIterator[tuple[VenueMarket, MarketDataFeed, Recorder]]:
    market = kraken_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/").replace("http://", "ws://")
    protocol = KrakenMarket(
        Endpoints(base, str(server.make_url(""))), 10, protocol_version=request.param
    )
    recorder = Recorder()
    feed = MarketDataFeed(protocol, [BTC_USD], recorder, backoff=Backoff(0.01, 0.05))
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    try:
        yield market, feed, recorder
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
        await server.close()


def _move(market: VenueMarket, i: int) -> None:
    market.apply("BTC-USD", [(f"44999.{i % 9 + 1}", f"0.{i + 1}")], [])


@pytest.mark.parametrize("running", ["v2", "v1"], indirect=True)
async def test_snapshot_deltas_reconnect_and_checksum_resync(running) -> None:
    market, feed, recorder = running
    await recorder.until(lambda: recorder.count(BookSnapshot) == 1)
    for i in range(3):
        _move(market, i)
    await recorder.until(lambda: recorder.count(BookDelta) == 3)
    assert (recorder.book.gaps, recorder.book.checksums_bad) == (0, 0)

    # drop_connection: the feed reconnects, resubscribes and gets a new snapshot.
    market.armed_faults.arm("drop_connection")
    _move(market, 3)
    await recorder.until(lambda: recorder.count(BookSnapshot) == 2)
    assert feed.stats.connects == 2 and recorder.count(VenueStatus) >= 3
    _move(market, 4)
    await recorder.until(lambda: recorder.count(BookDelta) == 4)
    assert recorder.book.checksums_bad == 0

    # skip_seq: one update is never sent; the next checksum exposes it (no seq gap possible).
    market.armed_faults.arm("skip_seq")
    _move(market, 5)
    _move(market, 6)
    await recorder.until(lambda: recorder.book.checksums_bad == 1)
    assert recorder.book.gaps == 0
    assert feed.request_resync("BTC-USD", "checksum mismatch")
    await recorder.until(lambda: recorder.count(BookSnapshot) == 3)
    ok_before = recorder.book.checksums_ok
    _move(market, 7)
    await recorder.until(lambda: recorder.book.checksums_ok > ok_before)
    assert recorder.book.checksums_bad == 1 and recorder.book.gaps == 0
    snapshots = [e for e in recorder.events if isinstance(e, BookSnapshot)]
    assert [s.seq for s in snapshots] == sorted(s.seq for s in snapshots), "seq never goes back"


@pytest.mark.parametrize("running", ["v2"], indirect=True)
async def test_bad_checksum_and_malformed_frame_faults_are_seen(running) -> None:
    market, feed, recorder = running
    await recorder.until(lambda: recorder.count(BookSnapshot) == 1)
    market.armed_faults.arm("bad_checksum")
    market.armed_faults.arm("malformed_frame")
    _move(market, 1)
    await recorder.until(lambda: recorder.count(BookDelta) == 1)
    assert recorder.book.checksums_bad == 1
    assert sum(feed.stats.bad_frames.values()) == 1
