"""Books that cannot lie, end to end: the simulator's OKX over real sockets, ingest, the book
service and the detector on a real Redis, each through its own service entry.

- corrupt_book falsifies one level of the published book with every seqId in place (nothing
  in the stream shows it); the audit finds it: the first audit whose REST snapshot postdates
  the corrupting update reports a mismatch naming that level and the sizes the simulator's
  own book (the independent truth) and the published one hold, and the book turns SUSPECT.
- bad_level puts a NaN price in a published update (the one value a crossed-book check cannot
  see); the parser refuses the frame, no view ever holds a non-finite level, the book
  resyncs, and no opportunity appears, while a dislocation the simulator really injects
  afterwards is found (so "no opportunity" is not the pipeline being deaf).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from arb_book.app import main as book_main
from arb_book.config import BookSettings
from arb_detector.app import main as detector_main
from arb_detector.config import DetectorSettings
from arb_ingest.app import main as ingest_main
from arb_ingest.config import IngestSettings
from arb_runtime.service import serve
from arb_simulator.app import Simulator
from arb_simulator.config import FaultSpec, SimulatorSettings
from arb_structs import AuditRequest, BookState, BookView
from arb_structs.codec import BOOK, CTL, OPPORTUNITY
from arb_structs.constants import (
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    book_latest_key,
    book_stream,
    ctl_stream,
)

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
AUDIT_INTERVAL_S = 1.0


async def eventually(check: Callable[[], Awaitable[Any]], what: str, bound: float = 30) -> Any:
    """Poll until ``check`` returns something truthy; the bound only stops a broken build."""
    deadline = time.monotonic() + bound
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def engine(
    redis_url: str, venues: list[str], *, detector: bool = False
) -> AsyncIterator[Simulator]:
    """Simulator + one ingest per venue + the book service (+ the detector), as tasks."""
    sim_settings = SimulatorSettings(venues=venues, symbols=[SYMBOL], rate=10, inject_interval_s=0)
    async with Simulator(sim_settings) as sim:
        stopping = asyncio.Event()
        services = []
        for venue in venues:
            urls = sim.urls[venue]
            ingest = IngestSettings(redis_url=redis_url, venue=venue, symbols=[SYMBOL],
                                    ws_url=urls["ws"], rest_url=urls["rest"],
                                    instance=f"ingest-{venue}", audit_rate_per_s=5.0)  # fmt: skip
            services.append(serve("ingest", ingest, ingest_main, stopping))
        book = BookSettings(redis_url=redis_url, venues=venues, block_ms=20, instance="book",
                            sweep_interval_seconds=0.1, audit_interval_seconds=AUDIT_INTERVAL_S,
                            resync_interval_seconds=1.0)  # fmt: skip
        services.append(serve("book", book, book_main, stopping))
        if detector:
            settings = DetectorSettings(redis_url=redis_url, venues=venues, block_ms=20,
                                        instance="detector")  # fmt: skip
            services.append(serve("detector", settings, detector_main, stopping))
        tasks = [asyncio.create_task(s) for s in services]
        try:
            yield sim
        finally:
            stopping.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)


async def latest(redis: aioredis.Redis, venue: str) -> BookView | None:
    raw = await redis.hget(book_latest_key(venue), SYMBOL)
    return BOOK.decode(raw) if raw else None


async def views(redis: aioredis.Redis, venue: str) -> list[BookView]:
    return [BOOK.decode(f[PAYLOAD_FIELD]) for _, f in await redis.xrange(book_stream(venue))]


async def audit_requests_since(redis: aioredis.Redis, venue: str, since_ns: int) -> int:
    entries = await redis.xrange(ctl_stream(venue))
    requests = [CTL.decode(f[PAYLOAD_FIELD]) for _, f in entries]
    return sum(isinstance(r, AuditRequest) and r.ts >= since_ns for r in requests)


async def test_corrupt_book_fault_is_caught_by_the_first_audit_after_it(
    redis: aioredis.Redis, redis_url: str
) -> None:
    async with engine(redis_url, ["okx"]) as sim:

        async def passed() -> bool:
            view = await latest(redis, "okx")
            return view is not None and view.state is BookState.LIVE and view.audit == "passed"

        await eventually(passed, "a clean LIVE book passing its audit")
        assert not [v for v in await views(redis, "okx") if v.audit == "mismatch"]

        armed_at = time.time_ns()
        sim.arm_fault(FaultSpec(venue="okx", kind="corrupt_book", symbol=SYMBOL, duration_s=60))

        async def caught() -> BookView | None:
            for view in await views(redis, "okx"):
                if view.audit == "mismatch" and view.ts_audit > armed_at:
                    return view
            return None

        view = await eventually(caught, "an audit mismatch after the corrupt_book fault")
        truth = sim.venue_markets["okx"].book(SYMBOL)  # the simulator's own book
        assert sim.faults["okx"].fired_total.get("corrupt_book", 0) >= 1
        assert view.state is BookState.SUSPECT and "bids level" in view.reason
        assert "audit mismatch" in view.reason
        falsified = float(view.reason.split("is (")[1].split(",")[0])
        true_sizes = {float(p): float(s) for p, s in truth.bids}
        if falsified in true_sizes:  # still in the market: the book held twice its size
            held = float(view.reason.split("is (")[1].split(",")[1].split(")")[0])
            assert held != true_sizes[falsified]
        # Within one audit interval: the mismatch came from the first audit asked after the
        # fault, or the next one (an audit in flight when the fault was armed may have taken
        # its REST snapshot before the corrupting update, and then rightly passed).
        asked = await audit_requests_since(redis, "okx", armed_at)
        ended = {v.ts_audit for v in await views(redis, "okx") if armed_at < v.ts_audit}
        audits_until_caught = len({ts for ts in ended if ts <= view.ts_audit})
        assert asked >= 1 and audits_until_caught <= 2, (asked, audits_until_caught)

        async def resynced() -> bool:
            current = await latest(redis, "okx")
            return current is not None and current.state is BookState.LIVE

        await eventually(resynced, "the SUSPECT book resynced from a fresh snapshot")


async def test_a_nan_level_injected_by_the_simulator_reaches_no_book_and_no_opportunity(
    redis: aioredis.Redis, redis_url: str
) -> None:
    venues = ["okx", "binance"]
    async with engine(redis_url, venues, detector=True) as sim:

        async def both_live() -> bool:
            found = [await latest(redis, v) for v in venues]
            return all(v is not None and v.state is BookState.LIVE for v in found)

        await eventually(both_live, "both books LIVE")
        sim.arm_fault(FaultSpec(venue="okx", kind="bad_level", symbol=SYMBOL, count=3,
                                value="NaN", field="price"))  # fmt: skip

        async def fired() -> bool:
            return sim.faults["okx"].fired_total.get("bad_level", 0) >= 3

        await eventually(fired, "three updates carrying a NaN-priced bid")
        await eventually(both_live, "both books LIVE again after the resyncs")
        assert await redis.xlen(OPPORTUNITIES_STREAM) == 0  # 0 too when it does not exist
        for venue in venues:
            for view in await views(redis, venue):
                for price, size in view.bids + view.asks:
                    assert math.isfinite(price) and price > 0 and math.isfinite(size) and size > 0
                if view.bids and view.asks and view.state is BookState.LIVE:
                    assert view.bids[0][0] < view.asks[0][0]
        assert sim.truth_events() == []  # nothing real to find so far

        truth = sim.market.inject("binance", SYMBOL, "down", bps=60, size=0.5, duration_s=3)

        async def found() -> list[Any]:
            raw = await redis.xrange(OPPORTUNITIES_STREAM)
            return [OPPORTUNITY.decode(f[PAYLOAD_FIELD]) for _, f in raw]

        opportunities = await eventually(found, "the injected dislocation found")
        assert all(o.buy_venue == "binance" and o.sell_venue == "okx" for o in opportunities)
        assert truth.venue == "binance"


async def test_every_venue_audits_its_clean_books_without_a_false_mismatch(
    redis: aioredis.Redis, redis_url: str
) -> None:
    """Binance and OKX by sequence, Bybit, Kraken and Coinbase by content: on books nothing
    corrupts, audits pass (or are skipped, never passed in silence) and none mismatches; the
    counts show in `arb status` and in the book service's metrics."""
    from arb_cli.status import collect
    from prometheus_client import REGISTRY

    venues = ["binance", "okx", "bybit", "kraken", "coinbase"]

    def passed_so_far(venue: str) -> float:
        labels = {"venue": venue, "outcome": "passed"}
        return REGISTRY.get_sample_value("arb_book_audits_total", labels) or 0.0

    before = {venue: passed_so_far(venue) for venue in venues}
    async with engine(redis_url, venues):

        async def all_passed() -> bool:
            for venue in venues:
                view = await latest(redis, venue)
                if view is None or view.audit != "passed":
                    return False
            return True

        await eventually(all_passed, "an audit passed on every venue's book", bound=60)

        async def reported() -> dict[str, str] | None:  # the book service's next health beat
            audits: dict[str, str] = (await collect(redis))["audits"]
            return audits if all(v in audits for v in venues) else None

        audits = await eventually(reported, "every venue's audits in arb status")
    for venue in venues:
        assert not [v for v in await views(redis, venue) if v.audit == "mismatch"], venue
        assert passed_so_far(venue) > before[venue], venue
        assert "passed" in audits[venue] and "mismatched 0" in audits[venue], audits
