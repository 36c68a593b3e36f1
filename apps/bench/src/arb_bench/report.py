"""arb bench: every benchmark in one run on this machine, one JSON report and one table.

Sections (the JSON keys): ``replay`` per venue, ours against cryptofeed and ccxt measured in
the same run (``arb_bench.replay``); ``book_engine``; ``detector``; ``executor``;
``simulator``; ``pipeline``, one entry per aggregate rate, WS frame -> opportunity through real
processes and a real Redis, each with its ``floor`` (``arb_bench.floor``);
``pipeline_cluster``, the same on one Redis server and on a Redis Cluster at each rate
(``arb_bench.cluster``); ``venues_load``, the whole engine with every venue at once at 1,000
msgs/s each, per venue and with the verdict on whether the box carried it
(``arb_bench.venues_load``). Every number is measured in this run; there are no stored reference
figures.
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

from arb_runtime.errors import ConfigError

from arb_bench.pipeline import PIPELINE_TICK_HZ, RATES

SECTIONS = ("replay", "book_engine", "detector", "executor", "simulator", "pipeline",
            "pipeline_cluster", "venues_load")  # fmt: skip
PEER_MODES = ("auto", "off")


def fixtures_dir() -> Path | None:
    path = Path(os.environ.get("ARB_FIXTURES_DIR", Path.cwd().parent / "shared" / "fixtures"))
    return path if path.is_dir() else None


# -- sections -----------------------------------------------------------------------------


def bench_replay(fixtures: Path | None, loops: int, repeats: int, peers: str) -> dict[str, Any]:
    from arb_bench import recordings, replay
    from arb_bench.peers import env

    folder = Path(tempfile.mkdtemp(prefix="arb-bench-replay-"))
    sets, missing = recordings.fixture_sets(fixtures)
    kraken, kraken_missing = recordings.kraken_sets(folder)
    peer_env = env.ensure() if peers == "auto" else None
    if peer_env is not None and not peer_env.python:
        print(f"bench: peers unavailable, our numbers without ratios: {peer_env.reason}",
              file=sys.stderr)  # fmt: skip
    return replay.bench_replay([*sets, *kraken], missing | kraken_missing, peer_env, loops,
                               repeats, folder)  # fmt: skip


def bench_book_engine(fixtures: Path | None, seconds: float) -> dict[str, Any]:
    from arb_bench import book_engine

    return book_engine.run(fixtures, seconds)


def bench_detector(seconds: float) -> dict[str, Any]:
    from arb_bench import detector

    return dict(detector.run(seconds))


def bench_executor(seconds: float) -> dict[str, Any]:
    from arb_bench import executor

    return {"paper": executor.run(seconds), "simulator": executor.run_sim(seconds)}


def bench_simulator(seconds: float) -> dict[str, Any]:
    from arb_bench import simulator

    return simulator.run(seconds=seconds, rate=2_000.0)


def bench_pipeline(
    rates: Sequence[int], window_s: float, tick_hz: float, without_standby: bool
) -> list[dict[str, Any]]:
    from arb_bench import pipeline

    return asyncio.run(pipeline.bench_pipeline(rates, window_s, tick_hz=tick_hz,
                                               without_standby=without_standby))  # fmt: skip


def bench_pipeline_cluster(rates: Sequence[int], window_s: float) -> list[dict[str, Any]]:
    from arb_bench import cluster

    return asyncio.run(cluster.bench_cluster(rates, window_s))


def bench_venues_load(window_s: float | None, quick: bool) -> dict[str, Any]:
    from arb_bench import venues_load

    window = window_s or (venues_load.QUICK_WINDOW_S if quick else venues_load.WINDOW_S)
    return asyncio.run(venues_load.bench_venues_load(window))


# -- the report ---------------------------------------------------------------------------


def _git_commit() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)  # fmt: skip
        if out.returncode == 0:
            return out.stdout.strip()
    return "unknown"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _timed(
    name: str, section: Callable[[], Any], timings: dict[str, float], loads: dict[str, float]
) -> Any:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = section()
    timings[name] = round(time.perf_counter() - started, 1)
    loads[name] = round(os.getloadavg()[0], 2)
    return result


def collect_report(
    quick: bool,
    sections: Sequence[str] = SECTIONS,
    rates: Sequence[int] = RATES,
    window_s: float | None = None,
    repeats: int | None = None,
    peers: str = "auto",
    tick_hz: float = PIPELINE_TICK_HZ,
) -> dict[str, Any]:
    fixtures = fixtures_dir()
    timings: dict[str, float] = {}
    loads: dict[str, float] = {}
    window = window_s or (3.0 if quick else 10.0)
    rounds = repeats or (3 if quick else 5)
    loops = 3 if quick else 7
    plan: dict[str, Callable[[], Any]] = {
        "replay": lambda: bench_replay(fixtures, loops, rounds, peers),
        "book_engine": lambda: bench_book_engine(fixtures, 0.3 if quick else 2.0),
        "detector": lambda: bench_detector(0.5 if quick else 3.0),
        "executor": lambda: bench_executor(0.5 if quick else 2.0),
        "simulator": lambda: bench_simulator(1.5 if quick else 5.0),
        "pipeline": lambda: bench_pipeline(rates, window, tick_hz, not quick),
        "pipeline_cluster": lambda: bench_pipeline_cluster(rates, window),
        "venues_load": lambda: bench_venues_load(window_s, quick),
    }
    report: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "quick": quick,
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "replay_loops": loops,
            "replay_rounds": rounds,
            # other work on the machine during the run: 1-minute load averages (2 = both cores)
            "load_average_start": round(os.getloadavg()[0], 2),
        }
    }
    for name in sections:
        report[name] = _timed(name, plan[name], timings, loads)
    report["meta"]["section_seconds"] = timings
    report["meta"]["load_average_after_section"] = loads
    return report


# -- the table ----------------------------------------------------------------------------


def _x(spread: dict[str, float] | None) -> str:
    if not spread:
        return "n/a"
    return f"{spread['median']}x ({spread['min']}-{spread['max']})"


def _replay_rows(replay: dict[str, Any]) -> list[str]:
    rows = []
    for name, r in replay.items():
        if not isinstance(r, dict) or "venue" not in r:
            continue
        if "error" in r:
            rows.append(f"| replay {name} | error: {r['error']} |")
            continue
        peers = []
        for peer, p in r.get("peers", {}).items():
            if "ratio" in p:
                same = "" if p["same_final_books"] else ", final books differ"
                peers.append(f"{peer} {p['frames_per_s']:,} frames/s: {_x(p['ratio'])}{same}")
            else:
                peers.append(f"{peer}: {p.get('unsupported') or p.get('error')}")
        versus = (f"; vs best peer {_x(r['vs_best_peer'])}, CPU time "
                  f"{_x(r.get('vs_best_peer_cpu'))}" if r.get("vs_best_peer")
                  else "; no peer measured")  # fmt: skip
        detail = f" ({'; '.join(peers)})" if peers else ""
        rows.append(f"| replay {name} | {r['frames_per_s']:,} frames/s, "
                    f"{r['level_updates_per_s']:,} level updates/s{versus}{detail} |")  # fmt: skip
    for name, why in replay.get("not_measured", {}).items():
        rows.append(f"| replay {name} | not measured: {why} |")
    env = replay.get("peers_environment", {})
    if "unavailable" in env:
        rows.append(f"| replay peers | not measured: {env['unavailable']} |")
    return rows


def latency_text(d: dict[str, Any], n_key: str = "n") -> str:
    return f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms (n={d[n_key]})"


def stages_text(stages: dict[str, Any]) -> str:
    """Each stage of ws -> opportunity with its p50 and p99, in order."""
    return "; ".join(f"{name} {latency_text(stage)}" for name, stage in stages.items())


def _cpu(cpu: dict[str, Any]) -> str:
    return ", ".join(f"{name} {c['us_per_msg']}" for name, c in cpu.items())


def _pipeline_rows(points: list[dict[str, Any]]) -> list[str]:
    rows = []
    for p in points:
        if "error" in p:
            rows.append(f"| pipeline {p['rate']:,} msgs/s | {p['error']} |")
            continue
        ticks = f"market clock {p['tick_hz']:g} ticks/s, floor the same; " if "tick_hz" in p else ""
        rows.append(f"| pipeline {p['rate']:,} msgs/s offered: ws -> opportunity | {ticks}"
                    f"{p['delivered_per_s']:,} delivered/s; p50 {p['p50_ms']} ms, p99 "
                    f"{p['p99_ms']} ms, p99.9 {p['p999_ms']} ms (n={p['opportunities']}); "
                    f"backlog growing: {'yes' if p['backlog_growing'] else 'no'} |")  # fmt: skip
        book = p["ws_to_book"]
        rows.append(f"| pipeline {p['rate']:,} msgs/s: ws -> book view | p50 {book['p50_ms']} "
                    f"ms, p99 {book['p99_ms']} ms, p99.9 {book['p999_ms']} ms "
                    f"(n={book['views']}); CPU us per message: {_cpu(p['cpu'])} |")  # fmt: skip
        if p.get("stages"):
            rows.append(
                f"| pipeline {p['rate']:,} msgs/s: each stage | {stages_text(p['stages'])} |"
            )
        every = p.get("hop2_every_view")
        if every:
            rows.append(f"| pipeline {p['rate']:,} msgs/s: hop 2, every view | the detector's "
                        f"view-lag histogram: p50 <= {every['p50_at_most_ms']} ms, p99 <= "
                        f"{every['p99_at_most_ms']} ms (n={every['n']}; bucket bounds "
                        f"{', '.join(f'{b:g}' for b in every['buckets_ms'])} ms) |")  # fmt: skip
        rows += _without_standby_rows(p)
        bare = p.get("floor")
        if not bare:
            continue
        if "error" in bare:
            rows.append(f"| floor {p['rate']:,} msgs/s | {bare['error']} |")
            continue
        vs = p.get("vs_floor", {})
        rows.append(f"| floor {p['rate']:,} msgs/s: bare frame, 2 hops | "
                    f"{bare['delivered_per_s']:,} delivered/s; {latency_text(bare['ws_to_hop2'])}; "
                    f"pipeline ws -> opportunity / floor: p50 {vs.get('ws_to_opportunity_p50')}x, "
                    f"p99 {vs.get('ws_to_opportunity_p99')}x |")  # fmt: skip
        rows.append(f"| floor {p['rate']:,} msgs/s: bare frame, 1 hop | "
                    f"{latency_text(bare['ws_to_hop1'])}; pipeline ws -> book view / floor: p50 "
                    f"{vs.get('ws_to_book_p50')}x, p99 {vs.get('ws_to_book_p99')}x; CPU us per "
                    f"message: {_cpu(bare['cpu'])} |")  # fmt: skip
    return rows


def _without_standby_rows(p: dict[str, Any]) -> list[str]:
    """The same rate with ingest's hot standby off, beside the default's point."""
    alone = p.get("without_standby")
    if not alone:
        return []
    what = f"| pipeline {p['rate']:,} msgs/s, ingest without its hot standby"
    if "error" in alone:
        return [f"{what} | {alone['error']} |"]
    book = alone["ws_to_book"]
    return [f"{what} (ARB_INGEST_STANDBY=off) | {alone['delivered_per_s']:,} delivered/s; "
            f"ws -> opportunity p50 {alone['p50_ms']} ms, p99 {alone['p99_ms']} ms "
            f"(n={alone['opportunities']}); ws -> book view p50 {book['p50_ms']} ms, p99 "
            f"{book['p99_ms']} ms; backlog growing: "
            f"{'yes' if alone['backlog_growing'] else 'no'}; CPU us per message: "
            f"{_cpu(alone['cpu'])} |"]  # fmt: skip


def table(report: dict[str, Any]) -> str:
    """The README's benchmark table, from a report."""
    rows = ["| what | measured |", "|---|---|"]
    meta = report.get("meta")
    if meta:
        loads = ", ".join(f"{k} {v}" for k, v in meta.get("load_average_after_section", {}).items())
        start = meta["load_average_start"]
        rows.append(f"| machine | {meta['cpus']} cores {meta['cpu_model']}, Python "
                    f"{meta['python']}, commit {meta['commit']}; load average {start} at "
                    f"start, after each section: {loads} |")  # fmt: skip
    rows += _replay_rows(report.get("replay", {}))
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
        if "rest_connection_reuse_rate" in e:
            rows.append(f"| executor {mode}: REST connection reuse | "
                        f"{e['rest_connection_reuse_rate']:.1%} of "
                        f"{e['rest_connections_created'] + e['rest_connections_reused']} "
                        f"requests on a kept-alive connection (target > 95 %) |")  # fmt: skip
    sim = report.get("simulator")
    if sim:
        rates = sim["delivered_per_second"]
        rows.append(f"| simulator, {len(rates)} venues at once | {min(rates.values()):,}-"
                    f"{max(rates.values()):,} frames/s per venue to real WS clients, "
                    f"{sim['sim_cpu_us_per_message']} us CPU/msg (>= 2,000 each: "
                    f"{'yes' if sim['meets_2000_per_venue'] else 'no'}) |")  # fmt: skip
    rows += _pipeline_rows(report.get("pipeline", []))
    if report.get("pipeline_cluster"):
        from arb_bench.cluster import cluster_rows

        rows += cluster_rows(report["pipeline_cluster"])
    if report.get("venues_load"):
        from arb_bench.venues_load import venues_load_rows

        rows += venues_load_rows(report["venues_load"])
    return "\n".join(rows)


# -- the command --------------------------------------------------------------------------


def parse_sections(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise ConfigError(f"--sections {text!r}: unknown {unknown}; choose from "
                          f"{', '.join(SECTIONS)}")  # fmt: skip
    return names


def parse_rates(text: str) -> list[int]:
    try:
        rates = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or min(rates) <= 0:
        raise ConfigError(f"--rates {text!r}: give positive messages/s, e.g. 1000,10000,20000")
    return rates


def run(args: argparse.Namespace) -> int:
    repeats = getattr(args, "repeats", None)
    if repeats is not None and repeats < 1:
        raise ConfigError(f"--repeats {repeats}: 1 or more rounds")
    peers = getattr(args, "peers", "auto")
    if peers not in PEER_MODES:
        raise ConfigError(f"--peers {peers!r}: choose {' or '.join(PEER_MODES)}")
    tick_hz = getattr(args, "tick_hz", None) or PIPELINE_TICK_HZ
    if not 0 < tick_hz <= 1000:
        raise ConfigError(f"--tick-hz {tick_hz}: the simulator ticks 1 to 1000 times a second")
    sections = parse_sections(args.sections) if args.sections else list(SECTIONS)
    report = collect_report(args.quick, sections, parse_rates(args.rates),
                            args.window, repeats, peers, tick_hz)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0
