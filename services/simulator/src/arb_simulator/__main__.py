"""``python -m arb_simulator``: start the simulated venues, print where they are, run.

    python -m arb_simulator --venues binance,okx --symbols BTC-USDT,ETH-USDT --rate 50 --json
    python -m arb_simulator --host 0.0.0.0 --base-port 18000   # fixed ports, as in compose

prints one JSON line {"venues": {venue: {"ws": ..., "rest": ...}}, "control": ...} once every
server listens, then runs until SIGTERM/SIGINT. Every flag is also an ARB_SIMULATOR_* env var.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from arb_core import memtrace
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError
from arb_runtime.logging import setup_logging
from arb_runtime.metrics import HealthState, start_http
from arb_runtime.service import metrics_bind_error
from arb_venues import VENUE_NAMES

from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_simulator.errors import SimulatorError
from arb_simulator.health import health_detail


def parse_args(argv: list[str] | None = None, prog: str = "arb_simulator") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--venues", help="comma-separated venues (default: all of them)")
    parser.add_argument("--symbols", help="comma-separated BASE-QUOTE symbols")
    parser.add_argument("--rate", type=float, help="book updates per second per venue")
    parser.add_argument("--seed", type=int, help="seed of every random process")
    parser.add_argument("--tick-hz", type=float, dest="tick_hz",
                        help="market clock ticks per second (default 50, at most 1000): a "
                        "tick's book updates go out together")  # fmt: skip
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--base-port", type=int,
                        help=f"venue i of {','.join(VENUE_NAMES)} on base+i, control on "
                             f"base+{len(VENUE_NAMES)} (default 0: free ports)")  # fmt: skip
    parser.add_argument("--control-port", type=int, help="control API port (0 = free)")
    parser.add_argument("--inject-interval", type=float, dest="inject_interval_s",
                        help="seconds between injected dislocations (0 = none)")  # fmt: skip
    parser.add_argument("--lifetime-scale", type=float, dest="lifetime_scale",
                        help="every venue's WS connection lifetime times this (0 = not "
                        "enforced; 1/1440 makes 24 h one minute)")  # fmt: skip
    parser.add_argument(
        "--maintenance-every",
        type=float,
        dest="maintenance_every_s",
        help="seconds between maintenance windows of each venue (0 = none)",
    )
    parser.add_argument(
        "--maintenance-notice",
        type=float,
        dest="maintenance_notice_s",
        help="seconds between a maintenance notice and the close",
    )
    parser.add_argument(
        "--maintenance-gap",
        type=float,
        dest="maintenance_gap_s",
        help="without a notice: seconds between one connection's cut and the next",
    )
    parser.add_argument("--truth-path", type=Path, help="JSONL file for the ground truth")
    parser.add_argument("--redis-url", help="Redis for the arb:sim:truth stream")
    parser.add_argument("--replay", help="comma-separated capture files to serve instead")
    parser.add_argument("--replay-venue", help="name the replay is served under")
    parser.add_argument("--replay-speed", type=float, help="1 = recorded pace, 0 = no pauses")
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line")
    parser.add_argument("--metrics-port", type=int, help="/metrics, /healthz port (0 = off)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> SimulatorSettings:
    overrides: dict[str, Any] = {
        key: value for key, value in vars(args).items() if value is not None and key != "json"
    }
    return load_settings(SimulatorSettings, **overrides)


async def run(settings: SimulatorSettings, as_json: bool) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    health = HealthState(service="simulator", instance=settings.instance)
    metrics_runner = None
    if settings.metrics_port:
        try:
            metrics_runner = await start_http(health, settings.metrics_host, settings.metrics_port)
        except OSError as exc:
            raise ConfigError(metrics_bind_error(settings, exc)) from None
    async with Simulator(settings) as sim:
        health.set_ready(True)
        for key, value in health_detail(sim).items():
            health.set_detail(key, value)
        where = {"venues": sim.urls, "control": sim.control_url, "skipped": sim.skipped}
        if as_json:
            print(json.dumps(where), flush=True)
        else:
            for venue, urls in sim.urls.items():
                print(f"{venue:10} ws {urls['ws']}  rest {urls['rest']}", flush=True)
            print(f"{'control':10} {sim.control_url}", flush=True)
        await stopping.wait()
        health.set_ready(False)
    if metrics_runner is not None:
        await metrics_runner.cleanup()


def main(argv: list[str] | None = None, prog: str = "arb_simulator") -> None:
    """``prog`` names the command in help and errors (``arb sim`` runs this too)."""
    args = parse_args(argv, prog)
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(2)
    setup_logging("simulator", settings.log_level, settings.log_format)
    memtrace.start_from_env("simulator")  # a diagnosis run only (ARB_TRACEMALLOC_DUMP)
    try:
        asyncio.run(run(settings, args.json))
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(2)
    except (SimulatorError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
