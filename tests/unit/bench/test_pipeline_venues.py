"""The pipeline section's venues are ones whose feed carries the offered rate as frames."""

from __future__ import annotations

from arb_bench.pipeline import PIPELINE_VENUES
from arb_venues import get_venue, venue_specs


def test_the_pipeline_runs_two_venues_that_send_a_frame_per_change() -> None:
    assert len(PIPELINE_VENUES) == 2
    assert all(get_venue(venue).frame_per_change for venue in PIPELINE_VENUES)


def test_a_venue_that_coalesces_is_not_one_of_them() -> None:
    coalescing = {spec.name for spec in venue_specs() if not spec.frame_per_change}
    assert {"okx", "binance", "bybit", "htx", "bitget", "cryptocom"} <= coalescing
    assert not coalescing & set(PIPELINE_VENUES)
