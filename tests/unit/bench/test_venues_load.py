"""The venues_load section's pure parts (arb_bench.venues_load): counting md entries, the LIVE
share, the verdict on whether the load was carried, the feed labels and the table rows."""

from __future__ import annotations

from typing import Any

import pytest
from arb_bench.pipeline import Window, view_latencies
from arb_bench.report import parse_sections, table
from arb_bench.venues_load import (
    cores_at,
    feed_label,
    levels_in,
    live_share,
    us_per_update,
    venues_load_rows,
    verdict,
)
from arb_structs import BookDelta, BookSnapshot, BookState, BookView, VenueStatus
from arb_structs.codec import MD
from arb_structs.constants import PAYLOAD_FIELD

pytestmark = pytest.mark.unit


def _venue(per_change: bool, made: int | None, delivered: int, live: float = 1.0) -> dict:
    return {"frame_per_change": per_change, "asked_updates_per_s": 1000,
            "made_updates_per_s": made, "delivered_frames_per_s": delivered,
            "level_updates_per_s": delivered * 3, "ms_between_frames_per_symbol": 3.0,
            "live_share": live, "ingest_cpu_share": 0.1, "ingest_us_per_frame": 40.0,
            "ws_to_book": {"views": 10, "p50_ms": 1.0, "p99_ms": 4.0, "p999_ms": 5.0}}  # fmt: skip


CPU = {"book": {"cpu_share": 0.5, "us_per_msg": 20.0},
       "simulator": {"cpu_share": 0.95, "us_per_msg": 80.0}}  # fmt: skip


def test_md_entries_count_book_frames_and_every_level_not_status_events() -> None:
    snapshot = BookSnapshot(venue="okx", symbol="BTC-USDT", seq=1, bids=[(99.0, 1.0)] * 5,
                            asks=[(101.0, 1.0)] * 5, ts_event=0, ts_recv=1)  # fmt: skip
    delta = BookDelta(venue="okx", symbol="BTC-USDT", prev_seq=1, seq=2, bids=[(99.5, 2.0)],
                      asks=[(100.5, 0.0), (100.6, 1.0)], ts_event=0, ts_recv=2)  # fmt: skip
    status = VenueStatus(venue="okx", status="up")
    entries = [{PAYLOAD_FIELD: MD.encode(e)} for e in (snapshot, delta, status)]
    assert levels_in(entries) == (2, 13)
    assert levels_in([]) == (0, 0)


def test_live_share_is_over_every_sample_and_book() -> None:
    samples = [{"okx": 3, "binance": 1}, {"okx": 3, "binance": 2}]
    assert live_share(samples, "okx", 3) == 1.0
    assert live_share(samples, "binance", 3) == 0.5
    assert live_share(samples, "kraken", 3) == 0.0  # never LIVE in any sample
    assert live_share([], "okx", 3) is None  # nothing sampled: unknown, not 0


def test_carried_when_per_change_venues_deliver_what_the_market_made() -> None:
    venues = {"okx": _venue(True, 1000, 990), "binance": _venue(False, 1000, 30)}
    v = verdict(venues, CPU, False, 0.6, 0.8)
    assert v["carried"] is True  # Binance's 30 frames/s is its cadence, not a shortfall
    assert v["per_change_venues_short"] == [] and v["simulator_short"] == []
    assert v["cpu_bound"] == ["simulator"]
    assert v["machine_saturated"] is False and v["simulator_cores_needed"] == 0.8
    assert v["processes_cpu_cores"] == 1.45


def test_not_carried_names_what_fell_short() -> None:
    venues = {"okx": _venue(True, 950, 400), "coinbase": _venue(True, 300, 295),
              "binance": _venue(False, None, 30, live=0.9)}  # fmt: skip
    v = verdict(venues, CPU, False, 0.995, 1.4)
    assert v["carried"] is False
    assert v["per_change_venues_short"] == ["okx"]  # coinbase delivered what was made
    assert v["simulator_short"] == ["coinbase", "binance"]  # made < 90 % of 1,000, or unknown
    assert v["venues_not_all_live"] == ["binance"]
    assert v["machine_saturated"] is True
    # a growing backlog alone is enough to say no
    fine = {"okx": _venue(True, 1000, 1000)}
    assert verdict(fine, CPU, True, 0.5, 0.5)["carried"] is False


def test_cpu_per_update_made_and_the_cores_it_takes_at_the_asked_rate() -> None:
    assert us_per_update(0.6, 12_000) == 50.0
    assert us_per_update(None, 12_000) is None
    assert us_per_update(0.6, 0) is None
    assert cores_at(116.2, 12_000) == 1.39  # one simulator process cannot make that
    assert cores_at(None, 12_000) is None


def test_feed_label_says_what_the_spec_and_the_run_say() -> None:
    assert feed_label(_venue(True, 1000, 995)) == "a frame per change"
    assert feed_label(_venue(True, 1000, 500)).endswith("delivered less than made")
    assert feed_label(_venue(False, 1000, 30)).startswith("coalesces")
    assert feed_label(_venue(False, 1000, 990)) == "VenueSpec: coalesces; here a frame per change"
    assert feed_label(_venue(False, None, 0)).startswith("coalesces")


def test_view_latencies_split_the_first_hop_from_the_book_service() -> None:
    def view(ts_recv: int, ts_read: int, ts_book: int) -> BookView:
        return BookView(venue="okx", symbol="BTC-USDT", state=BookState.LIVE, seq=1, bids=[],
                        asks=[], ts_event=0, ts_recv=ts_recv, ts_book=ts_book,
                        ts_read=ts_read)  # fmt: skip

    to_book, stages = view_latencies([view(1_000_000, 3_000_000, 4_000_000),
                                      view(0, 0, 9_000_000),  # a staleness sweep: not timed
                                      view(1_000_000, 0, 2_000_000)])  # fmt: skip
    assert to_book == [3.0, 1.0]
    assert stages == {"ingest + hop 1": [2.0], "book": [1.0]}


def test_the_window_judges_the_backlog_per_venue() -> None:
    lags: dict[str, list[int | None]] = {"okx": [5, 8, 4, 6, 7, 5],
                                         "binance": [10, 300, 600, 900, 1200, 1500]}  # fmt: skip
    window = Window(0, 10**9, 1.0, {"okx": 900, "binance": 30}, {}, {}, lags)
    backlog = window.backlog()
    assert backlog["backlog_growing"] is True
    assert backlog["book_lag_ms"] == {"okx": 5, "binance": 1500}
    assert window.delivered_per_s == 930
    lags["binance"] = [None, None, None]  # never checkpointed: not keeping up at all
    assert window.backlog()["backlog_growing"] is True


def _point() -> dict[str, Any]:
    venues = {"okx": _venue(True, 1000, 990), "binance": _venue(False, 1000, 30)}
    return {
        "venues": ["okx", "binance"], "rate_per_venue": 1000, "asked_updates_per_s": 2000,
        "made_updates_per_s": 2000, "delivered_frames_per_s": 1020, "level_updates_per_s": 3060,
        "window_s": 25.0, "live_share": 1.0,
        "ws_to_book": {"views": 900, "p50_ms": 2.0, "p99_ms": 9.0, "p999_ms": 12.0},
        "ws_to_opportunity": {"n": 40, "p50_ms": 3.0, "p99_ms": 11.0, "p999_ms": 11.0},
        "injected": {"injected": 120, "injected_detectable": 118, "injected_detected": 117},
        "stages": {"ingest + hop 1": {"n": 900, "p50_ms": 1.5, "p99_ms": 7.0},
                   "book": {"n": 900, "p50_ms": 0.5, "p99_ms": 2.0}},
        "backlog_growing": False, "cpu": CPU, "simulator_us_per_update": 60.0,
        "engine_us_per_update": 90.0, "machine_busy_share": 0.97, "cpus": 2,
        "per_venue": venues, "verdict": verdict(venues, CPU, False, 0.97, 0.12, 0.18),
    }  # fmt: skip


def test_rows_give_the_whole_the_verdict_the_cpu_and_each_venue() -> None:
    assert "venues_load" in parse_sections("pipeline,venues_load")
    rows = venues_load_rows(_point())
    assert len(rows) == 4 + 2
    head = "| venues_load: 2 venues x 1,000 msgs/s"
    assert rows[0].startswith(f"{head} offered, 25.0 s | 2,000 updates/s asked, 2,000/s made by "
                              "the simulator; 1,020 frames/s")  # fmt: skip
    assert "ws -> opportunity p50 3.0 ms, p99 11.0 ms (n=40)" in rows[0]
    assert "injected dislocations detected 117 of 118; backlog growing: no" in rows[0]
    # all made was delivered, all LIVE, no backlog: carried, though the box was full
    assert rows[1].startswith(f"{head}: carried? | yes; ")
    assert "one simulator process needs 0.12 cores" in rows[1]
    assert "the machine was saturated (97.0% of its 2 cores busy" in rows[1]
    assert "CPU-bound (>= 90% of a core): simulator" in rows[1]
    assert "the engine (services and Redis) 90.0 us, 0.18 cores at that rate" in rows[1]
    assert "book 20.0, simulator 80.0 (book 0.5, simulator 0.95)" in rows[2]
    assert rows[3] == (f"{head}: each stage | ingest + hop 1 p50 1.5 ms, p99 7.0 ms (n=900); "
                       "book p50 0.5 ms, p99 2.0 ms (n=900) |")  # fmt: skip
    assert rows[4].startswith(f"{head}: okx (a frame per change) | 1,000 updates/s made, 990 "
                              "frames/s delivered")  # fmt: skip
    assert "binance (coalesces: a frame per symbol per interval, however many changes)" in rows[5]
    # the report's table carries the same rows
    assert table({"venues_load": _point()}).splitlines()[2:] == rows


def test_an_error_is_one_row() -> None:
    rows = venues_load_rows({"venues": ["okx"], "rate_per_venue": 1000, "error": "boom"})
    assert rows == ["| venues_load: 1 venues x 1,000 msgs/s | boom |"]
