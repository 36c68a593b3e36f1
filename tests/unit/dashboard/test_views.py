"""What the dashboard shows, built from messages: best prices across venues, restarts, open
exposure, and log lines an operator can filter."""

from __future__ import annotations

import io
import json
import logging
import sys
from decimal import Decimal

import pytest
from arb_dashboard import views
from arb_runtime.config import ServiceSettings, load_settings, settings_config
from arb_runtime.errors import ConfigError
from arb_runtime.logging import ConsoleFormatter, JsonFormatter, make_formatter
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


def record(**extra: object) -> logging.LogRecord:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.getLogger("arb.executor").makeRecord(
            "arb.executor", logging.ERROR, __file__, 1, "order %s failed", ("x",),
            sys.exc_info(), extra=extra,
        )  # fmt: skip
    return rec


def test_json_lines_carry_every_extra_field_and_the_traceback_as_one_field() -> None:
    line = JsonFormatter("executor").format(
        record(
            venue="okx",
            symbol="BTC-USDT",
            opportunity_id="o-1",
            client_order_id="c-1",
            filled=Decimal("0.5"),
            legs=["buy", "sell"],
        )
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "order x failed" and entry["service"] == "executor"
    assert (entry["venue"], entry["symbol"], entry["opportunity_id"], entry["client_order_id"]) \
        == ("okx", "BTC-USDT", "o-1", "c-1")  # fmt: skip
    assert entry["filled"] == "0.5" and entry["legs"] == ["buy", "sell"]
    assert entry["exc_type"] == "ValueError" and "ValueError: boom" in entry["exc"]


def test_console_lines_are_readable_and_coloured_only_on_a_terminal(monkeypatch) -> None:
    plain = ConsoleFormatter("executor", colour=False).format(record(venue="okx", note="a b"))
    first = plain.splitlines()[0]
    assert first.endswith('arb.executor: order x failed  venue=okx note="a b"'), first
    assert "\x1b[" not in plain and "ValueError: boom" in plain

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = make_formatter("executor", "console", Terminal())
    assert "\x1b[" in coloured.format(record(venue="okx"))
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in make_formatter("executor", "console", Terminal()).format(record())
    assert "\x1b[" not in make_formatter("executor", "console", io.StringIO()).format(record())


def test_an_unknown_log_format_is_a_one_line_config_error(monkeypatch) -> None:
    class Settings(ServiceSettings):
        model_config = settings_config("ARB_THING_")

    monkeypatch.setenv("ARB_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match=r"ARB_THING_LOG_FORMAT \(or ARB_LOG_FORMAT\)='xml'"):
        load_settings(Settings)
