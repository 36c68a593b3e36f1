"""The Crypto.com adapter against its simulator over real sockets: the delta subscription,
u/pu continuity, heartbeats answered on the connection, reconnects and one-book resyncs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import BookDelta, BookSnapshot, MdEvent, VenueStatus
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed
from arb_venues.cryptocom.market import UPDATE_FREQUENCY_MS, CryptocomMarket
from arb_venues.cryptocom.sim.app import STREAM, create_app

from tests.support_books import rebuilt
from tests.unit.venues.cryptocom.instruments import BTC, ETH, cryptocom_market

pytestmark = pytest.mark.integration

D = Decimal


class FastMarket(CryptocomMarket):
    connect_delay_s: ClassVar[float] = 0.05  # the real 1 s pause, shortened for the tests


@dataclass
class Recorder:
    events: list[MdEvent] = field(default_factory=list)

    def emit(self, event: MdEvent) -> None:
        self.events.append(event)

    async def wait_for(self, predicate: Callable[[list[MdEvent]], bool]) -> None:
        async with asyncio.timeout(10):  # a guard against hanging, not a timing assertion
            while not predicate(self.events):  # noqa: ASYNC110 - heartbeats emit no event
                await asyncio.sleep(0.005)

    def of(self, kind: type, symbol: str = "BTC-USDT") -> list[MdEvent]:
        return [e for e in self.events if isinstance(e, kind) and e.symbol == symbol]


@dataclass
class Running:
    market: VenueMarket
    feed: MarketDataFeed
    recorder: Recorder
    server: TestServer


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    market = cryptocom_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    server.app[STREAM].heartbeat_interval_s = 0.05
    base = f"127.0.0.1:{server.port}"
    protocol = FastMarket(Endpoints(ws_url=f"ws://{base}", rest_url=f"http://{base}"))
    recorder = Recorder()
    feed = MarketDataFeed(protocol, [BTC, ETH], recorder.emit, backoff=Backoff(0.01, 0.05))
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    try:
        yield Running(market, feed, recorder, server)
    finally:
        stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await server.close()


async def test_subscribe_snapshot_then_deltas_continue_it_and_heartbeats_keep_it_up(
    running: Running,
) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(
        lambda _: len(recorder.of(BookSnapshot)) == 1 and len(recorder.of(BookSnapshot, "ETH-USDT"))
    )
    (snapshot,) = recorder.of(BookSnapshot)
    assert isinstance(snapshot, BookSnapshot) and snapshot.depth == 50
    assert snapshot.bids[0] == (100.0, 1.5) and snapshot.asks[0] == (100.01, 2.0)
    market.apply("BTC-USDT", bids=[(D("100.00"), D("2"))])
    # the delta subscription pushes each 10 ms's changes: these two are one update
    market.apply("BTC-USDT", asks=[(D("100.01"), D("0"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 1)
    (first,) = recorder.of(BookDelta)
    assert (first.prev_seq, first.seq) == (snapshot.seq, snapshot.seq + 1)
    assert first.bids == [(100.0, 2.0)]
    assert sorted(first.asks) == [(100.01, 0.0), (100.51, 52.0)]  # 100.01 leaves, 51 enters
    market.apply("BTC-USDT", bids=[(D("100.00"), D("3"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 2)
    second = recorder.of(BookDelta)[-1]
    assert (second.prev_seq, second.seq, second.bids) == (first.seq, first.seq + 1, [(100.0, 3.0)])
    # the server beats every 0.05 s and closes an unanswered connection at the next beat:
    # ten beats later the first connection is still the only one
    await asyncio.sleep(0.6)
    assert running.feed.stats.connects == 1 and running.feed.stats.bad_frames == {}
    statuses = [e.status for e in recorder.events if isinstance(e, VenueStatus)]
    assert statuses == ["up"]


async def test_dropped_connection_resubscribes_and_gets_a_new_snapshot(running: Running) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 1)
    market.armed_faults.arm("drop_connection")
    market.apply("BTC-USDT", bids=[(D("100.00"), D("5"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 2)
    assert running.feed.stats.connects == 2
    fresh = recorder.of(BookSnapshot)[-1]
    assert isinstance(fresh, BookSnapshot) and dict(fresh.bids)[100.0] == 5.0
    market.apply("BTC-USDT", bids=[(D("100.00"), D("6"))])
    await recorder.wait_for(lambda _: any(e.seq > fresh.seq for e in recorder.of(BookDelta)))
    after = [e for e in recorder.of(BookDelta) if e.seq > fresh.seq]
    assert after[0].prev_seq == fresh.seq


async def test_broken_u_pu_chain_resubscribes_that_book_only(running: Running) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(
        lambda _: len(recorder.of(BookSnapshot)) == 1 and len(recorder.of(BookSnapshot, "ETH-USDT"))
    )
    (snapshot,) = recorder.of(BookSnapshot)
    market.armed_faults.arm("skip_seq")
    market.apply("BTC-USDT", bids=[(D("100.00"), D("8"))])
    # the parser sees pu != last u and the feed re-subscribes by itself: a fresh snapshot
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 2)
    (gapped,) = recorder.of(BookDelta)
    assert isinstance(gapped, BookDelta) and gapped.prev_seq > snapshot.seq  # the book's gap
    fresh = recorder.of(BookSnapshot)[-1]
    assert isinstance(fresh, BookSnapshot) and dict(fresh.bids)[100.0] == 8.0
    market.apply("BTC-USDT", bids=[(D("100.00"), D("9"))])
    await recorder.wait_for(lambda _: any(e.seq > fresh.seq for e in recorder.of(BookDelta)))
    assert recorder.of(BookDelta)[-1].prev_seq == fresh.seq
    assert len(recorder.of(BookSnapshot, "ETH-USDT")) == 1
    assert running.feed.stats.connects == 1


async def test_deltas_come_at_the_update_frequency_and_keep_the_book_right(
    running: Running,
) -> None:
    """A change every 2 ms: about one delta per UPDATE_FREQUENCY_MS, each carrying the changes
    of its interval, and the book they make is the simulator's top 50."""
    recorder, market = running.recorder, running.market
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    changes = 150
    for step in range(changes):
        bid = (D("100.00") - D(step % 5) / 100, D(step + 1))
        ask = (D("100.01") + D(step % 3) / 100, D(0) if step % 4 == 0 else D(step + 2))
        market.apply("BTC-USDT", bids=[bid], asks=[ask])
        await asyncio.sleep(0.002)
    elapsed = loop.time() - start
    book = market.book("BTC-USDT")
    truth = ({float(p): float(z) for p, z in book.bids[:50]},
             {float(p): float(z) for p, z in book.asks[:50]})  # fmt: skip
    await recorder.wait_for(
        lambda _: (
            rebuilt(sorted(recorder.of(BookSnapshot) + recorder.of(BookDelta), key=_seq)) == truth
        )
    )
    deltas = recorder.of(BookDelta)
    pushes = elapsed / (UPDATE_FREQUENCY_MS / 1000)
    assert 3 <= len(deltas) <= pushes + 2 < changes / 2, (len(deltas), elapsed)
    assert [d.prev_seq for d in deltas[1:]] == [d.seq for d in deltas[:-1]]  # one chain


def _seq(event: BookSnapshot | BookDelta) -> int:
    return event.seq
