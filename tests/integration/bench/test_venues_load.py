"""The venues_load section through real processes, small: two venues (one that sends a frame
per book change, one that coalesces at 100 ms) at a low rate, a short window. No timing
thresholds: the numbers belong to `make bench`. Outside make test: `make test-bench`
(ARB_TEST_BENCH=1), as the engine's start alone takes 10-15 s on a loaded 2-core box."""

from __future__ import annotations

import os

import pytest
from arb_bench.venues_load import venues_load_point, venues_load_rows

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("ARB_TEST_BENCH") != "1",
        reason="the whole engine on two venues (~20 s here): `make test-bench` "
        "(ARB_TEST_BENCH=1); tests/unit/bench/test_venues_load.py is its pure part",
    ),
]

VENUES = ("coinbase", "binance")
SYMBOLS = ("BTC-USDT", "ETH-USDT")
RATE = 100  # book updates/s per venue


async def test_every_venue_at_once_reports_each_venues_feed_and_the_verdict(
    redis_url: str, tmp_path
) -> None:
    point = await venues_load_point(redis_url, None, 2.0, tmp_path, VENUES, SYMBOLS, RATE,
                                    live_timeout_s=20.0)  # fmt: skip
    assert "error" not in point, point
    assert point["live_after_s"] is not None and point["live_share"] == 1.0
    assert point["restarts"] == 0 and point["backlog_growing"] is False
    coinbase, binance = point["per_venue"]["coinbase"], point["per_venue"]["binance"]
    # Coinbase level2 sends every change as a frame: what the market made arrived
    assert coinbase["frame_per_change"] and coinbase["made_updates_per_s"] > 0.5 * RATE
    assert 0.7 * coinbase["made_updates_per_s"] <= coinbase["delivered_frames_per_s"]
    # Binance's @depth@100ms merges them: at most ten frames per symbol per second
    assert not binance["frame_per_change"]
    assert 0 < binance["delivered_frames_per_s"] < 0.5 * binance["made_updates_per_s"]
    assert binance["level_updates_per_s"] > binance["delivered_frames_per_s"]
    for venue in (coinbase, binance):
        assert venue["ws_to_book"]["views"] > 0 and venue["ingest_us_per_frame"] > 0
    for name in ("ingest-coinbase", "ingest-binance", "book", "detector", "simulator"):
        assert point["cpu"][name]["us_per_msg"] > 0, name
    assert point["verdict"]["per_change_venues_short"] == []
    assert point["simulator_us_per_update"] > 0 and point["engine_us_per_update"] > 0
    rows = venues_load_rows(point)
    assert len(rows) == 4 + len(VENUES) and rows[0].startswith("| venues_load: 2 venues x 100")
