"""arb bench's pipeline through real processes, and its floor in the same run (no timing
thresholds: the numbers belong to `make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from arb_bench.pipeline import PIPELINE_VENUES

pytestmark = pytest.mark.integration

RATE = 600


def test_arb_bench_measures_the_pipeline_and_its_floor_through_real_processes(tmp_path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "arb_cli", "bench", "--sections", "detector,pipeline", "--rates",
         str(RATE), "--window", "3", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=150, env=dict(os.environ),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report) == {"meta", "detector", "pipeline"}
    assert report["meta"]["cpus"] and report["meta"]["python"] and report["meta"]["commit"]
    (point,) = report["pipeline"]
    assert point["rate"] == RATE and point["restarts"] == 0
    assert 0.7 * RATE <= point["delivered_per_s"] <= 1.3 * RATE  # what was offered arrived
    assert point["backlog_growing"] is False
    assert point["opportunities"] >= 1  # injected dislocations were found through every hop
    assert 0 < point["p50_ms"] <= point["p99_ms"] <= point["p999_ms"]
    assert point["ws_to_book"]["views"] > 100
    # hop 2 of every view, from the detector's own histogram over the window
    every = point["hop2_every_view"]
    assert every["n"] > 100 and every["p50_at_most_ms"] <= every["p99_at_most_ms"], every
    ingests = [f"ingest-{venue}" for venue in PIPELINE_VENUES]  # the two per-change venues
    for name in (*ingests, "book", "detector", "simulator", "redis"):
        assert point["cpu"][name]["us_per_msg"] > 0, name
    # The floor: the same load generator and rate through bare relays over the same two hops.
    floor = point["floor"]
    assert floor["rate"] == RATE and floor["restarts"] == 0, floor
    assert 0.7 * RATE <= floor["delivered_per_s"] <= 1.3 * RATE
    two, one = floor["ws_to_hop2"], floor["ws_to_hop1"]
    assert two["n"] == one["n"] > 50  # one sample per conflated entry that crossed both hops
    assert 0 < one["p50_ms"] < two["p50_ms"] <= two["p99_ms"]
    for name in (*[f"floor-{name}" for name in ingests], "floor-relay", "floor-reader",
                 "simulator", "redis"):  # fmt: skip
        assert floor["cpu"][name]["us_per_msg"] > 0, name
    assert point["vs_floor"]["ws_to_opportunity_p50"] == round(point["p50_ms"] / two["p50_ms"], 2)
    assert f"| pipeline {RATE} msgs/s offered" in result.stdout
    assert f"| floor {RATE} msgs/s: bare frame, 2 hops" in result.stdout
