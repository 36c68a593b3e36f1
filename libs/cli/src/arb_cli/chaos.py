"""arb chaos: the fault matrix as a command. The engine runs live against the simulator while
faults land at seeded moments; then the venues' own ledgers are compared with what the engine
recorded and reported.

1. **Start**, with ``arb run``'s parts (``run.py``: the data folder, the embedded Redis with its
   append-only file, the supervisor, the console's recorder, the simulator and every
   service, the executor in live mode on the simulator's accounts). The ledgers' balances
   are read before the executor starts: the baseline.
2. **Faults** for ``--duration`` seconds from the moment every book is LIVE, on the schedule
   ``chaos_plan.plan(seed, ...)`` draws: Redis killed (-9) and started again empty or from
   its append-only file, each service killed (-9; the supervisor restarts it), venue faults
   armed through the simulator's control API (5xx, 429, timeouts, lost responses, partial
   fills, rejects, dropped sockets). The simulator's own dislocations make trades happen.
3. **Settle**: every venue fault disarmed, the kill switch engaged (no new sagas); then wait
   until no saga is open, no late order watched and no result but a refusal (the kill
   switch's, of what the detector still finds) was published for QUIET_S, and at least the
   executor's adoption grace has passed since the last Redis restart (a journal lost with
   Redis is rebuilt from the venues then), at most SETTLE_MAX_S (``settled`` says which).
4. **Verdict**: the open exposure is read (``arb exposure``), the detector and executor
   stop, the recorder writes the rest; the simulator's ledgers (GET /control/ledger/{venue})
   are compared with the trade history and ``arb pnl`` by ``chaos_check.check``.

One JSON object (``--json``) or a short text report; exit 0 when every safety property held,
1 otherwise (``failed_checks`` says which), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import msgspec
from arb_executor.config import ExecutorSettings
from arb_history.database import open_database
from arb_history.migrations import schema_version
from arb_history.pnl import report as pnl_report
from arb_history.queries import TradeFilter, fetch_trades, open_parts
from arb_runtime.entries import text
from arb_runtime.errors import ConfigError, RedisUnavailable
from arb_runtime.redis import connect
from arb_structs.codec import EXECUTION
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    LATE_ORDERS_KEY,
    OPEN_SAGAS_KEY,
    PAYLOAD_FIELD,
)
from arb_structs.trading import ExecutionStatus
from arb_venues import VENUE_NAMES

from arb_cli import metrics_ports
from arb_cli.chaos_check import check, dec, remark, totals
from arb_cli.chaos_plan import Fault, counts, plan
from arb_cli.common import print_json
from arb_cli.console import recorder_written, start_console
from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.exposure import list_open, row
from arb_cli.kill import engage
from arb_cli.run import (
    OTHERS_STOP_S,
    REDIS_AWAY,
    Signals,
    all_live,
    logs_folder,
    start_redis,
    stop_children,
    stop_trading,
)
from arb_cli.status import collect, entries_added
from arb_cli.supervisor import Supervisor

DEFAULT_VENUES = ",".join(VENUE_NAMES[:3])  # the registry's first three
DEFAULT_SYMBOLS = "BTC-USDT,ETH-USDT"
# The services killed: the engine's and the recorder (the trade history's writer).
KILLED_SERVICES = ("ingest", "book", "detector", "executor", "recorder")
LIVE_WITHIN_S = 300.0  # every book LIVE before the faults start (a busy machine is slow)
FIRST_RESULT_WITHIN_S = 120.0  # and then a first result (or the faults start anyway)
QUIET_S = 12.0  # settled: nothing published for this long (two reconciliation rounds)
SETTLE_MAX_S = 120.0
TICK_S = 0.1
REDIS_WAIT_S = 30.0
HISTORY_WAIT_S = 120.0
T = TypeVar("T")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Control:
    """The simulator's control API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def get(self, path: str) -> Any:
        async with self.http.get(self.url + path) as response:
            response.raise_for_status()
            return await response.json()

    async def arm(self, venue: str, body: dict[str, Any]) -> str:
        """Arm one fault; "" when armed, else the simulator's complaint."""
        async with self.http.post(self.url + "/control/faults", json={"venue": venue, **body}
                                  ) as response:  # fmt: skip
            return "" if response.status == 200 else await response.text()

    async def disarm(self) -> None:
        async with self.http.delete(self.url + "/control/faults") as response:
            response.raise_for_status()

    async def ledgers(self, venues: list[str]) -> dict[str, Any]:
        return {v: await self.get(f"/control/ledger/{v}") for v in venues}

    async def marks(self, venues: list[str], symbols: list[str]) -> dict[str, Decimal]:
        """Base asset -> the mid of its first venue's book."""
        out: dict[str, Decimal] = {}
        for symbol in symbols:
            book = await self.get(f"/control/book/{venues[0]}/{symbol}?depth=1")
            if book["bids"] and book["asks"]:
                mid = (dec(book["bids"][0][0]) + dec(book["asks"][0][0])) / 2
                out[symbol.partition("-")[0]] = mid
        return out

    async def close(self) -> None:
        await self.http.close()


class _Chaos:
    """One run: the engine's processes, the schedule, what happened."""

    def __init__(self, args: argparse.Namespace, signals: Signals) -> None:
        self.args = args
        self.signals = signals
        self.venues, self.symbols = _split(args.venues), _split(args.symbols)
        self.events: list[str] = []
        self.fired: list[Fault] = []
        self.redis_restarts = 0
        self.last_redis_up = 0.0  # monotonic time Redis last came back

    def services(self) -> list[str]:
        names = [f"ingest-{v}" for v in self.venues] if "ingest" in KILLED_SERVICES else []
        return names + [s for s in KILLED_SERVICES if s != "ingest"]

    def note(self, line: str) -> None:
        self.events.append(line)
        if self.args.verbose:
            print(f"arb chaos: {line}", file=sys.stderr, flush=True)

    async def inject(self, fault: Fault, supervisor: Supervisor, server: Any,
                     control: _Control) -> None:  # fmt: skip
        if fault.kind.startswith("redis_restart"):
            server.kill()
            if fault.kind == "redis_restart_empty":
                server.wipe()
            await asyncio.sleep(fault.down_s)
            await asyncio.to_thread(server.start)
            self.redis_restarts += 1
            self.last_redis_up = time.monotonic()
        elif fault.kind.startswith("kill_"):
            if not supervisor.kill(fault.kind.removeprefix("kill_")):
                self.note(f"{fault.kind}: not running (restarting already); skipped")
                return
        else:
            complaint = await control.arm(fault.venue, fault.body)
            if complaint:
                self.note(f"{fault.kind} on {fault.venue}: refused: {complaint}")
                return
        self.fired.append(fault)
        self.note(f"t+{fault.at_s:.1f}s {fault.kind} {fault.venue}".rstrip())

    async def faults(self, supervisor: Supervisor, server: Any, control: _Control) -> None:
        """The fault window: the schedule, while the supervisor restarts what dies."""
        services = self.services()
        schedule = plan(self.args.seed, self.args.duration, self.venues, services)
        started = time.monotonic()
        pending = list(schedule)
        while pending and not self.signals.stop.is_set():
            elapsed = time.monotonic() - started
            while pending and pending[0].at_s <= elapsed:
                fault = pending.pop(0)
                if fault.kind.startswith("redis_restart"):
                    # Redis is down for a while: the supervisor keeps restarting meanwhile
                    task = asyncio.create_task(self.inject(fault, supervisor, server, control))
                    while not task.done():
                        self.events.extend(supervisor.check())
                        await asyncio.sleep(TICK_S)
                    task.result()
                else:
                    await self.inject(fault, supervisor, server, control)
            self.events.extend(supervisor.check())
            if not server.alive:  # died by itself: arb run's rule, start it from its AOF
                self.note(f"redis-server exited ({server.returncode}) by itself; restarted")
                await asyncio.to_thread(server.start)
                self.last_redis_up = time.monotonic()
            await asyncio.sleep(TICK_S)
        while time.monotonic() - started < self.args.duration and not self.signals.stop.is_set():
            self.events.extend(supervisor.check())
            await asyncio.sleep(TICK_S)

    async def settle(
        self, redis: Any, supervisor: Supervisor, grace_s: float
    ) -> tuple[float, bool]:
        """Kill switch on, then wait until everything is resolved (module docstring, 3.);
        the seconds it took, and whether it did settle (False: SETTLE_MAX_S ran out)."""
        await _retried(lambda: engage(redis, "arb chaos: settling"), "the kill switch")
        started = time.monotonic()
        last_change = started
        last: tuple[int, ...] = ()
        results = _Results()
        while time.monotonic() - started < SETTLE_MAX_S and not self.signals.hurry.is_set():
            self.events.extend(supervisor.check())
            await asyncio.sleep(0.5)
            try:
                now = (  # not the exposure stream: each round re-marks what is open there
                    await results.settling(redis),
                    int(await redis.scard(OPEN_SAGAS_KEY)),
                    int(await redis.hlen(LATE_ORDERS_KEY)),
                )
            except REDIS_AWAY:
                continue
            if now != last:
                last, last_change = now, time.monotonic()
            quiet = time.monotonic() - last_change >= QUIET_S
            graced = time.monotonic() - self.last_redis_up >= grace_s + QUIET_S
            if quiet and graced and now[1] == 0 and now[2] == 0:
                return round(time.monotonic() - started, 1), True
        held = [f"{what} {count}"
                for what, count in zip(("open sagas", "late orders"), last[1:], strict=False)
                if count]  # fmt: skip
        if time.monotonic() - last_change < QUIET_S:
            held.append(f"a result {time.monotonic() - last_change:.1f}s ago")
        self.note(f"not settled within {SETTLE_MAX_S:.0f}s ({', '.join(held) or 'grace'}): "
                  "judged as it is")  # fmt: skip
        return round(time.monotonic() - started, 1), False


class _Results:
    """The results published while settling that say something is still being resolved:
    every result but a refusal. With the kill switch on, the executor refuses each new
    opportunity the detector still finds (and publishes that): those never stop, and settle
    nothing."""

    def __init__(self) -> None:
        self.after = "0-0"
        self.count = 0

    async def settling(self, redis: Any) -> int:
        while True:
            batch = await redis.xrange(EXECUTIONS_STREAM, min=f"({self.after}", max="+",
                                       count=1000)  # fmt: skip
            if not batch:
                return self.count
            for entry_id, fields in batch:
                self.after = text(entry_id)
                try:
                    status = EXECUTION.decode(fields[PAYLOAD_FIELD]).status
                except (KeyError, msgspec.DecodeError):  # not a result: counted as one
                    status = None
                if status not in _SETTLES_NOTHING:
                    self.count += 1


# What a result of the settling phase can be without anything left to resolve.
_SETTLES_NOTHING = frozenset({ExecutionStatus.REFUSED, ExecutionStatus.EXPIRED})


async def _retried(call: Callable[[], Awaitable[T]], what: str) -> T:
    """``call()``, again while Redis is away (it was just restarted), for up to REDIS_WAIT_S."""
    deadline = time.monotonic() + REDIS_WAIT_S
    while True:
        try:
            return await call()
        except REDIS_AWAY as exc:
            if time.monotonic() >= deadline:
                raise RedisUnavailable(f"{what}: Redis did not answer in {REDIS_WAIT_S:.0f}s "
                                       f"({exc})") from None  # fmt: skip
            await asyncio.sleep(0.5)


async def _history_ready(redis: Any, database_url: str, hurry: asyncio.Event) -> bool:
    """Until the recorder has migrated its database and written every entry, at most
    HISTORY_WAIT_S: it runs at a lower priority (console.CONSOLE_NICENESS), so on a busy
    machine it catches up later than ``arb run`` waits for. False at the timeout."""
    deadline = time.monotonic() + HISTORY_WAIT_S
    while time.monotonic() < deadline and not hurry.is_set():
        db = open_database(database_url)
        try:
            migrated = await schema_version(db) > 0
        except Exception:  # not there yet, or busy: asked again
            migrated = False
        finally:
            await db.close()
        if migrated and await recorder_written(redis):
            return True
        await asyncio.sleep(0.5)
    return False


async def _trade_history(
    database_url: str, since_ns: int, marks: dict[str, Decimal]
) -> tuple[list[Any], Decimal, Decimal]:
    """The run's results from the recorder's database, ``arb pnl``'s marked-to-market, and
    how much re-marking its open parts at ``marks`` changes it."""
    db = open_database(database_url)
    try:
        trades = await fetch_trades(db, TradeFilter(since_ns=since_ns))
        counted = await open_parts(db, trades)
    finally:
        await db.close()
    total = pnl_report(trades, counted, [])["total"]
    return list(trades), dec(total["marked_to_market"]), remark(trades, counted, marks)


async def _run(args: argparse.Namespace) -> int:
    chaos = _Chaos(args, Signals())
    unknown = [v for v in chaos.venues if v not in VENUE_NAMES]
    if unknown:
        known = ", ".join(VENUE_NAMES)
        raise ConfigError(f"--venues: unknown {', '.join(unknown)}; known: {known}")
    if not chaos.venues or not chaos.symbols:
        raise ConfigError("--venues and --symbols: give at least one each")
    if args.duration <= 0:
        raise ConfigError(f"--duration {args.duration}: give the fault window in seconds (> 0)")
    if os.environ.get("ARB_REDIS_URL"):
        raise ConfigError("ARB_REDIS_URL is set: arb chaos kills its Redis, so it runs its own "
                          "embedded one; unset ARB_REDIS_URL")  # fmt: skip
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="arb-chaos-"))
    run_dir = logs_folder(data_dir)
    server, url = start_redis(data_dir, fresh=True)
    assert server is not None  # ARB_REDIS_URL is refused above
    print(f"arb chaos: seed {args.seed}, {args.duration:.0f}s of faults; data and logs in "
          f"{data_dir}", file=sys.stderr, flush=True)  # fmt: skip
    grace_s = ExecutorSettings().reconcile_grace_s
    metrics_base = metrics_ports.base_port()  # one /metrics port per process, as arb run
    supervisor = Supervisor(run_dir, metrics_base=metrics_base)
    sim_proc = None
    control: _Control | None = None
    result: dict[str, Any] = {}
    try:
        # the recorder is under test here (the trade history is what is judged): at the
        # console's lower priority a busy machine starves it for minutes, and what it has not
        # read when Redis comes back empty is gone unless the executor publishes it again
        console = start_console(supervisor, url, data_dir, recorder_niceness=0)
        sim_proc, urls = start_simulator(chaos.venues, chaos.symbols, args.rate, url, run_dir,
                                         extra=["--seed", str(args.seed)],
                                         metrics_base=metrics_base)  # fmt: skip
        control = _Control(urls["control"])
        initial = {v: totals(ledger["balances"])
                   for v, ledger in (await control.ledgers(chaos.venues)).items()}  # fmt: skip
        started_ns = time.time_ns()
        start_services(supervisor, chaos.venues, chaos.symbols, url, urls, mode="live")
        redis = await connect(url)
        deadline = time.monotonic() + LIVE_WITHIN_S
        while not all_live(await collect(redis), chaos.venues, chaos.symbols):
            chaos.events.extend(supervisor.check())
            if time.monotonic() > deadline or chaos.signals.stop.is_set():
                raise ConfigError(f"not every book LIVE within {LIVE_WITHIN_S:.0f}s; the logs "
                                  f"are in {run_dir}")  # fmt: skip
            await asyncio.sleep(0.5)
        chaos.note("every book LIVE; waiting for the first result")
        while not await entries_added(redis, EXECUTIONS_STREAM):  # trading flows: faults start
            chaos.events.extend(supervisor.check())
            if time.monotonic() > deadline + FIRST_RESULT_WITHIN_S or chaos.signals.stop.is_set():
                chaos.note(f"no result within {FIRST_RESULT_WITHIN_S:.0f}s; faults start anyway")
                break
            await asyncio.sleep(0.5)
        chaos.note("faults start")
        await chaos.faults(supervisor, server, control)
        await control.disarm()
        if not server.alive:
            await asyncio.to_thread(server.start)
        chaos.note("faults over: kill switch on, settling")
        await redis.aclose()  # its connections may be to a Redis that was killed: new ones
        redis = await connect(url)
        settle_s, settled = await chaos.settle(redis, supervisor, grace_s)
        open_exposure = [row(e) for e in await _retried(lambda: list_open(redis), "exposure")]
        await stop_trading(supervisor, chaos.signals.hurry)
        recorded = await _history_ready(redis, console.database_url, chaos.signals.hurry)
        ledgers = await control.ledgers(chaos.venues)
        marks = await control.marks(chaos.venues, chaos.symbols)
        await redis.aclose()
        trades: list[Any] = []
        pnl = remarked = Decimal(0)
        if recorded:  # else judged without a history: every fill counts as lost
            trades, pnl, remarked = await _trade_history(console.database_url, started_ns,
                                                         marks)  # fmt: skip
        verdict = check(initial, ledgers, trades, open_exposure, pnl, marks, remarked)
        executor = supervisor.named(["executor"])[0]
        result = {
            "seed": args.seed, "duration_s": args.duration, "venues": chaos.venues,
            "symbols": chaos.symbols, "faults": counts(chaos.fired),
            "faults_total": len(chaos.fired), "executor_restarts": executor.restarts,
            "redis_restarts": chaos.redis_restarts,
            "service_restarts": {c.name: c.restarts for c in supervisor.children if c.restarts},
            "service_crashes": {c.name: c.crashes for c in supervisor.children if c.crashes},
            "settle_s": settle_s, "settled": settled, "history_complete": recorded,
            **verdict, "data_dir": str(data_dir), "logs": str(run_dir),
        }  # fmt: skip
        if not recorded:
            result["failed_checks"].append("history_complete")
            result["ok"] = False
    finally:
        await stop_children(supervisor, None, OTHERS_STOP_S, chaos.signals.hurry)
        if control is not None:
            await control.close()
        stop_simulator(sim_proc)
        server.stop()
    if args.json:
        print_json(result)
    else:
        _print(result)
    return 0 if result.get("ok") else 1


def _print(result: dict[str, Any]) -> None:
    keys = ("orders", "filled_orders", "results", "duplicate_orders", "executor_restarts",
            "redis_restarts", "pnl_recorded_quote", "pnl_remarked_quote", "pnl_ledger_quote",
            "pnl_error_quote")  # fmt: skip
    print(f"arb chaos seed {result['seed']}: {result['faults_total']} faults "
          f"{json.dumps(result['faults'])}")  # fmt: skip
    for key in keys:
        print(f"  {key:<22} {result[key]}")
    for key in ("lost_results", "misrecorded", "unexplained_exposure", "unreported_unhedged"):
        print(f"  {key:<22} {len(result[key])}" + "".join(f"\n    {i}" for i in result[key]))
    print("OK: every safety property held" if result["ok"]
          else f"FAILED: {', '.join(result['failed_checks'])}")  # fmt: skip


def add_parser(sub: Any, command: Any) -> None:
    p = sub.add_parser("chaos", help="the engine live on the simulator under seeded faults, "
                       "checked against the venues' ledgers")  # fmt: skip
    p.add_argument("--duration", type=float, default=240.0, help="seconds of faults")
    p.add_argument("--seed", type=int, default=1, help="seed of the schedule and the market")
    p.add_argument("--venues", default=DEFAULT_VENUES, help="venues, comma-separated")
    p.add_argument("--symbols", default=DEFAULT_SYMBOLS, help="symbols, comma-separated")
    p.add_argument("--rate", type=float, default=20.0, help="simulator updates/s per book")
    p.add_argument(
        "--data-dir",
        default=os.environ.get("ARB_DATA_DIR") or "",
        help="the run's folder (default: a new arb-chaos-* temporary folder)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verbose", action="store_true", help="each fault on stderr as it lands")
    p.set_defaults(func=command)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
