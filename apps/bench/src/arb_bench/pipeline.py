"""The pipeline through real processes, and its floor, at each offered rate.

``pipeline_point``: the simulator offers ``rate`` book messages/s in all (OKX and Coinbase,
which push every book change as its own frame), every service runs as its own process
(ingest per venue, book, detector, executor), all books LIVE, then ``window_s`` seconds are
measured. WS frame -> opportunity is ``ts_detect - ts_recv`` of each opportunity published in
the window (``ts_recv``: ingest received the newer of the two books' frames; ``ts_detect``: the
detector published it): two Redis hops. WS frame -> book view is ``ts_book - ts_recv`` of each
view (one hop). Each stage on its own, from the stamps every message carries: ``ingest + hop 1``
(ts_recv -> the book service read it), ``book`` (read -> view published), ``hop 2`` (view
published -> the detector read it), ``detector`` (read -> opportunity published). Hop 2 of
the opportunities is a few dozen samples; ``hop2_every_view`` is the same hop for every view
the detector read in the window, from its own histogram (``arb_detector_view_lag_seconds``,
its /metrics read at the window's start and end): how many, and the bucket holding the p50
and the p99.

``bench_pipeline`` runs, at each rate and on the same Redis server, the engine's point and then
the floor's (``arb_bench.floor``), so both see the same machine state, load and window.

The market clock: the simulator steps its market ``PIPELINE_TICK_HZ`` (1,000) times a second
here, for the engine and the floor alike (``--tick-hz``; ``make run`` keeps the simulator's
50). At 50 Hz each tick's frames leave together: at 1,000 msgs/s a burst of 20 every 20 ms,
so a frame waits behind the rest of its burst in ingest and in each hop, and every process
wakes at once on two cores. The two venues measured push each book change as its own frame
when it happens, not in 20 ms batches, so a clock that spreads the frames measures the path a
frame takes on its own; at 1,000 ticks/s the frames of a tick are those of 1 ms (10 a venue at
20,000 msgs/s). ``arb bench --tick-hz 50`` measures the bursts.

The parts (``running_engine``, ``wait_live``, ``measure_window``, ``opportunity_latencies``,
``view_latencies``) are also the ``venues_load`` section's (``arb_bench.venues_load``): the
same engine, window, latencies and backlog judgement with every venue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.run import all_live
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor
from arb_runtime.embedded import EmbeddedRedis, free_port
from arb_runtime.redis import connect
from arb_structs import BookView, Opportunity
from arb_structs.codec import BOOK, OPPORTUNITY
from arb_structs.constants import OPPORTUNITIES_STREAM, PAYLOAD_FIELD, book_stream, md_stream

from arb_bench import floor
from arb_bench.measure import (
    book_lag_ms,
    busy_share,
    cpu_per_message,
    cpu_snapshot,
    cpu_used,
    entries_between,
    growing,
    histogram_buckets,
    histogram_latency,
    latency,
    machine_cpu,
    process_ids,
)

RATES = (1_000, 10_000, 20_000)
# The stages of ws -> opportunity, in order, each between two stamps the messages carry.
STAGES = ("ingest + hop 1", "book", "hop 2", "detector")
# Two venues whose WS pushes every book change as its own frame (VenueSpec.frame_per_change),
# one frame per book update, so the offered rate is the frame rate: Coinbase ``level2`` and
# KuCoin ``/market/level2``. Bitfinex sends every change too, but as one message per changed
# level (about two frames an update here), so its frame rate is not the offered rate. The others
# coalesce changes at their documented cadence (OKX ``books`` every 100 ms among them), so load
# cannot raise their frame rate; they are measured in ``replay`` and ``simulator``. Two of
# them: the pipeline measures the engine, not how many venues share two cores.
PIPELINE_VENUES = ("coinbase", "kucoin")
PIPELINE_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
# The simulator injects a dislocation this often, so each window has opportunities to time.
SIMULATOR_ARGS = ("--inject-interval", "0.2")
# Ingest without its hot standby connection (the pipeline's venues, Coinbase and KuCoin, send
# no reconnect notice, so by default each keeps an A/B pair: every frame received twice).
NO_STANDBY = {"ARB_INGEST_STANDBY": "off"}
# The simulator's market clock in the pipeline and its floor (ticks/s; ``make run`` keeps the
# simulator's default, 50). See the module docstring.
PIPELINE_TICK_HZ = 1000.0
LIVE_TIMEOUT_S = 30.0
SETTLE_S = 1.0  # past the snapshot burst
VIEW_LAG_METRIC = "arb_detector_view_lag_seconds"  # the detector's: view published -> read
BACKLOG_SCOPE = ("book service checkpoint lag per md stream; the detector keeps no position, "
                 "its lag shows in the ws -> opportunity latency")  # fmt: skip


@dataclass
class Engine:
    """The simulator and every service of one measurement, on one Redis."""

    redis: Any
    supervisor: Supervisor
    simulator: subprocess.Popen[bytes]
    urls: dict[str, Any]  # what the simulator printed: each venue's URLs and "control"
    detector_metrics: str  # the detector's /metrics URL

    async def view_lag(self) -> dict[float, float]:
        """The detector's view-lag histogram now (empty when its /metrics does not answer)."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.get(self.detector_metrics) as response,
            ):
                return histogram_buckets(await response.text(), VIEW_LAG_METRIC)
        except (aiohttp.ClientError, TimeoutError):
            return {}

    def dead(self) -> list[str]:
        return [c.name for c in self.supervisor.children if not c.alive]

    def restarts(self) -> int:
        return sum(c.restarts for c in self.supervisor.children) + len(self.supervisor.check())


@contextlib.asynccontextmanager
async def running_engine(
    url: str,
    rate_per_venue: float,
    log_dir: Path,
    venues: Sequence[str],
    symbols: Sequence[str],
    simulator_args: Sequence[str] = SIMULATOR_ARGS,
    ingest_env: dict[str, str] | None = None,
) -> AsyncIterator[Engine]:
    """A flushed Redis, the simulator offering ``rate_per_venue`` book updates/s on each venue
    (with ``simulator_args``: SIMULATOR_ARGS' injections by default) and every service as
    ``arb run`` starts them (ingest with ``ingest_env`` on top); all stopped on the way out."""
    redis = await connect(url)
    await redis.flushall()
    supervisor = Supervisor(log_dir)
    sim_proc = None
    port = free_port()
    try:
        sim_proc, urls = start_simulator(venues, symbols, rate_per_venue, url, log_dir,
                                         extra=simulator_args)  # fmt: skip
        start_services(supervisor, venues, symbols, url, urls, ingest_env=ingest_env,
                       detector_env={"ARB_DETECTOR_METRICS_PORT": str(port)})  # fmt: skip
        yield Engine(redis, supervisor, sim_proc, urls, f"http://127.0.0.1:{port}/metrics")
    finally:
        supervisor.stop_all()
        stop_simulator(sim_proc)
        await redis.aclose()


async def wait_live(
    engine: Engine, venues: Sequence[str], symbols: Sequence[str], timeout_s: float
) -> float | None:
    """Seconds until every book of ``venues`` x ``symbols`` was LIVE, or None at the timeout."""
    started = time.monotonic()
    while not all_live(await collect(engine.redis), list(venues), list(symbols)):
        if time.monotonic() - started > timeout_s:
            return None
        await asyncio.sleep(0.25)
    return round(time.monotonic() - started, 1)


@dataclass
class Window:
    """What ``measure_window`` saw between its start and its end."""

    start_ns: int
    end_ns: int
    elapsed_s: float
    added: dict[str, int]  # md entries each venue's ingest added in the window
    cpu: dict[str, dict[str, float | None]]  # per process, over all venues' md entries
    cpu_seconds: dict[str, float]  # per process, CPU seconds used in the window
    lags: dict[str, list[int | None]]  # book service checkpoint lag samples per venue, ms
    samples: list[Any] = field(default_factory=list)  # what ``sample`` returned, in order
    machine_busy_share: float | None = None  # the whole box, other work included (1.0: full)

    @property
    def start_ms(self) -> int:
        return self.start_ns // 1_000_000

    @property
    def end_ms(self) -> int:
        return self.end_ns // 1_000_000

    @property
    def delivered_per_s(self) -> int:
        return round(sum(self.added.values()) / self.elapsed_s)

    def backlog(self) -> dict[str, Any]:
        """The backlog judgement: the last checkpoint lag of each venue, and whether any grew."""
        return {
            "book_lag_ms": {  # the last sample of each venue
                v: next((s for s in reversed(lags) if s is not None), None)
                for v, lags in self.lags.items()
            },
            "backlog_growing": any(growing(lags) for lags in self.lags.values()),
            "backlog_scope": BACKLOG_SCOPE,
        }


async def measure_window(
    engine: Engine,
    redis_pid: int | None,
    venues: Sequence[str],
    window_s: float,
    sample: Callable[[], Awaitable[Any]] | None = None,
    every_s: float = 0.5,
) -> Window:
    """``window_s`` seconds: CPU of every process, md entries added per venue, the book
    service's checkpoint lag per venue every ``every_s`` (and ``sample()``'s answer, if given)."""
    redis = engine.redis
    pids = process_ids(engine.supervisor, engine.simulator.pid, redis_pid)
    cpu_start = cpu_snapshot(pids)
    machine_start = machine_cpu()
    added_start = {v: await entries_added(redis, md_stream(v)) for v in venues}
    lags: dict[str, list[int | None]] = {v: [] for v in venues}
    samples: list[Any] = []
    start_ns = time.time_ns()
    start = time.monotonic()
    while time.monotonic() - start < window_s:
        await asyncio.sleep(min(every_s, window_s / 8))
        for venue in venues:
            lags[venue].append(await book_lag_ms(redis, venue))
        if sample is not None:
            samples.append(await sample())
    elapsed = time.monotonic() - start
    end_ns = time.time_ns()
    cpu_end = cpu_snapshot(pids)
    busy = busy_share(machine_start, machine_cpu())
    added = {v: await entries_added(redis, md_stream(v)) - added_start[v] for v in venues}
    cpu = cpu_per_message(pids, cpu_start, elapsed, sum(added.values()), cpu_end)
    used = cpu_used(cpu_start, cpu_end)
    return Window(start_ns, end_ns, elapsed, added, cpu, used, lags, samples, busy)


async def window_opportunities(redis: Any, window: Window) -> list[Opportunity]:
    published = await entries_between(redis, OPPORTUNITIES_STREAM, window.start_ms, window.end_ms)
    return [OPPORTUNITY.decode(f[PAYLOAD_FIELD]) for f in published]


async def window_views(redis: Any, venue: str, window: Window) -> list[BookView]:
    entries = await entries_between(redis, book_stream(venue), window.start_ms, window.end_ms)
    return [BOOK.decode(f[PAYLOAD_FIELD]) for f in entries]


def opportunity_latencies(
    opportunities: Sequence[Opportunity],
) -> tuple[list[float], dict[str, list[float]]]:
    """WS frame -> opportunity (ms) of each opportunity, and its two later stages."""
    to_opp = [(o.ts_detect - o.ts_recv) / 1e6 for o in opportunities if o.ts_recv]
    stages: dict[str, list[float]] = {STAGES[2]: [], STAGES[3]: []}
    for o in opportunities:
        if o.ts_read:
            stages[STAGES[2]].append((o.ts_read - o.ts_book) / 1e6)
            stages[STAGES[3]].append((o.ts_detect - o.ts_read) / 1e6)
    return to_opp, stages


def view_latencies(views: Sequence[BookView]) -> tuple[list[float], dict[str, list[float]]]:
    """WS frame -> book view (ms) of each view, and its two stages."""
    to_book: list[float] = []
    stages: dict[str, list[float]] = {STAGES[0]: [], STAGES[1]: []}
    for view in views:
        if view.ts_recv:
            to_book.append((view.ts_book - view.ts_recv) / 1e6)
            if view.ts_read:
                stages[STAGES[0]].append((view.ts_read - view.ts_recv) / 1e6)
                stages[STAGES[1]].append((view.ts_book - view.ts_read) / 1e6)
    return to_book, stages


def simulator_args(tick_hz: float) -> tuple[str, ...]:
    """The pipeline's and the floor's simulator flags: SIMULATOR_ARGS at ``tick_hz``."""
    return (*SIMULATOR_ARGS, "--tick-hz", str(tick_hz))


def book_latency(values_ms: list[float]) -> dict[str, Any]:
    """``latency`` under the ws -> book view keys (``views``: how many were timed)."""
    d = latency(values_ms)
    return {"views": d["n"], "p50_ms": d["p50_ms"], "p99_ms": d["p99_ms"],
            "p999_ms": d["p999_ms"]}  # fmt: skip


async def pipeline_point(
    url: str,
    redis_pid: int | None,
    rate: int,
    window_s: float,
    log_dir: Path,
    venues: Sequence[str] = PIPELINE_VENUES,
    symbols: Sequence[str] = PIPELINE_SYMBOLS,
    tick_hz: float = PIPELINE_TICK_HZ,
    ingest_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start the simulator at ``rate`` book messages/s in all (market clock ``tick_hz``), every
    service (ingest with ``ingest_env`` on top), wait for every book LIVE, then measure
    ``window_s`` seconds."""
    async with running_engine(url, rate / len(venues), log_dir, venues, symbols,
                              simulator_args(tick_hz), ingest_env) as engine:  # fmt: skip
        if await wait_live(engine, venues, symbols, LIVE_TIMEOUT_S) is None:
            return {"rate": rate, "error": f"books not LIVE within 30 s; dead: {engine.dead()}"}
        await asyncio.sleep(SETTLE_S)
        lag_before = await engine.view_lag()
        window = await measure_window(engine, redis_pid, venues, window_s)
        lag_after = await engine.view_lag()
        # both readings or none: without the first, the counts would not be the window's
        every_view = histogram_latency(lag_before, lag_after) if lag_before and lag_after else None
        to_opp, stages = opportunity_latencies(await window_opportunities(engine.redis, window))
        to_book: list[float] = []
        for venue in venues:
            venue_to_book, venue_stages = view_latencies(
                await window_views(engine.redis, venue, window)
            )
            to_book += venue_to_book
            for name, values in venue_stages.items():
                stages.setdefault(name, []).extend(values)
        opp = latency(to_opp)
        return {
            "rate": rate,
            "venues": list(venues),
            "tick_hz": tick_hz,
            "window_s": round(window.elapsed_s, 2),
            "delivered_per_s": window.delivered_per_s,
            "opportunities": opp["n"],
            "p50_ms": opp["p50_ms"],
            "p99_ms": opp["p99_ms"],
            "p999_ms": opp["p999_ms"],
            "ws_to_book": book_latency(to_book),
            "stages": {name: latency(stages[name]) for name in STAGES},
            "hop2_every_view": every_view,
            **window.backlog(),
            "cpu": window.cpu,
            "restarts": engine.restarts(),
        }


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
    rates: Sequence[int],
    window_s: float,
    with_floor: bool = True,
    tick_hz: float = PIPELINE_TICK_HZ,
    without_standby: bool = False,
) -> list[dict[str, Any]]:
    """At each rate the pipeline's point, then the floor's with the same simulator flags
    (``tick_hz`` included); with ``without_standby``, then the pipeline's point once more with
    ingest's hot standby off (NO_STANDBY: the A/B connection of the venues that send no
    reconnect notice, which receives and parses every frame a second time)."""
    log_dir = Path(tempfile.mkdtemp(prefix="arb-bench-"))
    out: list[dict[str, Any]] = []
    with EmbeddedRedis() as server:
        for rate in rates:
            point = await pipeline_point(server.url, server.pid, rate, window_s, log_dir,
                                         tick_hz=tick_hz)  # fmt: skip
            if with_floor:
                bare = await floor.floor_point(server.url, server.pid, rate, window_s, log_dir,
                                               PIPELINE_VENUES, PIPELINE_SYMBOLS,
                                               simulator_args(tick_hz))  # fmt: skip
                bare["tick_hz"] = tick_hz
                point["floor"] = bare
                point["vs_floor"] = versus_floor(point, bare)
            if without_standby:
                alone = await pipeline_point(server.url, server.pid, rate, window_s, log_dir,
                                             tick_hz=tick_hz, ingest_env=NO_STANDBY)  # fmt: skip
                point["without_standby"] = alone
            out.append(point)
    return out
