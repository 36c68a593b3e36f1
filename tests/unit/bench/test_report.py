"""The pure parts of arb bench: percentiles, backlog growth, ratios and spreads, the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from arb_bench.measure import growing
from arb_bench.pipeline import versus_floor
from arb_bench.recordings import ReplaySet
from arb_bench.replay import _set_report, spread
from arb_bench.report import parse_rates, parse_sections, table
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
    assert not growing([0, 3, 1, 0, 2, 5, 1, 0, 4])  # steady, small
    assert not growing([40, 60, 30, 50, 45, 55])  # steady, batch-sized
    assert growing([10, 200, 400, 600, 800, 1000])  # rising past what a batch explains
    assert growing([None, None, None])  # the book service never checkpointed


def test_bad_sections_and_rates_are_one_clear_error() -> None:
    assert parse_sections("detector, pipeline") == ["detector", "pipeline"]
    with pytest.raises(ConfigError, match="unknown \\['pipelines'\\]"):
        parse_sections("pipelines")
    assert parse_rates("1000,20000") == [1000, 20000]
    for bad in ("", "fast", "0,10"):
        with pytest.raises(ConfigError, match="--rates"):
            parse_rates(bad)


def _ours(seconds: float, tops: list[list[float]]) -> dict:
    checks = {"frames": 100, "level_updates": 1000, "checksums_verified": 90}
    return {"seconds": [seconds, seconds * 3, seconds], "cpu_seconds": [seconds / 2] * 3,
            "checks": checks, "tops": tops, "measures": "arb replay"}  # fmt: skip


def test_ratios_are_per_round_against_ours_in_the_same_round_with_their_spread() -> None:
    tops = [[99.0, 101.0]]
    rounds = {
        # a round's figure is the median of its passes: 0.01, 0.02, 0.04
        "arb": [_ours(0.01, tops), _ours(0.02, tops), _ours(0.04, tops)],
        # cryptofeed: 3x, 2x, 2x ours in the same rounds
        "cryptofeed": [{"seconds": [0.03], "cpu_seconds": [0.01], "tops": tops},
                       {"seconds": [0.04], "cpu_seconds": [0.01], "tops": tops},
                       {"seconds": [0.08], "cpu_seconds": [0.01], "tops": tops}],
        # ccxt: 5x, 1x, 1.5x, and it ended with another book
        "ccxt": [{"seconds": [0.05], "tops": [[99.0, 102.0]]}, {"seconds": [0.02], "tops": tops},
                 {"seconds": [0.06], "tops": [[99.0, 102.0]]}],
    }  # fmt: skip
    report = _set_report(ReplaySet("okx", "okx", None, (Path("x"),), "fixtures: x"), 100, rounds)
    assert report["frames_per_s"] == round(100 / 0.02)  # median round of ours
    assert report["peers"]["cryptofeed"]["ratio"] == {"min": 2.0, "median": 2.0, "max": 3.0}
    assert report["peers"]["ccxt"]["ratio"] == {"min": 1.0, "median": 1.5, "max": 5.0}
    # CPU time: ours 0.005, 0.01, 0.02 per round; cryptofeed 0.01 each round: 2x, 1x, 0.5x
    assert report["peers"]["cryptofeed"]["cpu_ratio"] == {"min": 0.5, "median": 1.0, "max": 2.0}
    assert report["peers"]["ccxt"]["cpu_ratio"] is None  # it reported no CPU time
    assert report["peers"]["cryptofeed"]["same_final_books"] is True
    assert report["peers"]["ccxt"]["same_final_books"] is False
    # best peer per round: 3x (cryptofeed), 1x (ccxt), 1.5x (ccxt)
    assert report["vs_best_peer"] == {"min": 1.0, "median": 1.5, "max": 3.0}
    assert report["vs_best_peer_cpu"] == report["peers"]["cryptofeed"]["cpu_ratio"]


def test_a_peer_that_cannot_replay_a_venue_gives_no_ratio() -> None:
    rounds = {"arb": [_ours(0.01, [])], "cryptofeed": [{"unsupported": "v1 only"}]}
    report = _set_report(ReplaySet("kraken-v2", "kraken", "v2", (), "sim"), 100, rounds)
    assert report["peers"]["cryptofeed"] == {"unsupported": "v1 only"}
    assert "vs_best_peer" not in report
    assert spread([]) is None


def test_pipeline_over_floor_compares_two_hops_and_one_hop() -> None:
    point = {"p50_ms": 3.0, "p99_ms": 9.0, "ws_to_book": {"p50_ms": 2.0, "p99_ms": 4.0}}
    bare = {"ws_to_hop2": {"p50_ms": 1.5, "p99_ms": 3.0},
            "ws_to_hop1": {"p50_ms": 1.0, "p99_ms": 4.0}}  # fmt: skip
    assert versus_floor(point, bare) == {"ws_to_opportunity_p50": 2.0,
                                         "ws_to_opportunity_p99": 3.0,
                                         "ws_to_book_p50": 2.0, "ws_to_book_p99": 1.0}  # fmt: skip
    assert versus_floor({"error": "x"}, bare) == {}


def test_table_has_one_row_per_measurement() -> None:
    report = {
        "replay": {
            "okx": {"venue": "okx", "frames_per_s": 36000, "level_updates_per_s": 700000,
                    "vs_best_peer": {"min": 1.5, "median": 1.9, "max": 2.1},
                    "vs_best_peer_cpu": {"min": 1.8, "median": 2.0, "max": 2.2},
                    "peers": {"cryptofeed": {"frames_per_s": 19000, "same_final_books": True,
                                             "ratio": {"min": 1.5, "median": 1.9, "max": 2.1}},
                              "ccxt": {"error": "boom"}}},
            "not_measured": {"kucoin": "to come"},
            "peers_environment": {"python": "/x/bin/python"},
        },
        "detector": {"p50_us": 6.7, "p99_us": 65.0},
        "executor": {"paper": {"p50_us": 25.0, "p99_us": 109.0}},
        "pipeline": [
            {"rate": 1000, "tick_hz": 1000.0, "delivered_per_s": 1002, "p50_ms": 0.9,
             "p99_ms": 2.1, "p999_ms": 3.0, "opportunities": 40, "backlog_growing": False,
             "ws_to_book": {"views": 900, "p50_ms": 0.5, "p99_ms": 1.0, "p999_ms": 1.5},
             "cpu": {"book": {"us_per_msg": 20.5}},
             "stages": {"ingest + hop 1": {"n": 900, "p50_ms": 0.3, "p99_ms": 0.7},
                        "book": {"n": 900, "p50_ms": 0.1, "p99_ms": 0.2},
                        "hop 2": {"n": 40, "p50_ms": 0.3, "p99_ms": 0.9},
                        "detector": {"n": 40, "p50_ms": 0.05, "p99_ms": 0.1}},
             "floor": {"delivered_per_s": 1001, "cpu": {"floor-relay": {"us_per_msg": 9.0}},
                       "ws_to_hop2": {"n": 500, "p50_ms": 0.6, "p99_ms": 1.4},
                       "ws_to_hop1": {"n": 500, "p50_ms": 0.3, "p99_ms": 0.8}},
             "vs_floor": {"ws_to_opportunity_p50": 1.5, "ws_to_opportunity_p99": 1.5,
                          "ws_to_book_p50": 1.67, "ws_to_book_p99": 1.25}},
            {"rate": 20000, "error": "books not LIVE within 30 s; dead: ['book']"},
        ],
    }  # fmt: skip
    rows = table(report).splitlines()
    assert rows[0] == "| what | measured |" and len(rows) == 2 + 2 + 2 + 5 + 1
    assert ("vs best peer 1.9x (1.5-2.1), CPU time 2.0x (1.8-2.2) (cryptofeed 19,000 frames/s: "
            "1.9x (1.5-2.1); ccxt: boom)") in rows[2]  # fmt: skip
    assert rows[3] == "| replay kucoin | not measured: to come |"
    assert "p50 0.9 ms, p99 2.1 ms, p99.9 3.0 ms (n=40); backlog growing: no" in rows[6]
    assert "opportunity | market clock 1000 ticks/s, floor the same; 1,002 delivered/s" in rows[6]
    assert "p50 0.5 ms, p99 1.0 ms, p99.9 1.5 ms (n=900); CPU us per message: book 20.5" in rows[7]
    assert rows[8] == ("| pipeline 1,000 msgs/s: each stage | ingest + hop 1 p50 0.3 ms, p99 "
                       "0.7 ms (n=900); book p50 0.1 ms, p99 0.2 ms (n=900); hop 2 p50 0.3 ms, "
                       "p99 0.9 ms (n=40); detector p50 0.05 ms, p99 0.1 ms (n=40) |")  # fmt: skip
    assert "p50 0.6 ms, p99 1.4 ms (n=500); pipeline ws -> opportunity / floor: p50 1.5x" in rows[9]
    assert "ws -> book view / floor: p50 1.67x, p99 1.25x; CPU us per message: floor-relay 9.0" \
        in rows[10]  # fmt: skip
    assert "books not LIVE" in rows[11]


def test_the_point_without_the_hot_standby_is_its_own_row_beside_the_default() -> None:
    base = {"rate": 1000, "delivered_per_s": 1002, "p50_ms": 1.5, "p99_ms": 4.0,
            "p999_ms": 4.0, "opportunities": 30, "backlog_growing": False,
            "cpu": {"ingest-kucoin": {"us_per_msg": 180.0}},
            "ws_to_book": {"views": 900, "p50_ms": 0.7, "p99_ms": 2.8, "p999_ms": 5.0}}  # fmt: skip
    alone = {
        **base,
        "p50_ms": 1.0,
        "p99_ms": 2.4,
        "cpu": {"ingest-kucoin": {"us_per_msg": 124.0}},
        "ws_to_book": {"views": 950, "p50_ms": 0.5, "p99_ms": 1.6, "p999_ms": 3.5},
    }
    rows = table({"pipeline": [{**base, "without_standby": alone}]}).splitlines()
    (row,) = [r for r in rows if "without its hot standby" in r]
    assert row == ("| pipeline 1,000 msgs/s, ingest without its hot standby (ARB_INGEST_STANDBY="
                   "off) | 1,002 delivered/s; ws -> opportunity p50 1.0 ms, p99 2.4 ms (n=30); "
                   "ws -> book view p50 0.5 ms, p99 1.6 ms; backlog growing: no; CPU us per "
                   "message: ingest-kucoin 124.0 |")  # fmt: skip
    failed = table({"pipeline": [{**base, "without_standby": {"error": "books not LIVE"}}]})
    assert "| pipeline 1,000 msgs/s, ingest without its hot standby | books not LIVE |" in failed
    assert "without its hot standby" not in table({"pipeline": [base]})
