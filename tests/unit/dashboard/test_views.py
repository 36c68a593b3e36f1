"""What the dashboard shows, built from messages: best prices across venues, restarts, open
exposure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_dashboard import views
from arb_structs import BookState, BookView, ExposureKind, Health

from tests.unit.recorder import factories

pytestmark = pytest.mark.unit


def book(venue: str, bid: float, ask: float, state: BookState = BookState.LIVE) -> BookView:
    return BookView(venue=venue, symbol="BTC-USDT", state=state, seq=1, bids=[(bid, 1.0)],
                    asks=[(ask, 1.0)], ts_event=0, ts_recv=0, ts_book=0)  # fmt: skip


def test_the_cross_venue_spread_uses_live_books_only() -> None:
    (row,) = views.best_prices([
        book("binance", 100.0, 100.5), book("okx", 101.0, 101.2),
        book("bybit", 105.0, 99.0, BookState.SUSPECT),  # not tradable: shown, not counted
    ])  # fmt: skip
    assert row["best_bid"] == {"price": 101.0, "venue": "okx"}
    assert row["best_ask"] == {"price": 100.5, "venue": "binance"}
    assert row["spread_bps"] == pytest.approx((101.0 - 100.5) / 100.5 * 1e4, abs=0.01)
    assert [q["venue"] for q in row["quotes"]] == ["binance", "bybit", "okx"]


def test_restarts_count_new_start_times_per_instance() -> None:
    restarts = views.Restarts()

    def beat(started: int) -> Health:
        return Health(service="detector", instance="a", status="ok", ready=True, started=started)

    assert [restarts.see(beat(s)) for s in (5, 5, 9, 9, 7, 12)] == [0, 0, 1, 1, 1, 2]


def test_open_exposure_comes_from_events_and_unreported_unhedged_results() -> None:
    opp, other = factories.opportunity(1), factories.opportunity(2)
    exposure = views.OpenExposure()
    exposure.result(factories.unhedged(other, mark="99.5"))  # no event for this saga yet
    assert exposure.total() == Decimal("0.5") * Decimal("99.5")
    exposure.event(factories.exposure(opp, ExposureKind.UNHEDGED, size="0.5", ts=1))
    assert exposure.total() == 2 * Decimal("0.5") * Decimal("99.5")
    exposure.event(factories.exposure(opp, ExposureKind.CLOSED, size="0", ts=2))
    exposure.event(factories.exposure(other, ExposureKind.CLOSED, size="0", ts=3))
    assert exposure.total() == 0 and exposure.open_items() == []
