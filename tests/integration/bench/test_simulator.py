"""The simulator bench: a real simulator process, real WS clients, the report's shape and
verdict (no timing thresholds: the numbers themselves belong to `make bench`)."""

from __future__ import annotations

import pytest
from arb_bench import simulator as bench
from arb_simulator.catalog import DEFAULT_VENUES

pytestmark = pytest.mark.integration


def test_bench_symbols_give_binance_room_for_the_rate() -> None:
    symbols = bench.bench_symbols(2_000.0)
    assert len(symbols) == 240 and len(set(symbols)) == 240
    assert symbols[:3] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert len(bench.bench_symbols(1.0)) == 3


def test_run_reports_every_venue_delivered_and_a_verdict_below_target() -> None:
    report = bench.run(seconds=0.5, rate=100.0)
    delivery = report["delivery"]
    assert delivery["client_errors"] == [] and delivery["skipped_venues"] == []
    assert set(report["delivered_per_second"]) == set(DEFAULT_VENUES)
    assert all(rate > 0 for rate in report["delivered_per_second"].values()), report
    assert all(rate > 0 for rate in delivery["updates_per_second"].values()), report
    assert report["sim_cpu_seconds_per_message"] > 0
    # 100 msgs/s per venue offered: far from 2,000, so the verdict must say no.
    assert max(report["delivered_per_second"].values()) < 2_000
    assert report["meets_2000_per_venue"] is False
    assert report["generation"]["updates"] > 0
