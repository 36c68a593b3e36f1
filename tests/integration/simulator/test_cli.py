"""`python -m arb_simulator` as a process: prints its URLs as JSON, serves, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.integration


def test_cli_prints_urls_serves_the_control_api_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_simulator", "--venues", "binance,okx", "--symbols",
         "BTC-USDT,ETH-USDT", "--rate", "50", "--inject-interval", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read().decode() if proc.stderr else ""
        where = json.loads(line)
        assert set(where["venues"]) == {"binance", "okx"}
        assert where["venues"]["okx"]["ws"].endswith("/ws/v5/public")  # OKX's own path
        with urllib.request.urlopen(f"{where['control']}/control/status", timeout=10) as status:
            body = json.load(status)
        assert body["running"] is True and body["mode"] == "market"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_cli_refuses_a_bad_setting_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    done = subprocess.run(
        [sys.executable, "-m", "arb_simulator", "--venues", "ftx"],
        capture_output=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"ftx" in done.stderr and b"Traceback" not in done.stderr
