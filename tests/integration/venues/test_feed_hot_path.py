"""What the feed does per frame, against the simulator over real sockets.

- The frame and event counts of /metrics are the feed's own counters, read at scrape time
  (no Prometheus increment per frame): a scrape shows exactly what the feed counted.
- Within a burst (several frames read from the socket at once) the feed yields to the loop
  after each frame, so the producer's writer puts a frame on the wire before the next one is
  parsed; with nothing queued behind a frame it does not need to (the next receive waits).
  Either way, what a frame's handling schedules runs before the next frame is handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import MdMessage
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.common.feed import MarketDataFeed
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

VENUE = "kucoin"  # a frame per book change: bursts are frames, not coalesced pushes


def scraped(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"venue": VENUE}) or 0.0


async def run_feed(
    settings: SimulatorSettings,
    frames: int,
    emit_extra: Callable[[MarketDataFeed], None] | None = None,
) -> MarketDataFeed:
    async with Simulator(settings) as sim:
        urls = sim.urls[VENUE]
        protocol = get_venue(VENUE).market(Endpoints(ws_url=urls["ws"], rest_url=urls["rest"]))
        feed: MarketDataFeed | None = None

        def emit(event: MdMessage) -> None:
            if emit_extra is not None and feed is not None:
                emit_extra(feed)

        feed = MarketDataFeed(protocol, list(sim.venue_markets[VENUE].instruments.values()), emit)
        stopping = asyncio.Event()
        task = asyncio.create_task(feed.run(stopping))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while feed.stats.frames < frames:
            assert loop.time() < deadline, f"only {feed.stats.frames} frames"
            await asyncio.sleep(0.02)
        stopping.set()
        await asyncio.wait_for(task, 10)
        return feed


async def test_metrics_show_the_feeds_own_counts() -> None:
    frames_before = scraped("arb_ingest_frames_total")
    events_before = scraped("arb_ingest_book_events_total")
    settings = SimulatorSettings(venues=[VENUE], symbols=["BTC-USDT"], rate=200,
                                 inject_interval_s=0)  # fmt: skip
    feed = await run_feed(settings, 50)
    assert feed.stats.frames >= 50 and feed.stats.events > 0
    assert scraped("arb_ingest_frames_total") - frames_before == feed.stats.frames
    assert scraped("arb_ingest_book_events_total") - events_before == feed.stats.events


async def test_what_a_frame_schedules_runs_before_the_next_frame_even_in_bursts() -> None:
    # 50 ticks a second, 2,000 updates a second: about 40 frames leave in each tick's burst.
    settings = SimulatorSettings(venues=[VENUE], symbols=["BTC-USDT", "ETH-USDT"], rate=2000,
                                 tick_hz=50, inject_interval_s=0)  # fmt: skip
    seen: list[tuple[int, int]] = []  # (frames when scheduled, frames when it ran)
    loop = asyncio.get_running_loop()

    def schedule(feed: MarketDataFeed) -> None:
        at = feed.stats.frames
        loop.call_soon(lambda: seen.append((at, feed.stats.frames)))

    await run_feed(settings, 600, schedule)
    assert len(seen) >= 500
    late = [s for s in seen if s[1] != s[0]]
    assert len(late) <= len(seen) // 20, f"{len(late)} of {len(seen)} ran frames later: {late[:5]}"
