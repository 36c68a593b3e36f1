"""The generic MarketDataFeed running the Bybit protocol against the Bybit sim (real sockets).

subscribe -> snapshot -> deltas; a dropped connection is re-subscribed and re-snapshotted; a
skipped update id is a gap for the book rule, and a resync (unsubscribe + subscribe) brings a
fresh snapshot that the following deltas continue.
"""

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
from arb_venues.bybit.market import BybitMarket
from arb_venues.bybit.sim.app import create_app
from arb_venues.common.feed import Backoff, MarketDataFeed

from tests.unit.venues.bybit.instruments import BTC, XRP, bybit_market

pytestmark = pytest.mark.integration

D = Decimal


class FastHeartbeatMarket(BybitMarket):
    heartbeat_interval_s: ClassVar[float | None] = 0.05


@dataclass
class Recorder:
    events: list[MdEvent] = field(default_factory=list)

    def emit(self, event: MdEvent) -> None:
        self.events.append(event)

    async def wait_for(self, predicate: Callable[[list[MdEvent]], bool]) -> None:
        async with asyncio.timeout(10):  # a guard against hanging, not a timing assertion
            while not predicate(self.events):  # noqa: ASYNC110 - pongs emit no event
                await asyncio.sleep(0.005)

    def of(self, kind: type, symbol: str = "BTC-USDT") -> list[MdEvent]:
        return [e for e in self.events if isinstance(e, kind) and e.symbol == symbol]


@dataclass
class Running:
    market: VenueMarket
    feed: MarketDataFeed
    recorder: Recorder


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    market = bybit_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = f"127.0.0.1:{server.port}"
    protocol = FastHeartbeatMarket(Endpoints(ws_url=f"ws://{base}", rest_url=f"http://{base}"))
    recorder = Recorder()
    feed = MarketDataFeed(protocol, [BTC, XRP], recorder.emit, backoff=Backoff(0.01, 0.05))
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    try:
        yield Running(market, feed, recorder)
    finally:
        stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await server.close()


async def test_subscribe_snapshot_then_deltas_continue_it(running: Running) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(
        lambda _: (
            len(recorder.of(BookSnapshot)) == 1 and len(recorder.of(BookSnapshot, "XRP-USDT")) == 1
        )
    )
    (snapshot,) = recorder.of(BookSnapshot)
    assert isinstance(snapshot, BookSnapshot) and snapshot.depth == 50
    assert snapshot.bids[0] == (100.0, 1.5) and snapshot.asks[0] == (100.01, 2.0)
    market.apply("BTC-USDT", bids=[(D("100.00"), D("2"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 1)  # a push of 20 ms
    market.apply("BTC-USDT", asks=[(D("100.01"), D("0"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 2)
    first, second = recorder.of(BookDelta)
    assert (first.prev_seq, first.seq) == (snapshot.seq, snapshot.seq + 1)
    assert (second.prev_seq, second.seq) == (first.seq, first.seq + 1)
    assert second.asks == [(100.51, 52.0), (100.01, 0.0)]  # level 51 enters, 100.01 leaves
    # pings every 0.05 s here: each pong is parsed as a control frame, never a bad frame
    await recorder.wait_for(lambda _: running.feed.stats.frames >= 10)
    assert running.feed.stats.bad_frames == {}


async def test_dropped_connection_resubscribes_and_gets_a_new_snapshot(running: Running) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 1)
    market.armed_faults.arm("drop_connection")
    market.apply("BTC-USDT", bids=[(D("100.00"), D("5"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 2)
    statuses = [e.status for e in recorder.events if isinstance(e, VenueStatus)]
    assert statuses == ["up", "down", "up"]
    assert running.feed.stats.connects == 2
    fresh = recorder.of(BookSnapshot)[-1]
    assert isinstance(fresh, BookSnapshot) and dict(fresh.bids)[100.0] == 5.0  # current book
    market.apply("BTC-USDT", bids=[(D("100.00"), D("6"))])
    await recorder.wait_for(lambda _: any(e.seq > fresh.seq for e in recorder.of(BookDelta)))
    after = [e for e in recorder.of(BookDelta) if e.seq > fresh.seq]
    assert after[0].prev_seq == fresh.seq


async def test_skipped_update_id_is_a_gap_and_a_resync_brings_a_fresh_snapshot(
    running: Running,
) -> None:
    recorder, market = running.recorder, running.market
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 1)
    (snapshot,) = recorder.of(BookSnapshot)
    market.armed_faults.arm("skip_seq")
    market.apply("BTC-USDT", bids=[(D("100.00"), D("8"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 1)
    (gapped,) = recorder.of(BookDelta)
    assert isinstance(gapped, BookDelta) and gapped.prev_seq > snapshot.seq  # the rule's gap
    assert running.feed.request_resync("BTC-USDT", "gap")
    await recorder.wait_for(lambda _: len(recorder.of(BookSnapshot)) == 2)
    fresh = recorder.of(BookSnapshot)[-1]
    assert isinstance(fresh, BookSnapshot) and fresh.seq == gapped.seq
    assert dict(fresh.bids)[100.0] == 8.0
    market.apply("BTC-USDT", bids=[(D("100.00"), D("9"))])
    await recorder.wait_for(lambda _: len(recorder.of(BookDelta)) == 2)
    assert recorder.of(BookDelta)[-1].prev_seq == fresh.seq  # continues the fresh snapshot
    assert len(recorder.of(BookSnapshot, "XRP-USDT")) == 1  # only the one symbol resynced
