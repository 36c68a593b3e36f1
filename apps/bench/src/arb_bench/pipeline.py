"""The pipeline through real processes, and its floor, at each offered rate.

``pipeline_point``: the simulator offers ``rate`` book messages/s in all (OKX and Coinbase,
which push every book change as its own frame), every service runs as its own process
(ingest per venue, book, detector, executor), all books LIVE, then ``window_s`` seconds are
measured. WS frame -> opportunity is ``ts_detect - ts_recv`` of each opportunity published in
the window (``ts_recv``: ingest received the newer of the two books' frames; ``ts_detect``: the
detector published it): two Redis hops. WS frame -> book view is ``ts_book - ts_recv`` of each
view (one hop). Each stage on its own, from the stamps every message carries: ``ingest + hop 1``
(ts_recv -> the book service read it), ``book`` (read -> view published), ``hop 2`` (view
published -> the detector read it), ``detector`` (read -> opportunity published).

``bench_pipeline`` runs, at each rate and on the same Redis server, the engine's point and then
the floor's (``arb_bench.floor``), so both see the same machine state, load and window.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.run import all_live
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.redis import connect
from arb_structs.codec import BOOK, OPPORTUNITY
from arb_structs.constants import (
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    book_checkpoint_key,
    book_stream,
    md_stream,
)
from arb_venues import venue_specs

from arb_bench import floor
from arb_bench.measure import (
    cpu_per_message,
    cpu_snapshot,
    entries_between,
    growing,
    latency,
    process_ids,
    stream_ms,
)

RATES = (1_000, 10_000, 20_000)
# The stages of ws -> opportunity, in order, each between two stamps the messages carry.
STAGES = ("ingest + hop 1", "book", "hop 2", "detector")
# Venues whose WS pushes every book change as its own frame (VenueSpec.frame_per_change), so
# the offered rate is the frame rate. The others coalesce changes at their documented cadence,
# so load cannot raise their frame rate; they are measured in ``replay`` and ``simulator``.
# Two of them: the pipeline measures the engine, not how many venues share two cores.
PIPELINE_VENUES = tuple(spec.name for spec in venue_specs() if spec.frame_per_change)[:2]
PIPELINE_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
# The simulator injects a dislocation this often, so each window has opportunities to time.
SIMULATOR_ARGS = ("--inject-interval", "0.2")
LIVE_TIMEOUT_S = 30.0
SETTLE_S = 1.0  # past the snapshot burst


async def _lag_ms(redis: Any, venue: str) -> int | None:
    """How far the book service's checkpoint trails the newest md entry, in stream time."""
    checkpoint = await redis.get(book_checkpoint_key(venue))
    if not checkpoint or not await redis.exists(md_stream(venue)):
        return None
    info = await redis.xinfo_stream(md_stream(venue))
    return max(0, stream_ms(info["last-generated-id"]) - stream_ms(checkpoint))


async def pipeline_point(
    url: str,
    redis_pid: int | None,
    rate: int,
    window_s: float,
    log_dir: Path,
    venues: Sequence[str] = PIPELINE_VENUES,
    symbols: Sequence[str] = PIPELINE_SYMBOLS,
) -> dict[str, Any]:
    """Start the simulator at ``rate`` book messages/s in all, every service, wait for every
    book LIVE, then measure ``window_s`` seconds."""
    redis = await connect(url)
    await redis.flushall()
    supervisor = Supervisor(log_dir)
    sim_proc = None
    try:
        sim_proc, urls = start_simulator(venues, symbols, rate / len(venues), url, log_dir,
                                         extra=SIMULATOR_ARGS)  # fmt: skip
        start_services(supervisor, venues, symbols, url, urls)
        deadline = time.monotonic() + LIVE_TIMEOUT_S
        while not all_live(await collect(redis), list(venues), list(symbols)):
            if time.monotonic() > deadline:
                died = [c.name for c in supervisor.children if not c.alive]
                return {"rate": rate, "error": f"books not LIVE within 30 s; dead: {died}"}
            await asyncio.sleep(0.25)
        await asyncio.sleep(SETTLE_S)
        pids = process_ids(supervisor, sim_proc.pid, redis_pid)
        cpu_start = cpu_snapshot(pids)
        added_start = {v: await entries_added(redis, md_stream(v)) for v in venues}
        lags: dict[str, list[int | None]] = {v: [] for v in venues}
        start_ns = time.time_ns()
        start = time.monotonic()
        while time.monotonic() - start < window_s:
            await asyncio.sleep(min(0.5, window_s / 8))
            for venue in venues:
                lags[venue].append(await _lag_ms(redis, venue))
        elapsed = time.monotonic() - start
        end_ns = time.time_ns()
        added = -sum(added_start.values())
        for venue in venues:
            added += await entries_added(redis, md_stream(venue))
        cpu = cpu_per_message(pids, cpu_start, elapsed, added)
        start_ms, end_ms = start_ns // 1_000_000, end_ns // 1_000_000
        published = await entries_between(redis, OPPORTUNITIES_STREAM, start_ms, end_ms)
        opportunities = [OPPORTUNITY.decode(f[PAYLOAD_FIELD]) for f in published]
        to_opp = [(o.ts_detect - o.ts_recv) / 1e6 for o in opportunities if o.ts_recv]
        stages: dict[str, list[float]] = {STAGES[2]: [], STAGES[3]: []}
        for o in opportunities:
            if o.ts_read:
                stages[STAGES[2]].append((o.ts_read - o.ts_book) / 1e6)
                stages[STAGES[3]].append((o.ts_detect - o.ts_read) / 1e6)
        to_book: list[float] = []
        stages[STAGES[0]], stages[STAGES[1]] = [], []
        for venue in venues:
            for fields in await entries_between(redis, book_stream(venue), start_ms, end_ms):
                view = BOOK.decode(fields[PAYLOAD_FIELD])
                if view.ts_recv:
                    to_book.append((view.ts_book - view.ts_recv) / 1e6)
                    if view.ts_read:
                        stages[STAGES[0]].append((view.ts_read - view.ts_recv) / 1e6)
                        stages[STAGES[1]].append((view.ts_book - view.ts_read) / 1e6)
        restarts = sum(c.restarts for c in supervisor.children) + len(supervisor.check())
        opp = latency(to_opp)
        book = latency(to_book)
        return {
            "rate": rate,
            "venues": list(venues),
            "window_s": round(elapsed, 2),
            "delivered_per_s": round(added / elapsed),
            "opportunities": opp["n"],
            "p50_ms": opp["p50_ms"],
            "p99_ms": opp["p99_ms"],
            "p999_ms": opp["p999_ms"],
            "ws_to_book": {
                "views": book["n"],
                "p50_ms": book["p50_ms"],
                "p99_ms": book["p99_ms"],
                "p999_ms": book["p999_ms"],
            },
            "stages": {name: latency(stages[name]) for name in STAGES},
            "book_lag_ms": {  # the last sample of each venue
                v: next((s for s in reversed(lags[v]) if s is not None), None) for v in venues
            },
            "backlog_growing": any(growing(lags[v]) for v in venues),
            "backlog_scope": "book service checkpoint lag per md stream; the detector keeps "
            "no position, its lag shows in the ws -> opportunity latency",
            "cpu": cpu,
            "restarts": restarts,
        }
    finally:
        supervisor.stop_all()
        stop_simulator(sim_proc)
        await redis.aclose()


def versus_floor(point: dict[str, Any], floor_point: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's p50/p99 over the floor's, for the two-hop and the one-hop paths."""

    def ratio(ours: float | None, bare: float | None) -> float | None:
        return round(ours / bare, 2) if ours and bare else None

    if "error" in point or "error" in floor_point:
        return {}
    two, one = floor_point["ws_to_hop2"], floor_point["ws_to_hop1"]
    return {
        "ws_to_opportunity_p50": ratio(point["p50_ms"], two["p50_ms"]),
        "ws_to_opportunity_p99": ratio(point["p99_ms"], two["p99_ms"]),
        "ws_to_book_p50": ratio(point["ws_to_book"]["p50_ms"], one["p50_ms"]),
        "ws_to_book_p99": ratio(point["ws_to_book"]["p99_ms"], one["p99_ms"]),
    }


async def bench_pipeline(
    rates: Sequence[int], window_s: float, with_floor: bool = True
) -> list[dict[str, Any]]:
    log_dir = Path(tempfile.mkdtemp(prefix="arb-bench-"))
    out: list[dict[str, Any]] = []
    with EmbeddedRedis() as server:
        for rate in rates:
            point = await pipeline_point(server.url, server.pid, rate, window_s, log_dir)
            if with_floor:
                bare = await floor.floor_point(server.url, server.pid, rate, window_s, log_dir,
                                               PIPELINE_VENUES, PIPELINE_SYMBOLS,
                                               SIMULATOR_ARGS)  # fmt: skip
                point["floor"] = bare
                point["vs_floor"] = versus_floor(point, bare)
            out.append(point)
    return out
