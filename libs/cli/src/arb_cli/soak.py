"""arb soak: the whole engine on the simulator for a long time, with time-compressed connection
lifetimes, watched for anything that grows without bound.

It starts what ``arb run`` starts, with ``arb run``'s parts (``run.py``'s embedded Redis and
supervisor, ``engine.py``'s simulator and services; the executor in paper mode), and gives the
simulator and every ingest process one ``lifetime_scale`` = 1 / ``--time-scale``: a venue's
documented 24 h lifetime lasts 24 h / time-scale of wall time (the default 1440: one minute),
the simulator closes connections at it and ingest replaces them before it, make-before-break.
The simulator also runs a maintenance window per venue once per simulated day (its reconnect
notice where the venue has one, ``--maintenance-notice`` seconds ahead). The executor's
in-memory windows (its journal lookback, the paper orders it remembers) are shortened the same
way (``EXECUTOR_WINDOWS``), so they fill within the warm-up.

Every ``--interval`` seconds it samples: RSS and open file descriptors of every process (the
services, the simulator, redis-server: /proc), Redis's used memory, the keys outside the
streams (counted, and their ``MEMORY USAGE`` summed), each stream's length, each book's LIVE
share (the book service's uptime), rotations, failovers, reconnects and gaps. At the end it fits a
least-squares line to each resource series over the samples after the first quarter (start-up
allocates), and calls a series growing when the line rises more than its tolerance over the
run (``TOLERANCE``: a share of the series' mean and an absolute floor, so a few KB of
allocator noise is not growth and a leak of a MB a minute is).

A stream the engine caps (``stream_maxlen``) is bounded by construction: it fills up to its
MAXLEN and stays there, so it is judged against its cap (growing = longer than the cap and a
node of slack), not by its slope from an empty start. Redis's used memory (and the
redis-server RSS) rises with the streams while they fill, so it is judged over the samples
after every capped stream is full (not judged before), the memory outside the streams over the
whole run, and the report gives the bound the streams fill up to (``redis_memory_at_caps``:
the memory outside them plus each stream's bytes per entry times its cap).
One JSON object with ``--json``; exit 1 when a book's LIVE share is under
``--min-live-share`` or a series grows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from arb_runtime.errors import ConfigError
from arb_runtime.redis import connect
from arb_structs.constants import stream_maxlen
from arb_venues import VENUE_NAMES

from arb_cli import metrics_ports
from arb_cli.common import print_json
from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.run import OTHERS_STOP_S, Signals, all_live, logs_folder, start_redis, stop_children
from arb_cli.status import collect
from arb_cli.supervisor import Supervisor

DAY_S = 86_400.0
LIVE_WITHIN_S = 120.0
WARM_UP_SHARE = 0.25  # samples before this share of the run are not fitted
# kind -> (share of the mean, absolute floor): growth beyond both over the run is unbounded.
TOLERANCE = {
    "rss_bytes": (0.10, 4 * 2**20),
    "open_fds": (0.10, 3),
    "redis_used_memory_bytes": (0.10, 4 * 2**20),
    "stream_length": (0.10, 200),
    "keys": (0.10, 200),
}
# The executor's in-memory windows, shortened for a soak as the lifetimes are: it keeps every
# result and order id of the journal lookback (ARB_EXECUTOR_RECONCILE_LOOKBACK_S, 1 h by
# default: republished if Redis comes back empty) and each venue's last paper orders
# (ARB_EXECUTOR_PAPER_ORDERS_KEPT, 10,000). At a soak's hundreds of results a minute those fill
# for one and two hours; at these values they are full within the warm-up, so a growth after
# it is not theirs. Both are bounded by construction either way.
EXECUTOR_WINDOWS = {
    "ARB_EXECUTOR_RECONCILE_LOOKBACK_S": "60",
    "ARB_EXECUTOR_PAPER_ORDERS_KEPT": "100",
    # Redis, not the executor's memory: one key per opportunity seen, expiring after this (24 h
    # by default, ARB_EXECUTOR_SEEN_TTL_MS), so a redelivered opportunity never trades twice
    "ARB_EXECUTOR_SEEN_TTL_MS": "60000",
    # and a resolved saga's record, kept a week by default (ARB_EXECUTOR_SAGA_KEEP_MS)
    "ARB_EXECUTOR_SAGA_KEEP_MS": "60000",
}
# MEMORY USAGE of the keys outside the streams is summed this many at a time.
KEYS_PER_ROUND = 500
# Approximate trimming drops whole stream nodes (stream-node-max-entries, 100 by default):
# a capped stream may sit this far above its MAXLEN and still be bounded.
STREAM_SLACK = 100


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def process_sample(pid: int) -> dict[str, int] | None:
    """RSS (bytes) and open file descriptors of ``pid`` from /proc; None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rss = next((int(line.split()[1]) * 1024 for line in status.splitlines()
                if line.startswith("VmRSS:")), 0)  # fmt: skip
    return {"rss_bytes": rss, "open_fds": fds}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, value) points; 0 for fewer than two distinct times."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var


def growth(series: dict[str, list[tuple[float, float]]], kind_of: dict[str, str],
           caps: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per series: the fitted rise over the fitted span, and whether it passes its tolerance;
    a series with a cap (a capped stream's length): whether it ever went past the cap."""
    out: dict[str, dict[str, Any]] = {}
    for name, points in series.items():
        cap = (caps or {}).get(name)
        if cap is not None and points:
            longest = max(v for _, v in points)
            out[name] = {
                "cap": cap,
                "max": longest,
                "last": points[-1][1],
                "full": points[-1][1] >= cap,
                "grows": longest > cap + STREAM_SLACK,
            }
            continue  # fmt: skip
        if len(points) < 3:
            continue
        start = points[0][0] + (points[-1][0] - points[0][0]) * WARM_UP_SHARE
        fitted = [p for p in points if p[0] >= start]
        if len(fitted) < 3:
            fitted = points
        span = fitted[-1][0] - fitted[0][0]
        per_s = slope(fitted)
        mean = sum(v for _, v in fitted) / len(fitted)
        share, floor = TOLERANCE[kind_of[name]]
        rise = per_s * span
        out[name] = {
            "slope_per_min": round(per_s * 60, 3),
            "rise": round(rise, 1),
            "mean": round(mean, 1),
            "grows": rise > max(share * abs(mean), floor),
        }
    return out


class _Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.venues, self.symbols = _split(args.venues), _split(args.symbols)
        self.samples: list[dict[str, Any]] = []
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.kind_of: dict[str, str] = {}
        self.caps: dict[str, int] = {}
        self.started = time.monotonic()

    def _add(self, name: str, kind: str, t: float, value: float) -> None:
        self.series.setdefault(name, []).append((t, value))
        self.kind_of[name] = kind

    async def sample(self, redis: Any, pids: dict[str, int]) -> dict[str, Any]:
        t = round(time.monotonic() - self.started, 1)
        processes = {}
        for name, pid in pids.items():
            got = process_sample(pid)
            if got is None:
                continue
            processes[name] = got
            self._add(f"{name}.rss_bytes", "rss_bytes", t, got["rss_bytes"])
            self._add(f"{name}.open_fds", "open_fds", t, got["open_fds"])
        info = await redis.info("memory")
        memory = int(info.get("used_memory", 0))
        self._add("redis.used_memory_bytes", "redis_used_memory_bytes", t, memory)
        status = await collect(redis)
        at_caps = 0
        for stream, length in status["streams"].items():
            self._add(f"stream {stream}", "stream_length", t, length)
            cap = stream_maxlen(stream)
            used = int(await redis.memory_usage(stream) or 0)
            if cap is not None:
                self.caps[f"stream {stream}"] = cap
                at_caps += used * max(1.0, cap / length) if length else used
            else:
                at_caps += used
        # Redis's estimate of a stream (MEMORY USAGE) runs a few % above its share of
        # used_memory, so "used_memory minus the streams" says nothing: the keys outside the
        # streams are counted and their memory summed instead.
        keys, outside = await _outside_streams(redis, set(status["streams"]))
        self._add("redis.keys_outside_streams", "keys", t, keys)
        self._add("redis.memory_outside_streams_bytes", "redis_used_memory_bytes", t, outside)
        uptime = status["uptime"]["venues"]
        sample = {
            "t_s": t, "processes": processes, "redis_used_memory_bytes": memory,
            # What Redis would hold with every capped stream full at today's bytes per entry:
            # the bound its memory rises to while the streams fill.
            "redis_memory_at_caps_bytes": int(outside + at_caps),
            "streams": status["streams"],
            "live_share": {f"{v}/{s}": b["live_share"] for v, e in uptime.items()
                           for s, b in e.get("books", {}).items()},
            "gaps": sum(b["gaps"] for e in uptime.values() for b in e.get("books", {}).values()),
            "connections": {v: e.get("connections", {}) for v, e in uptime.items()},
        }  # fmt: skip
        self.samples.append(sample)
        return sample


async def _outside_streams(redis: Any, streams: set[str]) -> tuple[int, int]:
    """How many keys Redis holds beside ``streams``, and their MEMORY USAGE summed."""
    count = used = 0
    batch: list[Any] = []

    async def measure() -> int:
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key)
        sizes = await pipe.execute()
        batch.clear()
        return sum(int(size or 0) for size in sizes)  # a key gone since the scan: None

    async for key in redis.scan_iter(count=KEYS_PER_ROUND):
        name = key.decode() if isinstance(key, bytes) else key
        if name in streams:
            continue
        count += 1
        batch.append(key)
        if len(batch) >= KEYS_PER_ROUND:
            used += await measure()
    if batch:
        used += await measure()
    return count, used


def _pids(supervisor: Supervisor, sim_proc: Any, server: Any) -> dict[str, int]:
    pids = {c.name: c.proc.pid for c in supervisor.children if c.alive and c.proc is not None}
    if sim_proc is not None and sim_proc.poll() is None:
        pids["simulator"] = sim_proc.pid
    if server is not None and server.pid is not None:
        pids["redis-server"] = server.pid
    return pids


def _report(soak: _Soak, last: dict[str, Any]) -> dict[str, Any]:
    args = soak.args
    series = dict(soak.series)
    full_since = _streams_full_since(soak)
    for name in ("redis.used_memory_bytes", "redis-server.rss_bytes"):
        memory = series.pop(name, [])
        if full_since is not None:  # while streams fill, Redis memory rises with them: bounded
            series[name] = [p for p in memory if p[0] >= full_since]
    grown = growth(series, soak.kind_of, soak.caps)
    growing = sorted(name for name, g in grown.items() if g["grows"])
    shares = last.get("live_share", {})
    low = sorted(k for k, v in shares.items() if v < args.min_live_share)
    missing = [f"{v}/{s}" for v in soak.venues for s in soak.symbols if f"{v}/{s}" not in shares]
    connections = last.get("connections", {})
    total = {key: sum(int(c.get(key, 0)) for c in connections.values())
             for key in ("connects", "reconnects", "rotations", "rotations_failed",
                         "reconnect_notices", "failovers")}  # fmt: skip
    return {
        "duration_s": args.duration, "time_scale": args.time_scale,
        "simulated_hours": round(args.duration * args.time_scale / 3600, 2),
        "venues": soak.venues, "symbols": soak.symbols, "samples": len(soak.samples),
        "live_share": shares, "live_share_min": min(shares.values(), default=0.0),
        "live_share_median": statistics.median(shares.values()) if shares else 0.0,
        "gaps": last.get("gaps", 0), **total, "connections": connections,
        "last": {k: last.get(k) for k in ("processes", "redis_used_memory_bytes",
                                          "redis_memory_at_caps_bytes", "streams")},
        "growth": grown, "growing": growing, "below_live_share": low + missing,
        "redis_memory_judged_from_s": full_since, "executor_windows": EXECUTOR_WINDOWS,
        "ok": not growing and not low and not missing,
    }  # fmt: skip


def _streams_full_since(soak: _Soak) -> float | None:
    """The first sample time from which every capped stream stayed at its cap; None when
    some capped stream never filled (or there are none)."""
    since = 0.0
    for name, cap in soak.caps.items():
        points = soak.series.get(name, [])
        short = [t for t, v in points if v < cap]
        if not points or (short and short[-1] == points[-1][0]):
            return None
        if short:
            since = max(since, next(t for t, _ in points if t > short[-1]))
    return since if soak.caps else None


async def _run(args: argparse.Namespace) -> int:
    soak = _Soak(args)
    unknown = [v for v in soak.venues if v not in VENUE_NAMES]
    if unknown:
        raise ConfigError(
            f"--venues: unknown {', '.join(unknown)}; known: {', '.join(VENUE_NAMES)}"
        )
    if not soak.venues or not soak.symbols:
        raise ConfigError("--venues and --symbols: give at least one each")
    if args.duration <= 0 or args.interval <= 0 or args.time_scale <= 0:
        raise ConfigError("--duration, --interval and --time-scale must be > 0")
    if os.environ.get("ARB_REDIS_URL"):
        raise ConfigError("ARB_REDIS_URL is set: arb soak measures its own embedded Redis; "
                          "unset ARB_REDIS_URL")  # fmt: skip
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="arb-soak-"))
    run_dir = logs_folder(data_dir)
    server, url = start_redis(data_dir, fresh=True)
    scale = 1.0 / args.time_scale
    hours = args.duration * args.time_scale / 3600
    print(f"arb soak: {args.duration:.0f}s, x{args.time_scale:g} ({hours:.1f} "
          f"simulated hours); logs in {run_dir}", file=sys.stderr, flush=True)  # fmt: skip
    metrics_base = metrics_ports.base_port()  # one /metrics port per process, as arb run
    supervisor = Supervisor(run_dir, metrics_base=metrics_base)
    signals = Signals()
    sim_proc = None
    result: dict[str, Any] = {}
    try:
        sim_proc, urls = start_simulator(
            soak.venues, soak.symbols, args.rate, url, run_dir,
            extra=["--lifetime-scale", repr(scale), "--maintenance-every",
                   repr(DAY_S * scale), "--maintenance-notice", repr(args.maintenance_notice),
                   "--inject-interval", "2"],
            metrics_base=metrics_base,
        )  # fmt: skip
        start_services(supervisor, soak.venues, soak.symbols, url, urls,
                       ingest_env={"ARB_INGEST_LIFETIME_SCALE": repr(scale)},
                       executor_env=EXECUTOR_WINDOWS)  # fmt: skip
        redis = await connect(url)
        try:
            deadline = time.monotonic() + LIVE_WITHIN_S
            while not all_live(await collect(redis), soak.venues, soak.symbols):
                supervisor.check()
                if time.monotonic() > deadline or signals.stop.is_set():
                    raise ConfigError(f"not every book LIVE within {LIVE_WITHIN_S:.0f}s; the "
                                      f"logs are in {run_dir}")  # fmt: skip
                await asyncio.sleep(0.25)
            soak.started = time.monotonic()
            end = soak.started + args.duration
            last: dict[str, Any] = {}
            while not signals.stop.is_set():
                supervisor.check()
                last = await soak.sample(redis, _pids(supervisor, sim_proc, server))
                if not args.json:
                    worst = min(last["live_share"].values(), default=0.0)
                    rotations = sum(
                        int(c.get("rotations", 0)) for c in last["connections"].values()
                    )
                    print(
                        f"t+{last['t_s']:.0f}s LIVE min {worst * 100:.3f}% rotations "
                        f"{rotations} gaps {last['gaps']} redis "
                        f"{last['redis_used_memory_bytes'] / 2**20:.1f} MB",
                        flush=True,
                    )
                if time.monotonic() >= end:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        signals.stop.wait(), min(args.interval, max(0.0, end - time.monotonic()))
                    )
            result = _report(soak, last)
            result["service_restarts"] = {c.name: c.restarts for c in supervisor.children
                                          if c.restarts}  # fmt: skip
            result["logs"] = str(run_dir)
        finally:
            await redis.aclose()
    finally:
        await stop_children(supervisor, None, OTHERS_STOP_S, signals.hurry)
        stop_simulator(sim_proc)
        if server is not None:
            server.stop()
    if args.json:
        print_json(result)
    else:
        _print(result)
    return 0 if result.get("ok") else 1


def _print(result: dict[str, Any]) -> None:
    print(f"arb soak: {result['duration_s']:.0f}s = {result['simulated_hours']} simulated hours, "
          f"{result['samples']} samples")  # fmt: skip
    for key in ("live_share_min", "live_share_median", "gaps", "connects", "reconnects",
                "rotations", "rotations_failed", "failovers", "reconnect_notices"):  # fmt: skip
        print(f"  {key:<18} {result[key]}")
    for name, g in sorted(result["growth"].items()):
        mark = "  GROWS" if g["grows"] else ""
        if "cap" in g:
            print(f"  {name:<48} {g['last']:>9.0f} of its cap {g['cap']}{mark}")
            continue
        print(f"  {name:<48} mean {g['mean']:>14} slope/min {g['slope_per_min']:>10}{mark}")
    print(
        "OK: every book above the LIVE share, nothing grows"
        if result["ok"]
        else f"FAILED: growing {result['growing']}, below {result['below_live_share']}"
    )


def add_parser(sub: Any, command: Any) -> None:
    p = sub.add_parser("soak", help="the whole engine on the simulator for long, with "
                       "time-compressed connection lifetimes, watched for growth")  # fmt: skip
    p.add_argument("--duration", type=float, default=300.0, help="wall seconds (default 300)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument(
        "--time-scale",
        type=float,
        default=1440.0,
        help="simulated seconds per wall second: lifetimes and the daily "
        "maintenance run this much faster (1440: a 24 h lifetime lasts a minute)",
    )
    p.add_argument("--maintenance-notice", type=float, default=5.0,
                   help="seconds between a venue's maintenance notice and its close")  # fmt: skip
    p.add_argument("--venues", default=",".join(VENUE_NAMES), help="venues, comma-separated")
    p.add_argument("--symbols", default="BTC-USDT,ETH-USDT", help="symbols, comma-separated")
    p.add_argument("--rate", type=float, default=20.0, help="simulator updates/s per book")
    p.add_argument("--min-live-share", type=float, default=0.999,
                   help="fail when a book's LIVE share ends below this (0-1)")  # fmt: skip
    p.add_argument("--data-dir", default="", help="the run's folder (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(func=command)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
