"""The arb command as a user runs it: real processes, real Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from arb_runtime.embedded import free_port

from tests.support_proc import reap

pytestmark = pytest.mark.integration


def arb(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arb_cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})  # fmt: skip


def test_help_lists_the_commands() -> None:
    result = arb("--help")
    assert result.returncode == 0
    for command in ("run", "status", "replay", "record", "redis", "kill", "resume", "sign", "bench",
                    "sim"):  # fmt: skip
        assert f"    {command} " in result.stdout


def test_bad_redis_url_is_one_clear_line_not_a_traceback() -> None:
    result = arb("status", env={"ARB_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "connection refused" in result.stderr and "ARB_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_arb_redis_prints_a_url_that_answers() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "arb_cli", "redis"], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("redis://127.0.0.1:")
        status = arb("status", "--json", env={"ARB_REDIS_URL": url})
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["kill_switch"] == {"engaged": False}
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def test_arb_redis_on_an_address_not_of_this_host_is_one_clear_line() -> None:
    result = arb("redis", "--host", "192.0.2.1", timeout=20)  # TEST-NET-1: nobody's
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "--host 192.0.2.1" in result.stderr and "address of this host" in result.stderr


def test_kill_switch_shows_in_status_and_releases(redis_url: str) -> None:
    env = {"ARB_REDIS_URL": redis_url}
    assert arb("kill", "--reason", "drill", env=env).returncode == 0
    engaged = json.loads(arb("status", "--json", env=env).stdout)["kill_switch"]
    assert engaged == {"engaged": True, "reason": "drill"}
    assert arb("resume", env=env).returncode == 0
    assert json.loads(arb("status", "--json", env=env).stdout)["kill_switch"]["engaged"] is False


def test_unknown_venue_for_sign_is_a_clear_error() -> None:
    result = arb("sign", "nowhere", "--secret", "s", "--method", "GET", "--path", "/")
    assert result.returncode == 2
    assert "unknown venue 'nowhere'" in result.stderr and "binance" in result.stderr


def test_arb_run_detects_and_trades_the_injected_dislocations_end_to_end(tmp_path) -> None:
    # Every stage as its own process over a private Redis, on the simulator: the summary is
    # scored against the simulator's ground truth.
    result = arb("run", "--venues", "binance,okx,bybit", "--symbols", "BTC-USDT,ETH-USDT",
                 "--duration", "24", "--json", "--data-dir", str(tmp_path),
                 env={"ARB_REDIS_URL": "", "ARB_DASHBOARD_PORT": str(free_port())},
                 timeout=90)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    # the first lines say where Redis (as the error for a missing ARB_REDIS_URL promises), the
    # run's logs and the dashboard are
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith("arb run: Redis redis://127.0.0.1:"), result.stderr[:300]
    assert f"; logs in {tmp_path / 'logs'}/" in first and second.startswith("dashboard: http://")
    summary = json.loads(result.stdout)
    # every book LIVE at some point (how fast is a bench number: arb run prints it, the
    # README shows it; on a loaded 2-core machine the start alone takes 10 s or more)
    assert summary["all_books_live_after_s"] is not None
    # and trading every venue (balances published) no earlier: the scoring window starts there
    assert summary["ready_after_s"] >= summary["all_books_live_after_s"]
    assert summary["errors"] == 0 and summary["unhedged"] == 0 and summary["failed"] == 0, summary[
        "failed_reasons"
    ]
    # a miss (neither IOC leg filled: the prices had moved; nothing held) is a market outcome
    # a loaded machine makes now and then, not an error; most executions must fill
    assert summary["missed"] <= summary["executed"] // 4, summary
    assert summary["injected_detectable"] >= 2, summary
    assert summary["injected_detected"] >= 0.8 * summary["injected_detectable"], summary
    assert summary["executed"] >= 1
    for stage in ("ws_to_book", "ws_to_opportunity", "opportunity_to_orders"):
        latency = summary["latency_ms"][stage]
        assert 0 < latency["p50"] <= latency["p99"] < 1_000, (stage, latency)


def test_arb_sim_passes_its_options_to_the_simulator_and_prints_the_urls() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_cli", "sim", "--venues", "binance", "--symbols", "BTC-USDT",
         "--inject-interval", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        where = json.loads(line)
        assert list(where["venues"]) == ["binance"]
        assert where["venues"]["binance"]["ws"].startswith("ws://127.0.0.1:")
        assert where["control"].startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        reap(proc)


def test_arb_sim_help_and_bad_options_are_the_simulators() -> None:
    shown = arb("sim", "--help")
    assert shown.returncode == 0 and "--base-port" in shown.stdout
    assert shown.stdout.startswith("usage: arb sim")
    refused = arb("sim", "--venues", "ftx")
    assert refused.returncode == 2
    assert refused.stderr.startswith("arb sim: ") and "ftx" in refused.stderr
    assert "Traceback" not in refused.stderr
