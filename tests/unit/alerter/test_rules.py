"""Alert rules and the policy around them: which alerts, with which keys, how often."""

from __future__ import annotations

import msgspec
import pytest
from arb_alerter import rules
from arb_alerter.alerts import Alert, Severity
from arb_alerter.config import AlerterSettings
from arb_alerter.policy import Deduplicator, RateLimiter
from arb_alerter.sinks import TELEGRAM_TEXT_LIMIT, TelegramSink
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError
from arb_structs import BookState, BookView, ExposureKind, Health, KillSwitch

from tests.unit.recorder import factories

pytestmark = pytest.mark.unit

S = 10**9


def test_an_unhedged_result_and_its_exposure_event_are_one_alert() -> None:
    opp = factories.opportunity(3)
    from_result = rules.from_result(factories.unhedged(opp))
    event = factories.exposure(opp, ExposureKind.UNHEDGED, size="0.5", ts=1)
    from_event = rules.from_exposure(event)
    assert from_result is not None and from_event is not None
    assert from_result.key == from_event.key == f"unhedged_exposure:{opp.id}"
    assert from_result.severity is Severity.CRITICAL
    # whichever comes first, the alert names the size left open the same way
    assert from_event.fields["unhedged_size"] == event.size
    assert from_result.fields["unhedged_size"] == factories.unhedged(opp).unhedged_size
    assert rules.from_result(factories.filled(opp)) is None
    assert rules.from_exposure(msgspec.structs.replace(event, kind=ExposureKind.CLOSED)) is None
    unexplained = rules.from_exposure(msgspec.structs.replace(event, kind=ExposureKind.UNEXPLAINED))
    assert unexplained is not None and unexplained.rule == "unexplained_exposure"


def test_kill_switch_and_open_breakers_alert_closed_ones_do_not() -> None:
    kill = rules.kill_switch(KillSwitch(reason="drill", ts=5, by="ops"))
    assert kill is not None and "drill" in kill.text and kill.key == "kill_switch:5"
    assert rules.kill_switch(None) is None
    alerts = rules.breakers({"okx": 100 * S, "bybit": 5 * S}, now_ns=10 * S)
    assert [a.fields["venue"] for a in alerts] == ["okx"]


def view(venue: str, symbol: str, state: BookState, ts: int) -> BookView:
    return BookView(venue=venue, symbol=symbol, state=state, seq=1, bids=[], asks=[],
                    ts_event=0, ts_recv=0, ts_book=ts, ts_update=ts)  # fmt: skip


def test_a_venue_halted_longer_than_the_bound_alerts_once_per_outage() -> None:
    state = rules.StateRules(halted_after_s=30)
    halted = [view("okx", "BTC-USDT", BookState.HALTED, 100 * S),
              view("okx", "ETH-USDT", BookState.HALTED, 110 * S),
              view("binance", "BTC-USDT", BookState.LIVE, 100 * S)]  # fmt: skip
    assert state.venues_down(halted, now_ns=120 * S) == []  # 20 s: not yet
    (alert,) = state.venues_down(halted, now_ns=131 * S)
    assert alert.fields == {"venue": "okx", "symbols": "BTC-USDT", "since_ns": 100 * S}
    later = state.venues_down(halted, now_ns=200 * S)
    assert later[0].key == alert.key  # the same outage: the same key (de-duplicated)
    state.venues_down([view("okx", "BTC-USDT", BookState.LIVE, 201 * S)], now_ns=201 * S)
    again = state.venues_down([view("okx", "BTC-USDT", BookState.HALTED, 300 * S)], 340 * S)
    assert again and again[0].key != alert.key  # a new outage alerts anew


def test_a_new_start_time_of_an_instance_is_a_restart() -> None:
    state = rules.StateRules(halted_after_s=30)

    def beat(started: int) -> Health:
        return Health(service="book", instance="vm", status="ok", ready=True, started=started)

    assert state.restarts([beat(1 * S)]) == []  # first sight
    assert state.restarts([beat(1 * S)]) == []
    (alert,) = state.restarts([beat(50 * S)])
    assert alert.rule == "service_restart" and "49s" in alert.text
    assert state.restarts([beat(1 * S)]) == []  # a stale beat is not a restart


def test_the_daily_loss_alerts_near_the_limit_and_at_it() -> None:
    from decimal import Decimal

    loss = rules.DailyLoss()
    opp = factories.opportunity(1, ts=1_796_601_600 * S + S)
    bad = msgspec.structs.replace(factories.filled(opp), realised_pnl="-85")
    loss.add(bad)
    loss.add(bad)  # the same result twice counts once
    now = bad.ts_done + S
    assert loss.alert(Decimal(100), 0.9, now) is None  # 85 % < 90 %
    warn = loss.alert(Decimal(100), 0.8, now)
    assert warn is not None and warn.key.endswith(":warn") and warn.severity is Severity.WARNING
    loss.add(msgspec.structs.replace(bad, opportunity_id="opp-9", realised_pnl="-20"))
    limit = loss.alert(Decimal(100), 0.8, now)
    assert limit is not None and limit.key.endswith(":limit")
    assert loss.alert(Decimal(100), 0.8, now + 86_400 * S) is None  # another day


def test_the_daily_loss_counts_an_opportunitys_latest_open_part_only() -> None:
    from decimal import Decimal

    loss = rules.DailyLoss()
    opp = factories.opportunity(2, ts=1_796_601_600 * S + S)
    first = factories.unhedged(opp, mark="99.5")  # long 0.5 from 100: -0.25 open
    later = factories.recovered(opp, first, sold="0.3", price="100.4", mark="99")  # -0.2 open
    loss.add(later)
    loss.add(first)  # arrives late: realised counts, its older open part does not
    realised = Decimal(first.realised_pnl) + Decimal(later.realised_pnl)
    assert loss.pnl == realised + Decimal("-0.2")


def test_one_key_is_sent_once_per_window() -> None:
    dedup = Deduplicator(window_s=60)
    assert dedup.first("a", now=0) and not dedup.first("a", now=59)
    assert dedup.first("b", now=59) and dedup.first("a", now=61)


def test_the_rate_limit_holds_back_the_excess_and_sums_it_up_later() -> None:
    limiter = RateLimiter(per_minute=3)
    assert [limiter.take(0.0) for _ in range(5)] == [True, True, True, False, False]
    assert limiter.summary(1.0) is None  # no token yet for the summary either
    summary = limiter.summary(21.0)  # 20 s later: one token back
    assert summary is not None and summary.fields == {"suppressed": 2}
    assert limiter.summary(60.0) is None  # said once


def test_telegram_gets_a_send_message_body_within_its_length_limit() -> None:
    sink = TelegramSink(None, "http://x", "1:tok", "@ops", 5.0)  # type: ignore[arg-type]
    alert = Alert(rule="r", key="k", severity=Severity.WARNING, title="t", text="x" * 5000)
    body = sink.body(alert)
    assert body["chat_id"] == "@ops" and body["text"].startswith("[WARNING] t\n")
    assert len(body["text"]) == TELEGRAM_TEXT_LIMIT


def test_a_half_configured_telegram_sink_is_a_one_line_config_error(monkeypatch) -> None:
    monkeypatch.setenv("ARB_ALERTER_TELEGRAM_BOT_TOKEN", "1:secret")
    with pytest.raises(ConfigError, match="ARB_ALERTER_TELEGRAM_CHAT_ID is not") as caught:
        load_settings(AlerterSettings)
    assert "1:secret" not in str(caught.value)
