"""The PnL report's arithmetic, against sums done here by hand from the fills."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_history.pnl import money, report
from arb_history.queries import TimeFormatError, TradeFilter, parse_time
from arb_history.records import result_id

from tests.unit.recorder import factories

pytestmark = pytest.mark.unit

DAY = 1_796_601_600 * 10**9  # 2026-12-07T00:00:00Z


def trade(result) -> dict:
    """A result the way fetch_trades returns it (the fields the report reads)."""
    legs = [{"role": leg.role, "filled_size": leg.report.filled_size, "size": leg.intent.size,
             "avg_price": leg.report.avg_price} for leg in result.legs if leg.report]  # fmt: skip
    return {"result_id": result_id(result), "opportunity_id": result.opportunity_id,
            "status": result.status.value,
            "symbol": result.symbol, "buy_venue": result.buy_venue,
            "sell_venue": result.sell_venue, "realised_pnl": result.realised_pnl,
            "fees_quote": result.fees_quote, "unrealised_pnl": result.unrealised_pnl,
            "expected_pnl": result.expected_pnl, "ts_done": result.ts_done,
            "ts_received": result.ts_received, "ts_detect": result.ts_detect,
            "legs": legs}  # fmt: skip


def test_realised_fees_wins_and_slippage_per_group_add_up_to_the_total() -> None:
    one = factories.opportunity(1, ts=DAY + 10**9)
    two = factories.opportunity(2, symbol="ETH-USDT", buy_venue="okx", sell_venue="bybit",
                                ts=DAY + 2 * 10**9)  # fmt: skip
    three = factories.opportunity(3, ts=DAY + 86_400 * 10**9)  # the next day
    results = [factories.filled(one), factories.filled(two, share="0.5", slip="0.9"),
               factories.refused(three)]  # fmt: skip
    pnl = report([trade(r) for r in results], set())
    total = pnl["total"]
    realised = sum(Decimal(r.realised_pnl) for r in results)
    assert Decimal(total["realised"]) == realised.quantize(Decimal("1e-8"))
    assert Decimal(total["fees"]) == sum(Decimal(r.fees_quote) for r in results)
    assert (total["results"], total["trades"], total["refused"]) == (3, 2, 1)
    # the half-filled one sold 0.9 under its limit: 0.25 * (100.1 - 100) < its fees
    assert Decimal(results[1].realised_pnl) < 0
    assert total["wins"] == 1 and total["win_rate"] == 0.5
    expected = Decimal(repr(one.net_profit)) + Decimal(repr(two.net_profit)) / 2
    assert Decimal(total["expected"]) == expected.quantize(Decimal("1e-8"))
    assert Decimal(total["slippage"]) == (expected - realised).quantize(Decimal("1e-8"))
    notional = Decimal("0.5") * 100 + Decimal("0.25") * 100
    assert Decimal(total["notional"]) == notional
    assert total["slippage_bps"] == pytest.approx(
        float((expected - realised) / notional * 10_000), abs=0.002
    )
    assert [b["key"] for b in pnl["by_day"]] == ["2026-12-07", "2026-12-08"]
    assert [b["key"] for b in pnl["by_pair"]] == ["binance->okx", "okx->bybit"]
    assert sum(Decimal(b["realised"]) for b in pnl["by_symbol"]) == Decimal(total["realised"])


def test_only_the_open_parts_named_are_marked() -> None:
    opp = factories.opportunity(4, ts=DAY)
    result = factories.unhedged(opp, mark="99.5")  # long 0.5 bought at 100: -0.25 marked
    still_open = report([trade(result)], {result_id(result)})["total"]
    assert Decimal(still_open["unrealised"]) == Decimal("-0.25")
    assert Decimal(still_open["marked_to_market"]) == (
        Decimal(result.realised_pnl) + Decimal("-0.25")
    )
    assert still_open["unhedged"] == 1 and still_open["trades"] == 1
    closed = report([trade(result)], set())["total"]  # closed, or superseded
    assert closed["unrealised"] == "0"
    assert closed["marked_to_market"] == closed["realised"]


def test_amounts_print_like_the_run_summary() -> None:
    assert money(Decimal("1689.746716570001")) == "1689.74671657"
    assert money(Decimal("-0.000000001")) == "0"
    assert money(Decimal("12.50")) == "12.5"


def test_time_filters_take_dates_times_spans_and_say_what_they_accept() -> None:
    now = DAY + 3600 * 10**9
    assert parse_time("2026-12-07", now_ns=now) == DAY
    assert parse_time("2026-12-07T01:00", now_ns=now) == now
    assert parse_time("2026-12-07T03:00+02:00", now_ns=now) == now
    assert parse_time("today", now_ns=now) == DAY
    assert parse_time("1h", now_ns=now) == DAY
    assert parse_time("90s", now_ns=now) == now - 90 * 10**9
    assert parse_time(str(now), now_ns=now) == now
    with pytest.raises(TimeFormatError, match=r"--since='yesterday-ish': not a time; use"):
        parse_time("yesterday-ish", what="--since")


def test_a_filter_is_one_where_clause_with_its_parameters() -> None:
    clause, params = TradeFilter(venue="OKX", symbol="btc-usdt", statuses=("filled", "hedged"),
                                 since_ns=5).where()  # fmt: skip
    assert clause == (" WHERE (r.buy_venue = :venue OR r.sell_venue = :venue) AND "
                      "r.symbol = :symbol AND r.status IN (:status0, :status1) AND "
                      "r.ts_done >= :since_ns")  # fmt: skip
    assert params == {"venue": "okx", "symbol": "BTC-USDT", "status0": "filled",
                      "status1": "hedged", "since_ns": 5}  # fmt: skip
    assert TradeFilter().where() == ("", {})
