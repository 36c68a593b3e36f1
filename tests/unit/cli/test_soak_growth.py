"""arb soak's growth judgement: a least-squares slope over the samples after the warm-up."""

from __future__ import annotations

from arb_cli.soak import STREAM_SLACK, growth, slope
from arb_structs.constants import MD_MAXLEN, md_stream, stream_maxlen


def test_slope_of_a_line_is_its_rate() -> None:
    assert slope([(0, 5.0), (1, 7.0), (2, 9.0)]) == 2.0
    assert slope([(0, 1.0)]) == 0.0


def test_a_steady_leak_grows_and_noise_around_a_plateau_does_not() -> None:
    mb = 2**20
    leak = [(t, 70 * mb + t * 0.2 * mb) for t in range(0, 300, 10)]  # 12 MB a minute
    noise = [(t, 70 * mb + (mb if t % 20 else -mb)) for t in range(0, 300, 10)]
    warm_up = [(t, 40 * mb + min(t, 30) * mb) for t in range(0, 300, 10)]  # start-up, then flat
    judged = growth({"leak": leak, "noise": noise, "warm": warm_up},
                    dict.fromkeys(("leak", "noise", "warm"), "rss_bytes"))  # fmt: skip
    assert judged["leak"]["grows"]
    assert not judged["noise"]["grows"]
    assert not judged["warm"]["grows"]


def test_open_fds_growing_by_a_few_over_the_run_is_flagged() -> None:
    fds = [(t, 19 + t // 60) for t in range(0, 600, 10)]  # one more every minute
    assert growth({"fds": fds}, {"fds": "open_fds"})["fds"]["grows"]
    flat = [(t, 19 + (t // 10) % 2) for t in range(0, 600, 10)]
    assert not growth({"fds": flat}, {"fds": "open_fds"})["fds"]["grows"]


def test_a_capped_stream_filling_up_is_bounded_and_one_past_its_cap_grows() -> None:
    cap = stream_maxlen(md_stream("binance"))
    assert cap == MD_MAXLEN
    filling = [(t, min(cap, t * 400)) for t in range(0, 600, 10)]  # from empty to its cap
    # The slope alone calls the filling stream growing (the old judgement's false alarm).
    assert growth({"s": filling}, {"s": "stream_length"})["s"]["grows"]
    judged = growth({"s": filling}, {"s": "stream_length"}, {"s": cap})["s"]
    assert judged["full"] and not judged["grows"]
    at_cap = [(t, cap + STREAM_SLACK) for t in range(0, 100, 10)]  # a node above: trimming
    assert not growth({"s": at_cap}, {"s": "stream_length"}, {"s": cap})["s"]["grows"]
    past = [(t, cap + t * 10) for t in range(0, 600, 10)]  # not trimmed: unbounded
    assert growth({"s": past}, {"s": "stream_length"}, {"s": cap})["s"]["grows"]
