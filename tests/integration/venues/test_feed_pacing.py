"""Resyncs of every book never burst: REST snapshots wait for the snapshot budget and for the
venue's REST limits, WS re-subscribes go out one message per subscribe_interval_s.

The simulator serves the venues' real protocols over real sockets; a middleware in front of
its OKX app notes when each order-book request arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookSnapshot, Instrument, MdEvent
from arb_structs.constants import RESYNC_ALL
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.bybit.market import BybitMarket
from arb_venues.common.feed import MarketDataFeed
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.okx.market import OkxMarket
from arb_venues.simapi import SimMarket

pytestmark = pytest.mark.integration

SYMBOLS = [f"T{i}-USDT" for i in range(10)]
BOOKS_PATH = "/api/v5/market/books"


class Served:
    def __init__(self, sim: Simulator, venue: str, requests: list[tuple[float, str]]) -> None:
        self.sim = sim
        self.venue = venue
        self.requests = requests  # (monotonic time, instId) of each order-book GET

    @property
    def endpoints(self) -> Endpoints:
        urls = self.sim.urls[self.venue]
        ws = urls["ws"]
        real_path = urlsplit(get_venue(self.venue).endpoints.ws_url).path
        if not urlsplit(ws).path.strip("/"):  # an app given to the simulator: no known paths
            ws = ws.rstrip("/") + real_path
        return Endpoints(ws_url=ws, rest_url=urls["rest"])

    @property
    def instruments(self) -> list[Instrument]:
        return list(self.sim.venue_markets[self.venue].instruments.values())


def _noting_okx_app(requests: list[tuple[float, str]]) -> Callable[[SimMarket], web.Application]:
    def factory(market: SimMarket) -> web.Application:
        create = get_venue("okx").sim_app
        app = create(market)

        @web.middleware
        async def note(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            if request.path == BOOKS_PATH:
                requests.append((time.monotonic(), request.query.get("instId", "")))
            return await handler(request)

        app.middlewares.append(note)
        return app

    return factory


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    venue = request.param
    requests: list[tuple[float, str]] = []
    settings = SimulatorSettings(venues=[venue], symbols=SYMBOLS, rate=20, inject_interval_s=0)
    apps = {"okx": _noting_okx_app(requests)} if venue == "okx" else {}
    async with Simulator(settings, apps=apps) as sim:
        yield Served(sim, venue, requests)


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


class Running:
    def __init__(self, feed: MarketDataFeed) -> None:
        self.feed = feed
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(feed.run(self.stopping))

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.wait_for(self.task, 5)


@pytest.mark.parametrize("served", ["okx"], indirect=True)
async def test_resync_of_every_book_is_paced_by_the_snapshot_budget(served: Served) -> None:
    events: list[MdEvent] = []
    budget = BucketLimit(2, 20)  # a burst of 2, then 20 per second
    feed = MarketDataFeed(OkxMarket(served.endpoints), served.instruments, events.append,
                          snapshot_budget=budget)  # fmt: skip
    running = Running(feed)
    try:
        await until(lambda: len(served.requests) == len(SYMBOLS), "the first snapshots")
        await asyncio.sleep(0.3)  # the bucket refills to its burst of 2
        first = len(served.requests)
        assert feed.request_resync(RESYNC_ALL, "test")
        assert feed.request_resync(RESYNC_ALL, "asked twice")  # no double queueing
        await until(lambda: len(served.requests) >= first + len(SYMBOLS), "resync snapshots")
        await asyncio.sleep(0.2)
        resync = served.requests[first:]
        assert sorted(symbol for _, symbol in resync) == sorted(SYMBOLS)  # each once
        times = [t for t, _ in resync]
        # 2 at once, then one every 50 ms: 8 more take >= 0.4 s; never 5 within 100 ms
        assert times[-1] - times[0] >= 0.9 * (len(SYMBOLS) - budget.capacity) / budget.per_second
        assert max_in_window(times, 0.1) <= 4
        assert feed.stats.snapshots_ok == 2 * len(SYMBOLS)
    finally:
        await running.stop()


class SlowBooksOkx(OkxMarket):
    """OKX with a tight order-book REST limit: 1 burst, 10 per second."""

    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(20, 10),
        "books": BucketLimit(1, 10),
    }


@pytest.mark.parametrize("served", ["okx"], indirect=True)
async def test_feed_built_rest_client_keeps_to_the_protocols_rest_limits(served: Served) -> None:
    feed = MarketDataFeed(SlowBooksOkx(served.endpoints), served.instruments, lambda e: None,
                          snapshot_budget=BucketLimit(100, 100))  # fmt: skip
    assert feed.rest.limiter.bucket("books").limit == BucketLimit(1, 10)
    running = Running(feed)
    try:
        await until(lambda: len(served.requests) == len(SYMBOLS), "the first snapshots")
        times = [t for t, _ in served.requests]
        assert times[-1] - times[0] >= 0.9 * (len(SYMBOLS) - 1) / 10  # the limiter, not budget
        assert max_in_window(times, 0.1) <= 2
    finally:
        await running.stop()


@pytest.mark.parametrize("served", ["bybit"], indirect=True)
async def test_ws_resync_of_every_book_resubscribes_one_message_per_interval(
    served: Served,
) -> None:
    sent: list[tuple[float, str]] = []

    def tap(kind: str, url: str, raw: Any) -> None:
        if kind == "send" and '"op":"ping"' not in raw:
            sent.append((time.monotonic(), raw))

    events: list[MdEvent] = []
    protocol = BybitMarket(served.endpoints)
    feed = MarketDataFeed(protocol, served.instruments, events.append, tap=tap)
    running = Running(feed)

    def snapshots() -> int:
        return sum(isinstance(e, BookSnapshot) for e in events)

    try:
        await until(lambda: snapshots() == len(SYMBOLS), "the first snapshots")
        first = len(sent)
        assert feed.request_resync(RESYNC_ALL, "test")
        await until(lambda: snapshots() == 2 * len(SYMBOLS), "a fresh snapshot of every book")
        resub = [t for t, _ in sent[first:]]
        assert len(resub) == 2 * len(SYMBOLS)  # unsubscribe + subscribe per book
        gaps = [b - a for a, b in itertools.pairwise(resub)]
        assert min(gaps) >= 0.9 * protocol.subscribe_interval_s
        fresh = [e.symbol for e in events if isinstance(e, BookSnapshot)][len(SYMBOLS) :]
        assert sorted(fresh) == sorted(SYMBOLS)
    finally:
        await running.stop()
