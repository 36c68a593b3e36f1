"""arb run: the whole engine on one command - embedded Redis, simulator, every service as its
own process, a live view; Ctrl-C (or --duration) stops everything and prints a summary.

Every child (Redis included) runs in its own process group, so the terminal's Ctrl-C reaches
this process alone. On Ctrl-C, SIGTERM or the end of --duration it stops in order:

1. no new opportunities: the detector stops first (STOP_FIRST);
2. in-flight sagas finish: the executor stops (SIGTERM: it finishes the saga it is in, then
   exits), killed only after EXECUTOR_STOP_S;
3. the summary is read from Redis, the other children stop, the summary is printed;
4. Redis stops last.

A second Ctrl-C during the stop shortens every wait. The embedded Redis keeps its data (an
append-only file) in the run's folder (``--data-dir``, default a new arb-run-* folder) and is
restarted from it if it dies; the live view and the summary survive Redis restarting. The
exit status is 1 when a service crash-looped (restarted CRASH_LOOP_RESTARTS times).

Before anything starts, ``preflight`` checks every setting of every process the run would
start, with the environment each would get: a bad one is one line and exit 2. With
``ARB_METRICS_PORT`` each process gets its own /metrics port (arb_cli.metrics_ports). The
live view (arb_cli.live_view) redraws a terminal and writes plain lines anywhere else.
"""

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

from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.errors import ConfigError, RedisUnavailable
from arb_runtime.redact import redact
from arb_runtime.redis import REDIS_RETRYABLE, connect
from arb_structs.codec import EXECUTION, OPPORTUNITY, TRUTH
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    OPEN_SAGAS_KEY,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    SIM_TRUTH_STREAM,
    balances_key,
    md_stream,
)
from arb_venues import VENUE_NAMES

from arb_cli import metrics_ports
from arb_cli.common import print_json
from arb_cli.console import history_written, start_console
from arb_cli.engine import (
    check_simulator,
    placeholder_urls,
    start_services,
    start_simulator,
    stop_simulator,
)
from arb_cli.live_view import LiveView, render
from arb_cli.scoring import score
from arb_cli.settings_check import check_environment
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor

# The stop order: no new opportunities, then the sagas in flight; everything else after.
STOP_FIRST = ("detector",)
STOP_SECOND = ("executor",)
DETECTOR_STOP_S = 5.0
EXECUTOR_STOP_S = 15.0  # the executor bounds its own saga wind-down (docs/executor.md)
OTHERS_STOP_S = 5.0
SUMMARY_WAIT_S = 15.0  # how long the final summary waits for a Redis that is away
# Failures of one live-view turn that mean "Redis is away", not a bug.
REDIS_AWAY: tuple[type[BaseException], ...] = (*REDIS_RETRYABLE, RedisUnavailable)


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
    """Every book of every venue is LIVE."""
    live = {(b["venue"], b["symbol"]) for b in status["books"] if b["state"] == "LIVE"}
    return all((v, s) in live for v in venues for s in symbols)


async def balances_known(redis: Any, venues: list[str]) -> bool:
    """The executor has published every venue's balances: the detector sizes by them and
    trades nowhere without them. With every book LIVE, from then on the engine is watching
    (one key at a time: on a cluster each venue's key has its own slot)."""
    pipe = redis.pipeline(transaction=False)
    for venue in venues:
        pipe.exists(balances_key(venue))
    return all(await pipe.execute())


class Signals:
    """SIGINT/SIGTERM: the first asks for a stop in order, a second one for a quick stop."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received)

    def _received(self) -> None:
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()


async def stop_children(
    supervisor: Supervisor, names: tuple[str, ...] | None, timeout: float, hurry: asyncio.Event
) -> list[str]:
    """SIGTERM the named children (None: all, last started first), wait up to ``timeout``
    (1 s once ``hurry`` is set), SIGKILL what is left; returns the names killed."""
    children = supervisor.named(names) if names is not None else supervisor.children[::-1]
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(c.alive for c in children):
        if hurry.is_set():
            deadline = min(deadline, time.monotonic() + 1.0)
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    killed = [c.name for c in children if c.alive]
    for child in children:
        child.stop(timeout=1.0)  # SIGKILL the ones left; reaps the others
    return killed


def preflight(
    args: argparse.Namespace, venues: list[str], symbols: list[str], metrics_base: int,
    data_dir: Path,
) -> None:  # fmt: skip
    """Every setting of every process this run starts, checked before any starts, with the
    environment each will get (the simulator's URLs stand in): a typo in any ARB_* name, a
    bad value or a taken /metrics port is one line and exit 2, not a crash loop."""
    check_environment()
    dry = Supervisor(data_dir, check_settings=True, metrics_base=metrics_base, dry_run=True)
    url = os.environ.get("ARB_REDIS_URL") or "redis://127.0.0.1:6379/0"  # stands in: not used
    start_console(dry, url, data_dir)
    if not args.no_sim:
        check_simulator(venues, symbols, args.rate, url, metrics_base)
    start_services(dry, venues, symbols, url, None if args.no_sim else placeholder_urls(venues),
                   mode=args.mode)  # fmt: skip


def metrics_ports_of(supervisor: Supervisor, simulator_base: int) -> list[tuple[str, int]]:
    """Each process's /metrics port, lowest first (the simulator's with ``simulator_base``)."""
    ports = [(c.name, c.metrics_port) for c in supervisor.children if c.metrics_port]
    simulator = metrics_ports.port_for("simulator", simulator_base)
    if simulator:
        ports.append(("simulator", simulator))
    return sorted(ports, key=lambda p: p[1])


def logs_folder(data_dir: Path) -> Path:
    """A new folder for this run's logs under ``data_dir``/logs (named by its start time)."""
    logs_root = data_dir / "logs"
    logs_root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=logs_root))


def start_redis(data_dir: Path, *, fresh: bool) -> tuple[EmbeddedRedis | None, str]:
    """The Redis of a run: ARB_REDIS_URL's (no server of ours), else the embedded one with
    its append-only file in ``data_dir``/redis, wiped first when ``fresh`` (a run on the
    simulator: its venues start anew, so does the engine's hot state)."""
    url = os.environ.get("ARB_REDIS_URL")
    if url:
        return None, url
    server = EmbeddedRedis(data_dir=data_dir / "redis")
    if fresh and server.data_dir.exists():
        server.wipe()
    server.start()
    return server, server.url


async def stop_trading(supervisor: Supervisor, hurry: asyncio.Event) -> list[str]:
    """Steps 1 and 2 of the stop: the detector (no new opportunities), then the executor
    (its sagas finish); the names that had to be killed."""
    killed = await stop_children(supervisor, STOP_FIRST, DETECTOR_STOP_S, hurry)
    return killed + await stop_children(supervisor, STOP_SECOND, EXECUTOR_STOP_S, hurry)


def restart_redis(server: EmbeddedRedis, events: list[str], restarts: int) -> int:
    """Start a dead embedded Redis again from its AOF; the count of restarts so far."""
    code = server.returncode
    try:
        server.start()
    except Exception as exc:  # shown, and tried again next turn
        events.append(f"redis-server exited ({code}); restart failed: {exc}")
        return restarts
    events.append(f"redis-server exited ({code}); restarted from its append-only file "
                  f"(#{restarts + 1})")  # fmt: skip
    return restarts + 1


async def final_summary(
    redis: Any, window: tuple[int, int], hurry: asyncio.Event
) -> dict[str, Any]:
    """The summary, waiting up to SUMMARY_WAIT_S for a Redis that is away."""
    deadline = time.monotonic() + SUMMARY_WAIT_S
    while True:
        try:
            scored = await summary(redis, window)
            scored["open_sagas"] = int(await redis.scard(OPEN_SAGAS_KEY))
            return scored
        except REDIS_AWAY as exc:
            if time.monotonic() >= deadline or hurry.is_set():
                raise RedisUnavailable(
                    f"the summary needs Redis, which did not answer within {SUMMARY_WAIT_S:.0f}s "
                    f"({exc}); the run's data is in its folder"
                ) from None
            await asyncio.sleep(0.5)


async def _run(args: argparse.Namespace) -> int:
    venues, symbols = _split(args.venues), _split(args.symbols)
    unknown = [v for v in venues if v not in VENUE_NAMES]
    if unknown:
        raise ConfigError(
            f"--venues: unknown {', '.join(unknown)}; known: {', '.join(VENUE_NAMES)}"
        )
    metrics_base = metrics_ports.base_port()
    data_dir = Path(args.data_dir)
    preflight(args, venues, symbols, metrics_base, data_dir)
    signals = Signals()  # before anything starts: no Ctrl-C may land as a traceback
    run_dir = logs_folder(data_dir)
    server: EmbeddedRedis | None = None
    cluster: EmbeddedCluster | None = None
    if not os.environ.get("ARB_REDIS_URL") and getattr(args, "cluster", False):
        # Its nodes fail over by themselves (a replica takes a dead primary's slots), so
        # there is no restart here; a fresh cluster each run, stopped at the end.
        cluster = EmbeddedCluster().start()
        url = cluster.url
    else:
        server, url = start_redis(data_dir, fresh=not args.no_sim)
    print(f"arb run: Redis {redact(url)}"
          + (f" (data in {server.data_dir})" if server else "")
          + f"; logs in {run_dir}", file=sys.stderr, flush=True)  # fmt: skip
    supervisor = Supervisor(run_dir, check_settings=True, metrics_base=metrics_base)
    view = LiveView(sys.stdout)
    sim_proc = None
    events: list[str] = []
    redis_restarts = 0
    scored: dict[str, Any] = {}
    try:
        # the console first: it starts while the simulator does, not while the engine does
        console = start_console(supervisor, url, data_dir)
        print(f"dashboard: {console.login_url}", file=sys.stderr, flush=True)
        urls: dict[str, Any] = {}
        if not args.no_sim:
            sim_proc, urls = start_simulator(venues, symbols, args.rate, url, run_dir,
                                             metrics_base=metrics_base)  # fmt: skip
        start_services(
            supervisor, venues, symbols, url, None if args.no_sim else urls, mode=args.mode
        )
        ports = metrics_ports_of(supervisor, metrics_base if sim_proc else 0)
        if ports:
            targets = metrics_ports.write_targets(run_dir, ports)
            shown = ", ".join(f"{name} {port}" for name, port in ports)
            print(f"arb run: /metrics on {metrics_ports.host()}: {shown} (Prometheus "
                  f"file_sd targets: {targets})", file=sys.stderr, flush=True)  # fmt: skip
        redis = await connect(url)
        started = time.monotonic()
        started_ns = time.time_ns()
        last_lengths: dict[str, int] = {}
        live_since: int | None = None  # every book LIVE
        ready_since: int | None = None  # ... and every venue's balances known: watching
        status: dict[str, Any] = {"books": [], "kill_switch": {"engaged": False}}
        rates: dict[str, int] = {}
        while not signals.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signals.stop.wait(), 1.0)
            elapsed = time.monotonic() - started
            events += supervisor.check()
            if server is not None and not server.alive:
                redis_restarts = restart_redis(server, events, redis_restarts)
            try:
                status = await collect(redis)
                if live_since is None and all_live(status, venues, symbols):
                    live_since = time.time_ns()
                    events.append(f"every book LIVE after {elapsed:.1f}s")
                if (
                    live_since is not None
                    and ready_since is None
                    and await balances_known(redis, venues)
                ):
                    ready_since = time.time_ns()
                    events.append(f"trading every venue after {elapsed:.1f}s")
                for venue in venues:
                    added = await entries_added(redis, md_stream(venue))
                    rates[venue] = max(0, added - last_lengths.get(venue, added))
                    last_lengths[venue] = added
                scored = await summary(redis, (ready_since or time.time_ns(), time.time_ns()))
            except REDIS_AWAY as exc:
                if not events or not events[-1].startswith("Redis unavailable"):
                    events.append(f"Redis unavailable ({redact(str(exc))}); waiting for it")
            if not args.json:
                view.events(events, elapsed)
                if scored:
                    view.show(render(status, rates, scored, supervisor.children, events,
                                     elapsed, view.colour),
                              f"dashboard: {console.login_url}")  # fmt: skip
            if args.duration and elapsed >= args.duration:
                break
        ended_ns = time.time_ns()
        killed = await stop_trading(supervisor, signals.hurry)
        if server is not None and not server.alive:
            redis_restarts = restart_redis(server, events, redis_restarts)
        recorded = await history_written(redis, signals.hurry)  # trade history complete
        scored = await final_summary(redis, (ready_since or ended_ns, ended_ns), signals.hurry)
        scored |= {"dashboard_url": console.dashboard_url, "trades_db": console.database_shown,
                   "trades_recorded": recorded}  # fmt: skip
        scored["all_books_live_after_s"] = (
            None if live_since is None else round((live_since - started_ns) / 1e9, 1)
        )
        scored["ready_after_s"] = (
            None if ready_since is None else round((ready_since - started_ns) / 1e9, 1)
        )
        scored["errors"] = sum(c.restarts for c in supervisor.children)
        scored["redis_restarts"] = redis_restarts
        scored["crash_looped"] = [c.name for c in supervisor.crash_looped()]
        scored["killed_on_stop"] = killed
        scored["duration_s"] = round(time.monotonic() - started, 1)
        scored["logs"] = str(run_dir)
        await redis.aclose()
    finally:
        await stop_children(supervisor, None, OTHERS_STOP_S, signals.hurry)
        stop_simulator(sim_proc)
        try:
            if scored.get("duration_s") is not None:
                if args.json:
                    print_json(scored)
                else:
                    print("\nsummary:", json.dumps(scored, indent=2))
        finally:
            if server is not None:
                server.stop()
            if cluster is not None:
                cluster.stop()
    crashed = crash_lines(supervisor)
    for line in crashed:
        print(line, file=sys.stderr)
    return 1 if crashed else 0


def crash_lines(supervisor: Supervisor) -> list[str]:
    """One line per child that crash-looped: why (its last log line) and where its log is;
    ``arb run`` exits 1 when there is one."""
    lines = []
    for child in supervisor.crash_looped():
        said = child.last_line()
        lines.append(f"arb run: {child.name} crash-looped ({child.restarts} restarts, exit codes "
                     f"{child.exit_codes})" + (f": {said}" if said else "")
                     + f"; its log: {child.log_path}")  # fmt: skip
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:  # Ctrl-C before the handlers were installed
        return 130
