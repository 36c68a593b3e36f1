"""arb run: the whole engine on one command - embedded Redis, simulator, every service as its
own process, a live view; Ctrl-C (or --duration) stops everything and prints a summary."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.errors import ConfigError
from arb_runtime.redis import connect
from arb_structs.codec import EXECUTION, OPPORTUNITY, TRUTH
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    SIM_TRUTH_STREAM,
    md_stream,
)
from arb_venues import VENUE_NAMES

from arb_cli.common import print_json
from arb_cli.console import settle, start_console
from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.scoring import score
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


async def _read_all(redis: Any, stream: str, codec: Any) -> list[Any]:
    out = []
    for _, fields in await redis.xrange(stream):
        with contextlib.suppress(Exception):
            out.append(codec.decode(fields[PAYLOAD_FIELD]))
    return out


async def summary(redis: Any, window: tuple[int, int] | None = None) -> dict[str, Any]:
    truths = await _read_all(redis, SIM_TRUTH_STREAM, TRUTH)
    opportunities = await _read_all(redis, OPPORTUNITIES_STREAM, OPPORTUNITY)
    executions = await _read_all(redis, EXECUTIONS_STREAM, EXECUTION)
    return score(truths, opportunities, executions, window)


def all_live(status: dict[str, Any], venues: list[str], symbols: list[str]) -> bool:
    """Every book of every venue is LIVE: from then on the engine is watching."""
    live = {(b["venue"], b["symbol"]) for b in status["books"] if b["state"] == "LIVE"}
    return all((v, s) in live for v in venues for s in symbols)


def render(
    status: dict[str, Any],
    rates: dict[str, int],
    scored: dict[str, Any],
    children: list[tuple[str, bool, int]],
    events: list[str],
    elapsed: float,
) -> str:
    lines = [f"cexarb  running {elapsed:6.1f}s   (Ctrl-C stops everything)", ""]
    lines.append("venue      md msgs/s   books")
    for venue, rate in rates.items():
        books = [b for b in status["books"] if b["venue"] == venue]
        states = " ".join(f"{b['symbol']}:{b['state']}" for b in books) or "-"
        lines.append(f"{venue:<10} {rate:9.0f}   {states}")
    lat = scored["latency_ms"]
    lines += ["", "latency ms   p50      p99"]
    for name, value in lat.items():
        lines.append(f"  {name:<22} {value['p50']!s:>8} {value['p99']!s:>8}")
    restarts = sum(r for _, _, r in children)
    lines += ["", f"opportunities {scored['detected']}   executed {scored['executed']}   "
              f"refused/expired {scored['refused']}   failed {scored['failed']}   "
              f"unhedged {scored['unhedged']}   pnl {scored['pnl_quote']}   errors {restarts}",
              f"injected {scored['injected']}   detectable {scored['injected_detectable']}   "
              f"detected {scored['injected_detected']}", "", "processes:"]  # fmt: skip
    for name, alive, restarts in children:
        lines.append(f"  {name:<18} {'up' if alive else 'DOWN':<5} restarts {restarts}")
    if status["kill_switch"]["engaged"]:
        lines.append(f"KILL SWITCH ENGAGED: {status['kill_switch']['reason']}")
    lines += [f"  ! {e}" for e in events[-5:]]
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    venues, symbols = _split(args.venues), _split(args.symbols)
    unknown = [v for v in venues if v not in VENUE_NAMES]
    if unknown:
        raise ConfigError(
            f"--venues: unknown {', '.join(unknown)}; known: {', '.join(VENUE_NAMES)}"
        )
    log_dir = Path(tempfile.mkdtemp(prefix="arb-run-"))
    server = None
    url = os.environ.get("ARB_REDIS_URL")
    if not url:
        server = EmbeddedRedis().start()
        url = server.url
    supervisor = Supervisor(log_dir)
    sim_proc = None
    events: list[str] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        # the console first: it starts while the simulator does, not while the engine does
        console = start_console(supervisor, url, Path(args.data_dir))
        print(f"dashboard: {console.login_url}", file=sys.stderr, flush=True)
        urls: dict[str, Any] = {}
        if not args.no_sim:
            sim_proc, urls = start_simulator(venues, symbols, args.rate, url, log_dir)
        start_services(
            supervisor, venues, symbols, url, None if args.no_sim else urls, mode=args.mode
        )
        redis = await connect(url)
        started = time.monotonic()
        started_ns = time.time_ns()
        last_lengths: dict[str, int] = {}
        scored: dict[str, Any] = {}
        live_since: int | None = None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            elapsed = time.monotonic() - started
            events += supervisor.check()
            status = await collect(redis)
            if live_since is None and all_live(status, venues, symbols):
                live_since = time.time_ns()
                events.append(f"every book LIVE after {elapsed:.1f}s")
            rates = {}
            for venue in venues:
                added = await entries_added(redis, md_stream(venue))
                rates[venue] = max(0, added - last_lengths.get(venue, added))
                last_lengths[venue] = added
            window = (live_since or time.time_ns(), time.time_ns())
            scored = await summary(redis, window)
            if not args.json:
                children = [(c.name, c.alive, c.restarts) for c in supervisor.children]
                sys.stdout.write("\x1b[2J\x1b[H" + render(status, rates, scored, children,
                                                          events, elapsed)
                                 + f"\ndashboard: {console.login_url}\n")  # fmt: skip
                sys.stdout.flush()
            if args.duration and elapsed >= args.duration:
                break
        ended = time.time_ns()  # the engine watched until now
        recorded = await settle(supervisor, redis)  # engine stopped, history written
        scored = await summary(redis, (live_since or ended, ended))
        scored |= {"dashboard_url": console.dashboard_url, "trades_db": console.database_shown,
                   "trades_recorded": recorded}  # fmt: skip
        scored["all_books_live_after_s"] = (
            None if live_since is None else round((live_since - started_ns) / 1e9, 1)
        )
        scored["errors"] = sum(c.restarts for c in supervisor.children)
        scored["duration_s"] = round(time.monotonic() - started, 1)
        scored["logs"] = str(log_dir)
        await redis.aclose()
    finally:
        supervisor.stop_all()
        stop_simulator(sim_proc)
        if server is not None:
            server.stop()
    if args.json:
        print_json(scored)
    else:
        print("\nsummary:", json.dumps(scored, indent=2))
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
