"""The detector bench finds the injected dislocations and reports the cost per update."""

from __future__ import annotations

import pytest
from arb_bench.detector import run

pytestmark = pytest.mark.unit


def test_bench_reports_the_cost_per_update() -> None:
    report = run(0.05)
    assert report["updates"] > 0
    assert report["opportunities"] > 0  # the injected dislocations are found
    assert 0 < report["p50_us"] <= report["p99_us"] <= report["max_us"]
