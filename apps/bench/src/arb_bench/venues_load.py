"""Every venue at once: the whole engine with all twelve venues offered 1,000 msgs/s each.

The seed's "10-20 exchanges x 1,000 messages/s", on this box. The simulator serves every venue
of the registry (``VENUE_NAMES``) with the pipeline's symbols and injections, its market making
``RATE_PER_VENUE`` book updates/s on each; every service runs as ``arb run`` starts it (one
ingest per venue, book, detector, executor: ``arb_bench.pipeline.running_engine``); once every
book is LIVE (or ``LIVE_TIMEOUT_S`` passed: then the LIVE share shows what was not), one
``window_s`` window is measured the pipeline's way (``arb_bench.pipeline.measure_window``):
CPU per process from /proc, md entries per venue, the book service's checkpoint lag per venue
(the backlog judgement), the same latency stamps.

Offered is not always deliverable. A venue whose WS sends every book change as its own frame
(``VenueSpec.frame_per_change``: Coinbase, Bitfinex, KuCoin) carries the offered rate as
frames; the others coalesce the changes of an interval into one frame per symbol (Binance
``@depth@100ms``, OKX ``books`` 100 ms, Gate ``100ms``, MEXC ``@100ms``, ...), so their
frame rate is set by their cadence and the symbol count, not by the load (and a CPU-starved
simulator stretches the interval). Each venue's row shows what the market made (the
simulator's own update counter), the frames ingest delivered, the level updates those carried
and the interval one symbol's frames arrived at, measured, not assumed: a venue whose
VenueSpec does not say ``frame_per_change`` but whose simulated feed sent a frame per change
is labelled so.

``verdict`` says whether the box carried the load: every per-change venue delivered what the
market made, the market made what was asked (a CPU-starved simulator makes less), every book
LIVE through the window, no growing backlog; and which processes were CPU-bound (a core each:
one Python process or Redis cannot use two).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from arb_cli.run import summary
from arb_cli.status import collect
from arb_runtime.embedded import EmbeddedRedis
from arb_structs import BookDelta, BookSnapshot
from arb_structs.codec import MD
from arb_structs.constants import PAYLOAD_FIELD, md_stream
from arb_venues import VENUE_NAMES, get_venue

from arb_bench.measure import entries_between, latency
from arb_bench.pipeline import (
    PIPELINE_SYMBOLS,
    SETTLE_S,
    STAGES,
    Engine,
    Window,
    book_latency,
    measure_window,
    opportunity_latencies,
    running_engine,
    view_latencies,
    wait_live,
    window_opportunities,
    window_views,
)

RATE_PER_VENUE = 1_000  # the seed's 1,000 messages/s per exchange
WINDOW_S = 25.0
QUICK_WINDOW_S = 8.0
LIVE_TIMEOUT_S = 90.0  # twelve ingest processes take their snapshots on two shared cores
SAMPLE_EVERY_S = 1.0
# A venue "delivered what the market made" at this share or more; a process at this share of
# a core or more is CPU-bound.
CARRIED_SHARE = 0.9
CPU_BOUND_SHARE = 0.9
INJECTED_KEYS = ("injected", "injected_detectable", "injected_detected")  # arb_cli.scoring


async def _simulator_updates(control: str) -> dict[str, int]:
    """The simulator's book updates made so far, per venue (its control API)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{control}/control/status") as response,
    ):
        status: dict[str, Any] = await response.json()
    return {venue: int(n) for venue, n in status["updates_total"].items()}


def _live_counter(engine: Engine, venues: Sequence[str]) -> Any:
    async def sample() -> dict[str, int]:
        books = (await collect(engine.redis))["books"]
        return {v: sum(b["venue"] == v and b["state"] == "LIVE" for b in books) for v in venues}

    return sample


def live_share(samples: Sequence[Mapping[str, int]], venue: str, books: int) -> float | None:
    """The share of ``venue``'s ``books`` that were LIVE, over every sample of the window."""
    if not samples or not books:
        return None
    return round(sum(s.get(venue, 0) for s in samples) / (len(samples) * books), 4)


def levels_in(fields: Sequence[Mapping[bytes, bytes]]) -> tuple[int, int]:
    """(book frames, level updates) of md entries: snapshots and deltas, each level once."""
    frames = levels = 0
    for entry in fields:
        event = MD.decode(entry[PAYLOAD_FIELD])
        if isinstance(event, BookDelta | BookSnapshot):
            frames += 1
            levels += len(event.bids) + len(event.asks)
    return frames, levels


def us_per_update(cpu_seconds: float | None, updates: int) -> float | None:
    """CPU per book update the simulator's market made, in µs (for the simulator: making and
    serving it; for the engine: everything that followed from it)."""
    if cpu_seconds is None or updates <= 0:
        return None
    return round(cpu_seconds * 1e6 / updates, 1)


def cores_at(us: float | None, per_s: float) -> float | None:
    """Cores that ``us`` µs of CPU per update take at ``per_s`` updates/s."""
    return round(us * per_s / 1e6, 2) if us is not None else None


def venue_report(
    venue: str,
    window: Window,
    symbols: int,
    asked: float,
    made: int | None,
    frames: int,
    levels: int,
    to_book: list[float],
    live: float | None,
) -> dict[str, Any]:
    """One venue's figures over the window."""
    elapsed = window.elapsed_s
    frames_per_s = frames / elapsed
    ingest_cpu = window.cpu_seconds.get(f"ingest-{venue}")
    between_ms = round(1000 * symbols / frames_per_s, 1) if frames else None
    per_frame = round(ingest_cpu * 1e6 / frames, 1) if ingest_cpu is not None and frames else None
    return {
        "frame_per_change": get_venue(venue).frame_per_change,
        "asked_updates_per_s": asked,
        "made_updates_per_s": round(made / elapsed) if made is not None else None,
        "delivered_frames_per_s": round(frames_per_s),
        "level_updates_per_s": round(levels / elapsed),
        # the interval one symbol's frames arrived at: the venue's cadence, where it coalesces
        "ms_between_frames_per_symbol": between_ms,
        "live_share": live,
        "ws_to_book": book_latency(to_book),
        "ingest_cpu_share": round(ingest_cpu / elapsed, 3) if ingest_cpu is not None else None,
        "ingest_us_per_frame": per_frame,
    }


def verdict(
    per_venue: Mapping[str, Mapping[str, Any]],
    cpu: Mapping[str, Mapping[str, float | None]],
    backlog_growing: bool,
    machine_busy_share: float | None,
    simulator_cores_needed: float | None,
    engine_cores_needed: float | None = None,
) -> dict[str, Any]:
    """Did the box carry the load, and what held it back: a process at a full core, the
    machine at every core (other work on it included), the simulator's own need."""
    short: list[str] = []  # per-change venues that delivered less than the market made
    starved: list[str] = []  # venues whose market made less than was asked
    not_live: list[str] = []
    for venue, d in per_venue.items():
        made = d["made_updates_per_s"]
        if made is None or made < CARRIED_SHARE * d["asked_updates_per_s"]:
            starved.append(venue)
        delivered = d["delivered_frames_per_s"]
        if d["frame_per_change"] and (made is None or delivered < CARRIED_SHARE * made):
            short.append(venue)
        if d["live_share"] is None or d["live_share"] < 1.0:
            not_live.append(venue)
    cpu_bound = sorted(
        name for name, c in cpu.items() if (c.get("cpu_share") or 0.0) >= CPU_BOUND_SHARE
    )
    return {
        "carried": not (short or starved or not_live or backlog_growing),
        "per_change_venues_short": short,
        "simulator_short": starved,
        "venues_not_all_live": not_live,
        "backlog_growing": backlog_growing,
        "cpu_bound": cpu_bound,
        "machine_saturated": machine_busy_share is not None
        and machine_busy_share >= CPU_BOUND_SHARE,
        # cores the one simulator process would need to make the asked rate, at the CPU per
        # update it spent here: above 1, a single load generator cannot offer it at all
        "simulator_cores_needed": simulator_cores_needed,
        # the same for every other process (services and Redis), scaled linearly: an upper
        # bound, as their CPU per message falls when batches grow
        "engine_cores_needed": engine_cores_needed,
        "processes_cpu_cores": round(sum(c.get("cpu_share") or 0.0 for c in cpu.values()), 2),
    }


async def venues_load_point(
    url: str,
    redis_pid: int | None,
    window_s: float,
    log_dir: Path,
    venues: Sequence[str] = VENUE_NAMES,
    symbols: Sequence[str] = PIPELINE_SYMBOLS,
    rate_per_venue: float = RATE_PER_VENUE,
    live_timeout_s: float = LIVE_TIMEOUT_S,
) -> dict[str, Any]:
    """The engine with ``venues`` at ``rate_per_venue`` each, measured over ``window_s``."""
    async with running_engine(url, rate_per_venue, log_dir, venues, symbols) as engine:
        live_after = await wait_live(engine, venues, symbols, live_timeout_s)
        await asyncio.sleep(SETTLE_S)
        control = engine.urls["control"]
        made_start = await _simulator_updates(control)
        window = await measure_window(engine, redis_pid, venues, window_s,
                                      _live_counter(engine, venues), SAMPLE_EVERY_S)  # fmt: skip
        made_end = await _simulator_updates(control)
        redis = engine.redis
        to_opp, stages = opportunity_latencies(await window_opportunities(redis, window))
        per_venue: dict[str, dict[str, Any]] = {}
        to_book: list[float] = []
        for venue in venues:
            entries = await entries_between(redis, md_stream(venue), window.start_ms,
                                            window.end_ms)  # fmt: skip
            frames, levels = levels_in(entries)
            venue_to_book, venue_stages = view_latencies(await window_views(redis, venue, window))
            to_book += venue_to_book
            for name, values in venue_stages.items():
                stages.setdefault(name, []).extend(values)
            made = (made_end[venue] - made_start[venue]
                    if venue in made_end and venue in made_start else None)  # fmt: skip
            live = live_share(window.samples, venue, len(symbols))
            per_venue[venue] = venue_report(venue, window, len(symbols), rate_per_venue, made,
                                            frames, levels, venue_to_book, live)  # fmt: skip
        scored = await summary(redis, (window.start_ns, window.end_ns))
        made_count = sum(made_end.get(v, 0) - made_start.get(v, 0) for v in venues)
        asked = rate_per_venue * len(venues)
        sim_us = us_per_update(window.cpu_seconds.get("simulator"), made_count)
        engine_cpu = sum(used for name, used in window.cpu_seconds.items() if name != "simulator")
        engine_us = us_per_update(engine_cpu, made_count)
        backlog = window.backlog()
        opp = latency(to_opp)
        elapsed = window.elapsed_s
        totals = [{"all": sum(sample.values())} for sample in window.samples]
        made_total = sum(d["made_updates_per_s"] or 0 for d in per_venue.values())
        return {
            "venues": list(venues),
            "symbols": list(symbols),
            "rate_per_venue": rate_per_venue,
            "asked_updates_per_s": round(asked),
            "made_updates_per_s": made_total,
            "delivered_frames_per_s": sum(d["delivered_frames_per_s"] for d in per_venue.values()),
            "md_entries_per_s": window.delivered_per_s,
            "level_updates_per_s": sum(d["level_updates_per_s"] for d in per_venue.values()),
            "window_s": round(elapsed, 2),
            "live_after_s": live_after,  # None: not every book LIVE within live_timeout_s
            "live_share": live_share(totals, "all", len(symbols) * len(venues)),
            "ws_to_book": book_latency(to_book),
            "ws_to_opportunity": opp,
            "stages": {name: latency(stages[name]) for name in STAGES},
            "injected": {k: scored[k] for k in INJECTED_KEYS},
            **backlog,
            "cpu": window.cpu,
            "simulator_us_per_update": sim_us,
            "engine_us_per_update": engine_us,
            "machine_busy_share": window.machine_busy_share,
            "cpus": os.cpu_count(),
            "restarts": engine.restarts(),
            "per_venue": per_venue,
            "verdict": verdict(
                per_venue,
                window.cpu,
                backlog["backlog_growing"],
                window.machine_busy_share,
                cores_at(sim_us, asked),
                cores_at(engine_us, asked),
            ),
        }


async def bench_venues_load(window_s: float) -> dict[str, Any]:
    log_dir = Path(tempfile.mkdtemp(prefix="arb-bench-venues-"))
    with EmbeddedRedis() as server:
        point = await venues_load_point(server.url, server.pid, window_s, log_dir)
    point["logs"] = str(log_dir)
    return point


# -- the table ----------------------------------------------------------------------------


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _n(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def feed_label(d: Mapping[str, Any]) -> str:
    """How a venue's feed turned updates into frames: its VenueSpec's word and what the run
    saw (a venue without ``frame_per_change`` may still have sent a frame per change)."""
    made, delivered = d["made_updates_per_s"], d["delivered_frames_per_s"]
    per_change = bool(made) and delivered >= CARRIED_SHARE * made
    if d["frame_per_change"]:
        return "a frame per change" + ("" if per_change else "; delivered less than made")
    if per_change:
        return "VenueSpec: coalesces; here a frame per change"
    return "coalesces: a frame per symbol per interval, however many changes"


def _bottleneck(point: Mapping[str, Any]) -> str:
    """What held the load back, in words: the simulator's need, a full core, a full machine."""
    v = point["verdict"]
    said = []
    need = v.get("simulator_cores_needed")
    if need is not None:
        said.append(f"the simulator spent {point['simulator_us_per_update']} us CPU per update "
                    f"made, so one simulator process needs {need} cores for the "
                    f"{point['asked_updates_per_s']:,} updates/s asked")  # fmt: skip
    engine = v.get("engine_cores_needed")
    if engine is not None:
        said.append(f"the engine (services and Redis) {point['engine_us_per_update']} us, "
                    f"{engine} cores at that rate scaled linearly (an upper bound: its CPU per "
                    f"message falls as batches grow)")  # fmt: skip
    if v["machine_saturated"]:
        said.append(f"the machine was saturated ({_share(point['machine_busy_share'])} of its "
                    f"{point['cpus']} cores busy, other work included)")  # fmt: skip
    return "; ".join(said) or "nothing saturated"


def venues_load_rows(point: Mapping[str, Any]) -> list[str]:
    """The table rows of the ``venues_load`` section: the whole, the verdict, CPU, the
    stages, each venue."""
    from arb_bench.report import latency_text, stages_text

    n, rate = len(point.get("venues", [])), point.get("rate_per_venue", RATE_PER_VENUE)
    head = f"venues_load: {n} venues x {rate:,} msgs/s"
    if "error" in point:
        return [f"| {head} | {point['error']} |"]
    v = point["verdict"]
    injected = point["injected"]
    cpu = ", ".join(f"{name} {c['us_per_msg']}" for name, c in point["cpu"].items())
    to_book = latency_text(point["ws_to_book"], "views")
    shares = ", ".join(f"{name} {c['cpu_share']}" for name, c in point["cpu"].items())
    rows = [
        f"| {head} offered, {point['window_s']} s | {point['asked_updates_per_s']:,} updates/s "
        f"asked, {point['made_updates_per_s']:,}/s made by the simulator; "
        f"{point['delivered_frames_per_s']:,} frames/s delivered "
        f"({point['level_updates_per_s']:,} level updates/s); books LIVE "
        f"{_share(point['live_share'])}; ws -> book view {to_book}; "
        f"ws -> opportunity {latency_text(point['ws_to_opportunity'])}, injected dislocations "
        f"detected {injected['injected_detected']} of {injected['injected_detectable']}; "
        f"backlog growing: {'yes' if point['backlog_growing'] else 'no'} |",
        f"| {head}: carried? | {'yes' if v['carried'] else 'no'}; {_bottleneck(point)}; "
        f"per-change venues short of "
        f"what the market made: {_names(v['per_change_venues_short'])}; simulator short of "
        f"the asked rate: {_names(v['simulator_short'])}; books not all LIVE: "
        f"{_names(v['venues_not_all_live'])}; CPU-bound (>= {CPU_BOUND_SHARE:.0%} of a core): "
        f"{_names(v['cpu_bound'])}; the measured processes used {v['processes_cpu_cores']} of "
        f"{point['cpus']} cores |",
        f"| {head}: CPU us per message (share of a core) | {cpu} ({shares}) |",
        f"| {head}: each stage | {stages_text(point['stages'])} |",
    ]
    for venue, d in point["per_venue"].items():
        feed = feed_label(d)
        venue_to_book = latency_text(d["ws_to_book"], "views")
        rows.append(
            f"| {head}: {venue} ({feed}) | {_n(d['made_updates_per_s'])} updates/s made, "
            f"{d['delivered_frames_per_s']:,} frames/s delivered ({d['level_updates_per_s']:,} "
            f"level updates/s, a frame per symbol every {d['ms_between_frames_per_symbol']} ms); "
            f"LIVE {_share(d['live_share'])}; ws -> book view {venue_to_book}; "
            f"ingest {d['ingest_us_per_frame']} us CPU per frame ({d['ingest_cpu_share']} of a "
            f"core) |"
        )
    return rows
