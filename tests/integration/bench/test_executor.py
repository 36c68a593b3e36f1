"""The executor benches report what `arb bench` reads (no timing thresholds: benches only)."""

from __future__ import annotations

import time

import pytest
from arb_bench import executor as bench

pytestmark = pytest.mark.integration

KEYS = {"mode", "n", "p50_us", "p99_us"}


def test_paper_bench_reports_send_latency() -> None:
    report = bench.run(0.2)
    assert report.keys() >= KEYS and report["mode"] == "paper"
    assert report["n"] > 0 and 0 < report["p50_us"] <= report["p99_us"]


def test_sim_bench_trades_over_loopback_and_reports_sent_and_acked() -> None:
    started = time.monotonic()
    report = bench.run_sim(0.3)
    assert time.monotonic() - started < 0.3 + 5.0  # seconds + startup, as `arb bench` expects
    assert KEYS | {"ack_p50_us", "ack_p99_us"} <= report.keys()
    assert report["n"] > 0
    assert 0 < report["p50_us"] <= report["p99_us"]
    assert report["p50_us"] < report["ack_p50_us"] <= report["ack_p99_us"]
