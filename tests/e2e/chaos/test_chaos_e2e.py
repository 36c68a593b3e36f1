"""`arb chaos` for real: simulator, embedded Redis, every service and the recorder as
processes; Redis killed and restarted (empty, and from its AOF), every service killed -9,
venue faults armed; then the venues' ledgers against the trade history.

The safety properties are asserted field by field (not only the exit code), and the report's
count of orders filled at the venues (from the simulator's ledgers) is checked against the
trade history database read here with sqlite3: every fill has its leg in the history.
`make chaos` runs the long version (240 s, three seeds).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arb_runtime.embedded import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DURATION_S = 20
SEED = 2


@dataclass(frozen=True)
class ChaosRun:
    report: dict[str, Any]
    returncode: int
    data: Path


@pytest.fixture(scope="module")
def chaos_run(tmp_path_factory: pytest.TempPathFactory) -> ChaosRun:
    """One short `arb chaos` run, judged by the tests below."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    env["ARB_DASHBOARD_PORT"] = str(free_port())  # not 8765: other runs may be up in parallel
    data = tmp_path_factory.mktemp("chaos") / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "arb_cli", "chaos", "--duration", str(DURATION_S), "--seed",
         str(SEED), "--venues", "binance,okx", "--symbols", "BTC-USDT,ETH-USDT", "--json",
         "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=850,
    )  # fmt: skip
    assert proc.stdout.strip(), proc.stderr[-3000:]
    return ChaosRun(json.loads(proc.stdout), proc.returncode, data)


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("faults", "failed_checks", "lost_results", "misrecorded",
                                   "unexplained_exposure", "unreported_unhedged",
                                   "pnl_error_quote", "logs")}  # fmt: skip


def test_chaos_short_run_loses_nothing_and_leaves_nothing_unreported(chaos_run: ChaosRun):
    report, data = chaos_run.report, chaos_run.data
    summary = {k: report[k] for k in ("faults", "failed_checks", "lost_results", "misrecorded",
                                      "unexplained_exposure", "unreported_unhedged",
                                      "pnl_error_quote", "logs")}  # fmt: skip
    # the faults happened
    assert report["redis_restarts"] >= 2, summary
    assert report["faults"].get("redis_restart_empty", 0) >= 1, summary
    assert report["faults"].get("redis_restart_aof", 0) >= 1, summary
    assert report["executor_restarts"] >= 1, summary
    assert {"kill_book", "kill_detector", "kill_recorder"} <= set(report["faults"]), summary
    # judged once everything was resolved: no saga open, no late order watched, no result
    # but refusals (the kill switch's) for a while (it took 120 s, the bound, while every
    # refusal counted as activity)
    assert report["settled"] is True, (report["settle_s"], summary)
    # trades happened, or nothing was proved
    assert report["filled_orders"] > 0, summary
    # the safety properties, each on its own
    assert report["duplicate_orders"] == 0, report["duplicates"]
    assert report["lost_results"] == [], summary
    assert report["misrecorded"] == [], summary
    assert report["unexplained_exposure"] == [], summary
    assert report["unreported_unhedged"] == [], summary
    assert report["history_complete"] is True
    # the history as the database holds it: every order the venues filled has a filled leg
    with sqlite3.connect(data / "trades.sqlite") as db:
        (filled_legs,) = db.execute(
            "SELECT COUNT(DISTINCT venue || ' ' || client_order_id) FROM orders "
            "WHERE CAST(filled_size AS REAL) > 0"
        ).fetchone()
    assert filled_legs == report["filled_orders"], summary


def test_chaos_recorded_pnl_equals_the_ledgers_within_fee_rounding(chaos_run: ChaosRun):
    report = chaos_run.report
    keys = ("pnl_recorded_quote", "pnl_ledger_quote", "pnl_error_quote",
            "pnl_tolerance_quote", "net_positions", "open_exposure")  # fmt: skip
    pnl = {k: report[k] for k in keys}
    assert abs(Decimal(report["pnl_error_quote"])) <= Decimal(report["pnl_tolerance_quote"]), pnl
    assert report["ok"] is True and chaos_run.returncode == 0, _summary(report)
