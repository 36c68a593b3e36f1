"""arb_bench.feed_cpu's pure parts: the per-mode summary, and a bad --modes refused."""

from __future__ import annotations

import pytest
from arb_bench.feed_cpu import main, summary

pytestmark = pytest.mark.unit


def test_the_summary_gives_each_mode_its_median_and_spread_over_the_rounds() -> None:
    rows = [{"mode": "feed", "cpu_us_per_live_frame": v} for v in (90.0, 70.0, 80.0)]
    rows += [{"mode": "bare", "cpu_us_per_live_frame": 50.0}]
    assert summary(rows) == {
        "bare": {"median": 50.0, "min": 50.0, "max": 50.0, "rounds": 1},
        "feed": {"median": 80.0, "min": 70.0, "max": 90.0, "rounds": 3},
    }


def test_an_unknown_mode_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--modes", "feed,fast"])
    assert exited.value.code == 2
    assert "unknown modes ['fast']" in capsys.readouterr().err
