"""arb bench: every benchmark in one run on this machine, one JSON report and a table.

Sections (the JSON keys): ``replay`` per venue on the shared recordings; ``book_engine``;
``detector``; ``pipeline``, one entry per aggregate rate, WS frame -> opportunity through real
processes and a real Redis; ``executor``; ``simulator``. Every number is measured in this run;
reference numbers of other projects are labelled as such.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.errors import ConfigError
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

from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.replay import load_frames, replay
from arb_cli.run import all_live
from arb_cli.scoring import percentile
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor

RATES = (1_000, 10_000, 20_000)
# Venues whose WS pushes every book change as its own frame (VenueSpec.frame_per_change), so
# the offered rate is the frame rate. The others coalesce changes at their documented cadence,
# so load cannot raise their frame rate; they are measured in ``replay`` and ``simulator``.
# Two of them: the pipeline measures the engine, not how many venues share two cores.
PIPELINE_VENUES = tuple(spec.name for spec in venue_specs() if spec.frame_per_change)[:2]
PIPELINE_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")

# Each venue's recording (VenueSpec.recording: files relative to the fixtures folder) and
# what cryptofeed/ccxt did on it, frames/s on this machine, as measured for issue #4 (not
# re-measured here).
REPLAY_SETS: dict[str, tuple[tuple[str, ...], int]] = {
    spec.name: (spec.recording.files, spec.recording.reference_frames_per_s)
    for spec in venue_specs()
    if spec.recording is not None and spec.recording.reference_frames_per_s
}


def fixtures_dir() -> Path | None:
    path = Path(os.environ.get("ARB_FIXTURES_DIR", Path.cwd().parent / "shared" / "fixtures"))
    return path if path.is_dir() else None


# -- in-process sections ------------------------------------------------------------------


def bench_replay(fixtures: Path | None, loops: int) -> dict[str, Any]:
    if fixtures is None:
        return {"skipped": "recorded data not found: set ARB_FIXTURES_DIR"}
    out: dict[str, Any] = {}
    for venue, (files, reference) in REPLAY_SETS.items():
        frames = load_frames([fixtures / f for f in files])
        passes = [replay(venue, frames) for _ in range(loops)]
        seconds = sorted(p["seconds"] for p in passes)[len(passes) // 2] or 1e-9
        last = passes[-1]
        out[venue] = {
            "frames": last["frames"],
            "level_updates": last["level_updates"],
            "frames_per_s": round(last["frames"] / seconds),
            "level_updates_per_s": round(last["level_updates"] / seconds),
            "checksums_verified": last["checksums_verified"],
            "checksum_failures": last["checksum_failures"],
            "gaps": last["gaps"],
            "crossed": last["crossed"],
            "reference_frames_per_s": reference,
            "vs_reference": round(last["frames"] / seconds / reference, 2),
        }
    out["note"] = ("median of the passes; reference_frames_per_s: cryptofeed/ccxt on the same "
                   "files on this machine, measured for issue #4, not in this run")  # fmt: skip
    return out


def bench_book_engine(fixtures: Path | None, seconds: float) -> dict[str, Any]:
    from arb_cli import book_bench

    result: dict[str, Any] = book_bench.run(fixtures, seconds)
    return result


def bench_detector(seconds: float) -> dict[str, Any]:
    from arb_detector import bench

    return dict(bench.run(seconds))


def bench_executor(seconds: float) -> dict[str, Any]:
    from arb_executor import bench

    return {"paper": bench.run(seconds), "simulator": bench.run_sim(seconds)}


def bench_simulator(seconds: float) -> dict[str, Any]:
    from arb_simulator import bench

    return bench.run(seconds=seconds, rate=2_000.0)


# -- the pipeline through real processes --------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a live process (Linux /proc), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


async def _lag_ms(redis: Any, venue: str) -> int | None:
    """How far the book service's checkpoint trails the newest md entry, in stream time."""
    checkpoint = await redis.get(book_checkpoint_key(venue))
    if not checkpoint or not await redis.exists(md_stream(venue)):
        return None
    info = await redis.xinfo_stream(md_stream(venue))
    return max(0, _ms(info["last-generated-id"]) - _ms(checkpoint))


async def _range(redis: Any, stream: str, start_ms: int, end_ms: int) -> list[bytes]:
    """Payloads of the entries added between two wall-clock times, read in chunks."""
    out: list[bytes] = []
    low: str = f"{start_ms}-0"
    while True:
        chunk = await redis.xrange(stream, min=low, max=f"{end_ms}-18446744073709551615",
                                   count=10_000)  # fmt: skip
        out += [fields[PAYLOAD_FIELD] for _, fields in chunk]
        if len(chunk) < 10_000:
            return out
        last = chunk[-1][0].decode()
        ms, seq = last.split("-")
        low = f"{ms}-{int(seq) + 1}"


def _growing(samples: list[int | None]) -> bool:
    """A backlog grows when the lag at the end of the window is well above the lag at its
    start and above what one batch can explain."""
    known = [s for s in samples if s is not None]
    if len(known) < 4:
        return True  # the book service never checkpointed: it is not keeping up at all
    third = max(1, len(known) // 3)
    head = sum(known[:third]) / third
    tail = sum(known[-third:]) / third
    return tail > 250 and tail > head + 100


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
        sim_proc, urls = start_simulator(
            venues, symbols, rate / len(venues), url, log_dir,
            extra=["--inject-interval", "0.2"],
        )  # fmt: skip
        start_services(supervisor, venues, symbols, url, urls)
        deadline = time.monotonic() + 30
        while not all_live(await collect(redis), list(venues), list(symbols)):
            if time.monotonic() > deadline:
                died = [c.name for c in supervisor.children if not c.alive]
                return {"rate": rate, "error": f"books not LIVE within 30 s; dead: {died}"}
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # past the snapshot burst
        pids = {c.name: c.proc.pid for c in supervisor.children if c.proc is not None}
        pids["simulator"] = sim_proc.pid
        if redis_pid:
            pids["redis"] = redis_pid
        cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
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
        cpu = {}
        for name, pid in pids.items():
            now, before = cpu_seconds(pid), cpu_start.get(name)
            if now is not None and before is not None:
                used = now - before
                per_msg = round(used * 1e6 / added, 1) if added else None
                cpu[name] = {"cpu_share": round(used / elapsed, 3), "us_per_msg": per_msg}
        start_ms, end_ms = start_ns // 1_000_000, end_ns // 1_000_000
        opportunities = [OPPORTUNITY.decode(p) for p in
                         await _range(redis, OPPORTUNITIES_STREAM, start_ms, end_ms)]  # fmt: skip
        to_opp = [(o.ts_detect - o.ts_recv) / 1e6 for o in opportunities if o.ts_recv]
        to_book: list[float] = []
        for venue in venues:
            for payload in await _range(redis, book_stream(venue), start_ms, end_ms):
                view = BOOK.decode(payload)
                if view.ts_recv:
                    to_book.append((view.ts_book - view.ts_recv) / 1e6)
        restarts = sum(c.restarts for c in supervisor.children) + len(supervisor.check())
        return {
            "rate": rate,
            "venues": list(venues),
            "window_s": round(elapsed, 2),
            "delivered_per_s": round(added / elapsed),
            "opportunities": len(to_opp),
            "p50_ms": percentile(to_opp, 0.5),
            "p99_ms": percentile(to_opp, 0.99),
            "p999_ms": percentile(to_opp, 0.999),
            "ws_to_book": {
                "views": len(to_book),
                "p50_ms": percentile(to_book, 0.5),
                "p99_ms": percentile(to_book, 0.99),
                "p999_ms": percentile(to_book, 0.999),
            },
            "book_lag_ms": {  # the last sample of each venue
                v: next((s for s in reversed(lags[v]) if s is not None), None) for v in venues
            },
            "backlog_growing": any(_growing(lags[v]) for v in venues),
            "backlog_scope": "book service checkpoint lag per md stream; the detector keeps "
            "no position, its lag shows in the ws -> opportunity latency",
            "cpu": cpu,
            "restarts": restarts,
        }
    finally:
        supervisor.stop_all()
        stop_simulator(sim_proc)
        await redis.aclose()


async def bench_pipeline(rates: Sequence[int], window_s: float) -> list[dict[str, Any]]:
    log_dir = Path(tempfile.mkdtemp(prefix="arb-bench-"))
    with EmbeddedRedis() as server:
        return [await pipeline_point(server.url, server.pid, r, window_s, log_dir)
                for r in rates]  # fmt: skip


# -- the report ---------------------------------------------------------------------------


def _git_commit() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)  # fmt: skip
        if out.returncode == 0:
            return out.stdout.strip()
    return "unknown"


def _timed(name: str, section: Callable[[], Any], timings: dict[str, float]) -> Any:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = section()
    timings[name] = round(time.perf_counter() - started, 1)
    return result


SECTIONS = ("replay", "book_engine", "detector", "executor", "simulator", "pipeline")


def collect_report(
    quick: bool,
    sections: Sequence[str] = SECTIONS,
    rates: Sequence[int] = RATES,
    window_s: float | None = None,
) -> dict[str, Any]:
    fixtures = fixtures_dir()
    timings: dict[str, float] = {}
    window = window_s or (3.0 if quick else 10.0)
    plan: dict[str, Callable[[], Any]] = {
        "replay": lambda: bench_replay(fixtures, 3 if quick else 7),
        "book_engine": lambda: bench_book_engine(fixtures, 0.3 if quick else 2.0),
        "detector": lambda: bench_detector(0.5 if quick else 3.0),
        "executor": lambda: bench_executor(0.5 if quick else 2.0),
        "simulator": lambda: bench_simulator(1.5 if quick else 5.0),
        "pipeline": lambda: asyncio.run(bench_pipeline(rates, window)),
    }
    report: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "quick": quick,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    }
    for name in sections:
        report[name] = _timed(name, plan[name], timings)
    report["meta"]["section_seconds"] = timings
    return report


def table(report: dict[str, Any]) -> str:
    """The README's benchmark table, from a report."""
    rows = ["| what | measured |", "|---|---|"]
    for venue, r in report.get("replay", {}).items():
        if isinstance(r, dict):
            rows.append(f"| replay {venue} | {r['frames_per_s']:,} frames/s, "
                        f"{r['level_updates_per_s']:,} level updates/s "
                        f"({r['vs_reference']}x cryptofeed/ccxt) |")  # fmt: skip
    engine = report.get("book_engine")
    if engine:
        rows.append(f"| book engine ({engine['mode']}, all venues, best bid/ask read per "
                    f"message) | {engine['level_updates_per_second']:,} level updates/s, "
                    f"{engine['microseconds_per_message']} us/msg |")  # fmt: skip
    for venue, d in (engine or {}).get("datasets", {}).items():
        rows.append(f"| book engine {venue} | {d['level_updates_per_second']:,} level updates/s, "
                    f"{d['microseconds_per_message']} us/msg |")  # fmt: skip
    det = report.get("detector")
    if det:
        rows.append(f"| detector per book update | p50 {det['p50_us']} us, "
                    f"p99 {det['p99_us']} us |")  # fmt: skip
    for mode, e in report.get("executor", {}).items():
        rows.append(f"| executor {mode}: opportunity -> orders sent | p50 {e['p50_us']} us, "
                    f"p99 {e['p99_us']} us |")  # fmt: skip
    sim = report.get("simulator")
    if sim:
        rates = sim["delivered_per_second"]
        rows.append(f"| simulator, 5 venues at once | {min(rates.values()):,}-"
                    f"{max(rates.values()):,} msgs/s per venue to real WS clients, "
                    f"{sim['sim_cpu_us_per_message']} us CPU/msg (>= 2,000 each: "
                    f"{'yes' if sim['meets_2000_per_venue'] else 'no'}) |")  # fmt: skip
    for p in report.get("pipeline", []):
        if "error" in p:
            rows.append(f"| pipeline {p['rate']:,} msgs/s | {p['error']} |")
            continue
        rows.append(f"| pipeline {p['rate']:,} msgs/s offered: ws -> opportunity | "
                    f"{p['delivered_per_s']:,} delivered/s; p50 {p['p50_ms']} ms, p99 "
                    f"{p['p99_ms']} ms, p99.9 {p['p999_ms']} ms (n={p['opportunities']}); "
                    f"backlog growing: {'yes' if p['backlog_growing'] else 'no'} |")  # fmt: skip
        book = p["ws_to_book"]
        cpu = ", ".join(f"{name} {c['us_per_msg']}" for name, c in p["cpu"].items())
        rows.append(f"| pipeline {p['rate']:,} msgs/s: ws -> book view | p50 {book['p50_ms']} "
                    f"ms, p99 {book['p99_ms']} ms, p99.9 {book['p999_ms']} ms "
                    f"(n={book['views']}); CPU us per message: {cpu} |")  # fmt: skip
    return "\n".join(rows)


def _sections(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise ConfigError(f"--sections {text!r}: unknown {unknown}; choose from "
                          f"{', '.join(SECTIONS)}")  # fmt: skip
    return names


def _rates(text: str) -> list[int]:
    try:
        rates = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or min(rates) <= 0:
        raise ConfigError(f"--rates {text!r}: give positive messages/s, e.g. 1000,10000,20000")
    return rates


def run(args: argparse.Namespace) -> int:
    report = collect_report(args.quick, _sections(args.sections), _rates(args.rates),
                            args.window)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0
