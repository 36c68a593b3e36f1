"""The pipeline's hop 2 over every view: the detector's view-lag histogram, read twice."""

from __future__ import annotations

import pytest
from arb_bench.measure import histogram_buckets, histogram_latency
from prometheus_client import CollectorRegistry, Histogram, generate_latest

pytestmark = pytest.mark.unit

NAME = "arb_detector_view_lag_seconds"


def _page(observations: list[float]) -> str:
    """A real /metrics page of a histogram with the detector's buckets."""
    registry = CollectorRegistry()
    histogram = Histogram(NAME, "lag", registry=registry,
                          buckets=(0.0005, 0.001, 0.002, 0.005))  # fmt: skip
    for value in observations:
        histogram.observe(value)
    return generate_latest(registry).decode()


def test_the_buckets_are_read_from_a_metrics_page() -> None:
    got = histogram_buckets(_page([0.0003, 0.0015, 0.0015, 0.01]), NAME)
    assert got == {0.0005: 1.0, 0.001: 1.0, 0.002: 3.0, 0.005: 3.0, float("inf"): 4.0}
    assert histogram_buckets("other_metric 1\n", NAME) == {}


def test_the_window_is_the_difference_of_two_readings() -> None:
    before = histogram_buckets(_page([0.004] * 50), NAME)  # before the window: not counted
    after = histogram_buckets(_page([0.004] * 50 + [0.0008] * 60 + [0.0018] * 39 + [0.5]), NAME)
    got = histogram_latency(before, after)
    assert got["n"] == 100
    assert got["p50_at_most_ms"] == 1.0  # 60 of 100 at most 1 ms
    assert got["p99_at_most_ms"] == 2.0  # 99 of 100 at most 2 ms
    assert got["buckets_ms"] == [0.5, 1.0, 2.0, 5.0]


def test_a_quantile_beyond_the_last_bound_or_no_observation_has_no_bound() -> None:
    slow = histogram_buckets(_page([0.3] * 10), NAME)
    assert histogram_latency({}, slow)["p50_at_most_ms"] is None
    assert histogram_latency(slow, slow) == {"n": 0, "p50_at_most_ms": None,
                                             "p99_at_most_ms": None,
                                             "buckets_ms": [0.5, 1.0, 2.0, 5.0]}  # fmt: skip
