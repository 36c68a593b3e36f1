"""The ``arb`` command: one front door for people. Every service also runs as python -m."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from arb_runtime.errors import ArbError, ConfigError
from arb_runtime.redact import redact
from arb_venues import VENUE_NAMES

Command = Callable[[argparse.Namespace], int]
PROTOCOL_HELP = "wire protocol version, where the venue speaks several (`arb venues`)"


def _lazy(module: str, function: str = "run") -> Command:
    def call(args: argparse.Namespace) -> int:
        import importlib

        result: int = getattr(importlib.import_module(f"arb_cli.{module}"), function)(args)
        return result

    return call


def _version() -> str:
    """The installed cexarb distribution's version (the workspace root's pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in ("cexarb", "arb-cli"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arb", description="cexarb: cross-exchange arbitrage engine over Redis Streams."
    )
    parser.add_argument("--version", action="version", version=f"arb {_version()}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML settings under the environment (ARB_CONFIG for this command and the "
        "services it starts)",
    )
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        help="a .env file (KEY=value lines) under the environment (ARB_ENV_FILE for this "
        "command and the services it starts); ARB_SECRETS_DIR: a folder of secret files",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("redis", help="start the embedded Redis server and print its URL")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--cluster", action="store_true",
                   help="a Redis Cluster instead: --primaries primaries with --replicas "
                   "replicas each on free ports; prints its redis+cluster:// URL")  # fmt: skip
    p.add_argument("--primaries", type=int, default=3, help="with --cluster (at least 3)")
    p.add_argument("--replicas", type=int, default=1, help="with --cluster: per primary")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1); another address "
                   "turns protected mode off: a private network only")  # fmt: skip
    p.set_defaults(func=_lazy("redis_cmd"))

    p = sub.add_parser("status", help="services, books, streams and consumer lag of a deployment")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_lazy("status"))

    p = sub.add_parser("config", help="every setting of every service, as markdown")
    p.add_argument("--check", metavar="FILE", help="check a TOML config file against every "
                   "service's settings: one line per problem, exit 2")  # fmt: skip
    p.set_defaults(func=_lazy("confdoc"))

    p = sub.add_parser("venues", help="every venue of the registry and its facts, as markdown")
    p.add_argument(
        "--write",
        action="store_true",
        help="rewrite the generated parts of docs/venues.md, README.md and "
        "docker-compose.yml in place",
    )
    p.set_defaults(func=_lazy("venuedoc"))

    p = sub.add_parser("kill", help="engage the kill switch: the executor sends no new orders")
    p.add_argument("--reason", default="manual", help="why (shown in status and logs)")
    p.set_defaults(func=_lazy("kill", "kill"))
    p = sub.add_parser("resume", help="release the kill switch")
    p.set_defaults(func=_lazy("kill", "resume"))

    p = sub.add_parser("ctl", help="requests to running services over their control streams")
    ctl = p.add_subparsers(dest="ctl", metavar="REQUEST", required=True)
    p = ctl.add_parser("rotate", help="replace a venue's WS connection make-before-break now")
    p.add_argument("venue", help="the venue whose ingest processes rotate")
    p.add_argument("--reason", default="arb ctl rotate", help="why (shown in ingest's log)")
    p.set_defaults(func=_lazy("ctl", "rotate"))

    p = sub.add_parser("sign", help="show exactly what the live client sends for a request")
    p.add_argument("venue")
    p.add_argument(
        "--secret",
        required=True,
        help="API secret as the venue issues it (`arb venues` shows each format)",
    )
    p.add_argument("--key", default="", help="API key (or key name, where the venue has one)")
    p.add_argument("--passphrase", default=None, help="API passphrase, where the venue has one")
    p.add_argument("--method", required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--query", default="", help="query string, verbatim (already encoded)")
    p.add_argument("--body", default="", help="request body, verbatim")
    p.add_argument("--timestamp", type=int, default=0, help="ms; default now (or from query)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("sign"))

    p = sub.add_parser("replay", help="recorded captures through the parsers and the book engine")
    p.add_argument("--venue", required=True)
    p.add_argument("files", nargs="+", help="capture JSONL or one-message-per-line files")
    p.add_argument("--json", action="store_true")
    p.add_argument("--loops", type=int, default=1, help="repeat the processing N times")
    p.add_argument("--protocol", default=None,
                   help=PROTOCOL_HELP + "; default: detected from the frames")  # fmt: skip
    p.add_argument(
        "--allow-bad",
        action="store_true",
        help="replay even when frames are malformed (they are counted by kind)",
    )
    p.set_defaults(func=_lazy("replay"))

    p = sub.add_parser("record", help="record a live or simulated venue session to a capture")
    p.add_argument("--venue", required=True)
    p.add_argument("--symbols", required=True, help="BASE-QUOTE symbols, comma-separated")
    p.add_argument("--out", required=True, help="capture file to write (JSONL)")
    p.add_argument("--ws-url", default=None, help="WS base URL; default: the real venue's")
    p.add_argument("--rest-url", default=None, help="REST base URL; default: the real venue's")
    p.add_argument("--duration", type=float, default=0.0, help="seconds (0 = until Ctrl-C)")
    p.add_argument("--max-frames", type=int, default=0, help="stop after N WS frames (0 = no)")
    p.add_argument("--depth", type=int, default=0, help="book depth; 0 = the venue default")
    p.add_argument("--protocol", default=None, help=PROTOCOL_HELP)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=_lazy("record"))

    # Everything after "sim" goes to python -m arb_simulator unparsed (its own --help too): a
    # prefix char no option uses keeps argparse from reading "--venues" as an arb option.
    p = sub.add_parser("sim", help="run the exchange simulator on loopback (arb sim --help)",
                       prefix_chars="+", add_help=False)  # fmt: skip
    p.add_argument("rest", nargs=argparse.REMAINDER, help="simulator options (see --help)")
    p.set_defaults(func=_lazy("sim"))

    p = sub.add_parser("run", help="the whole engine: embedded Redis, simulator, services, view")
    p.add_argument("--venues", default=",".join(VENUE_NAMES), help="venues, comma-separated")
    p.add_argument("--symbols", default="BTC-USDT,ETH-USDT,SOL-USDT")
    p.add_argument(
        "--mode",
        choices=["paper", "live"],
        default="paper",
        help="live: orders through the venues' private REST APIs (the simulator's "
        "test accounts, or with --no-sim your keys from ARB_EXECUTOR_CREDENTIALS__*)",
    )
    p.add_argument("--no-sim", action="store_true", help="real exchanges (keys from env)")
    p.add_argument("--cluster", action="store_true",
                   help="on an embedded Redis Cluster (3 primaries + 3 replicas, as "
                   "`arb redis --cluster`) instead of one Redis; ignored with ARB_REDIS_URL",
                   )  # fmt: skip
    p.add_argument("--duration", type=float, default=0, help="seconds, then stop (0 = Ctrl-C)")
    p.add_argument("--json", action="store_true", help="print a summary object and exit")
    p.add_argument("--rate", type=float, default=20.0, help="simulator updates/s per book")
    p.add_argument("--data-dir", default=os.environ.get("ARB_DATA_DIR") or "arb-data",
                   help="the run's folder (env ARB_DATA_DIR; default ./arb-data): the trade "
                   "history (trades.sqlite, kept across runs), the embedded Redis's append-only "
                   "file (redis/; started empty on each run against the simulator, whose "
                   "accounts start anew) and each run's logs (logs/<time>/)")  # fmt: skip
    p.set_defaults(func=_lazy("run"))

    p = sub.add_parser("bench", help="benchmarks: write bench-results/latest.json")
    p.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    p.add_argument("--out", default="bench-results/latest.json")
    p.add_argument("--sections", default=None,
                   help="which benchmarks, comma-separated (default: every one, "
                   "arb_bench.report.SECTIONS; pipeline_cluster: the pipeline on one Redis "
                   "and on a Redis Cluster at each rate; venues_load: every venue at once at "
                   "1,000 msgs/s each)")  # fmt: skip
    p.add_argument(
        "--rates",
        default="1000,10000,20000",
        help="pipeline: aggregate book messages/s to offer, comma-separated",
    )
    p.add_argument(
        "--window",
        type=float,
        default=None,
        help="pipeline: seconds measured per rate (default 10, --quick 3); venues_load: its "
        "one window (default 25, --quick 8)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="replay: alternating rounds of ours and each peer (default 5, --quick 3)",
    )
    p.add_argument("--peers", default="auto",
                   help="replay: auto = install cryptofeed and ccxt into .bench-peers and "
                   "measure them; off = our numbers only")  # fmt: skip
    p.add_argument("--tick-hz", type=float, default=None,
                   help="pipeline: the simulator's market ticks/s, for the engine and its "
                   "floor alike (default: arb_bench.pipeline.PIPELINE_TICK_HZ; 50, the "
                   "simulator's own default, sends each tick's frames as one burst)")  # fmt: skip
    p.set_defaults(func=_lazy("bench"))

    from arb_cli.console_args import add_console_commands

    add_console_commands(sub, _lazy)  # trades, pnl, alerts

    from arb_cli.exposure import add_parser as add_exposure  # arb exposure [close VENUE ASSET]

    add_exposure(sub, _lazy("exposure"))

    from arb_cli.chaos import add_parser as add_chaos  # arb chaos --duration S --seed N

    add_chaos(sub, _lazy("chaos"))
    from arb_cli.soak import add_parser as add_soak  # arb soak --duration S

    add_soak(sub, _lazy("soak"))
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        from arb_core.variables import ENV_FILE
        from arb_runtime.environment import load_files, unknown_variable

        if args.env_file:
            os.environ[ENV_FILE] = args.env_file
        load_files()  # ARB_ENV_FILE, ARB_SECRETS_DIR: their variables for every command
        if args.command != "run":  # arb run checks every service's names too (preflight)
            problem = unknown_variable()  # ARB_REDIS_ULR: not "ARB_REDIS_URL is not set"
            if problem:
                raise ConfigError(problem)
        if args.config:  # checked here, so every command fails fast on a bad file
            from arb_runtime.config import CONFIG_VARIABLE, read_config_file

            read_config_file(args.config)
            os.environ[CONFIG_VARIABLE] = args.config
        code = args.func(args)
    except ArbError as exc:
        print(f"arb {args.command}: {redact(str(exc))}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)


if __name__ == "__main__":
    main()
