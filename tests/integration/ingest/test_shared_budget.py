"""Scaled ingest replicas draw their REST snapshots from one Redis-backed venue budget.

Two feeds of OKX, each with its own Redis connection and REST client built by ingest's own
wiring (``arb_ingest.app.rest_client``, as two replicas of one venue would be), resync all
their books as fast as their own snapshot budgets allow. The simulator's request log (what
the venue received, the independent truth) shows that together they never exceed the
venue's order-book limit (``VenueSpec.rest_limits["books"]``), while each replica alone
could send that much. The control case with per-process budgets sends about twice the
limit, which is what would get an IP banned.

OKX's real limit (40 per 2 s) is made tighter here (a burst of 5, then 5 per second) so that
a loaded 2-core box can still send more than the limit in a second: the wiring under test
reads it from the same place (``OkxMarket.rest_limits`` through the VenueSpec).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from arb_ingest.app import rest_client
from arb_ingest.config import IngestSettings
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs.constants import RESYNC_ALL
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.common.feed import MarketDataFeed
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.okx.market import OkxMarket

pytestmark = pytest.mark.integration

SYMBOLS = [f"T{i}-USDT" for i in range(16)]
BOOKS_PATH = "/api/v5/market/books"
RUN_S = 1.5
TIGHT = {"default": BucketLimit(20, 10), "books": BucketLimit(5, 5)}


@pytest.fixture(autouse=True)
def tight_books_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OkxMarket, "rest_limits", TIGHT)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=["okx"], symbols=SYMBOLS, rate=5, inject_interval_s=0)
    async with Simulator(settings) as sim:
        yield sim


async def _replicas_resyncing(sim: Simulator, redis_url: str, shared: bool) -> list[int]:
    """Two replicas (8 symbols each) resyncing every book for RUN_S; their snapshot counts."""
    urls = sim.urls["okx"]
    endpoints = Endpoints(ws_url=urls["ws"], rest_url=urls["rest"])
    instruments = sorted(sim.venue_markets["okx"].instruments.values(), key=lambda i: i.symbol)
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    settings = IngestSettings(venue="okx", rest_url=urls["rest"], shared_rate_limits=shared)
    feeds = []
    for index, client in enumerate(clients):
        protocol = OkxMarket(endpoints)
        feeds.append(MarketDataFeed(
            protocol, instruments[index::2], lambda _e: None,
            rest=rest_client(settings, protocol, client),
            snapshot_budget=BucketLimit(1000, 1000),  # only the venue's budget binds
        ))  # fmt: skip
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(feed.run(stopping)) for feed in feeds]
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + RUN_S
        while loop.time() < end:
            for feed in feeds:
                feed.request_resync(RESYNC_ALL, "test")  # queued at most once per book
            await asyncio.sleep(0.02)
        return [feed.stats.snapshots_ok for feed in feeds]
    finally:
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        for client in clients:
            await client.aclose()


async def test_two_replicas_never_exceed_the_venue_limit_together(
    sim: Simulator, redis: aioredis.Redis, redis_url: str
) -> None:
    limit = get_venue("okx").rest_limits["books"]
    assert limit == TIGHT["books"]
    done = await _replicas_resyncing(sim, redis_url, shared=True)
    log = sim.requests["okx"]
    assert min(done) >= 2, done  # both replicas were snapshotting throughout
    # A token bucket lets capacity + rate * t through in any t seconds (+2: the requests'
    # arrival jitter on a loaded box, the bucket runs on Redis's clock).
    for window in (0.25, 0.5, 1.0):
        most = log.most_in_window(window, BOOKS_PATH)
        assert most <= limit.capacity + limit.per_second * window + 2, (window, most)
    # ... and the two together did use the whole of it, not half each of a smaller one.
    assert log.most_in_window(1.0, BOOKS_PATH) >= 0.8 * (limit.capacity + limit.per_second)


async def test_per_process_budgets_send_twice_the_limit(
    sim: Simulator, redis: aioredis.Redis, redis_url: str
) -> None:
    """The control case: what the shared budget prevents (and that the log can see it)."""
    limit = get_venue("okx").rest_limits["books"]
    await _replicas_resyncing(sim, redis_url, shared=False)
    most = sim.requests["okx"].most_in_window(1.0, BOOKS_PATH)
    assert most > 1.5 * (limit.capacity + limit.per_second), most
