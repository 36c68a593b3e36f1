"""The pure parts of arb bench: percentiles, backlog growth, the README table."""

from __future__ import annotations

import pytest
from arb_cli.bench import _growing, _rates, _sections, table
from arb_cli.scoring import percentile
from arb_runtime.errors import ConfigError

pytestmark = pytest.mark.unit


def test_percentile_is_nearest_rank_and_none_when_empty() -> None:
    values = list(range(1, 1001))
    assert percentile(values, 0.5) == 501
    assert percentile(values, 0.99) == 991
    assert percentile(values, 0.999) == 1000
    assert percentile([], 0.5) is None


def test_backlog_grows_only_when_the_lag_keeps_rising() -> None:
    assert not _growing([0, 3, 1, 0, 2, 5, 1, 0, 4])  # steady, small
    assert not _growing([40, 60, 30, 50, 45, 55])  # steady, batch-sized
    assert _growing([10, 200, 400, 600, 800, 1000])  # rising past what a batch explains
    assert _growing([None, None, None])  # the book service never checkpointed


def test_bad_sections_and_rates_are_one_clear_error() -> None:
    assert _sections("detector, pipeline") == ["detector", "pipeline"]
    with pytest.raises(ConfigError, match="unknown \\['pipelines'\\]"):
        _sections("pipelines")
    assert _rates("1000,20000") == [1000, 20000]
    for bad in ("", "fast", "0,10"):
        with pytest.raises(ConfigError, match="--rates"):
            _rates(bad)


def test_table_has_one_row_per_measurement() -> None:
    report = {
        "detector": {"p50_us": 6.7, "p99_us": 65.0},
        "executor": {"paper": {"p50_us": 25.0, "p99_us": 109.0}},
        "pipeline": [
            {"rate": 1000, "delivered_per_s": 1002, "p50_ms": 0.9, "p99_ms": 2.1, "p999_ms": 3.0,
             "opportunities": 40, "backlog_growing": False,
             "ws_to_book": {"views": 900, "p50_ms": 0.5, "p99_ms": 1.0, "p999_ms": 1.5},
             "cpu": {"book": {"us_per_msg": 20.5}}},
            {"rate": 20000, "error": "books not LIVE within 30 s; dead: ['book']"},
        ],
    }  # fmt: skip
    rows = table(report).splitlines()
    assert rows[0] == "| what | measured |" and len(rows) == 2 + 5
    assert "p50 0.9 ms, p99 2.1 ms, p99.9 3.0 ms (n=40); backlog growing: no" in rows[4]
    assert "p50 0.5 ms, p99 1.0 ms, p99.9 1.5 ms (n=900); CPU us per message: book 20.5" in rows[5]
    assert "books not LIVE" in rows[6]
