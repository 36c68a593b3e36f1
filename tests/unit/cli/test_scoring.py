"""Scoring a run against the simulator's ground truth (pure)."""

from __future__ import annotations

import pytest
from arb_cli.scoring import score
from arb_structs import ExecutionResult, ExecutionStatus, Opportunity, TruthEvent

pytestmark = pytest.mark.unit

S = 1_000_000_000  # ns


def truth(i: int, start: int, duration: float = 1.0, venue: str = "okx",
          direction: str = "down") -> TruthEvent:  # fmt: skip
    return TruthEvent(id=f"t{i}", venue=venue, symbol="BTC-USDT", direction=direction, bps=40.0,
                      size=0.1, start_ns=start, end_ns=start + int(duration * S))  # fmt: skip


def opportunity(i: int, detect: int, buy: str, sell: str) -> Opportunity:
    return Opportunity(
        id=f"o{i}", symbol="BTC-USDT", buy_venue=buy, sell_venue=sell, size="0.1",
        buy_price="100", sell_price="101", buy_vwap=100.0, sell_vwap=101.0, gross_profit=0.1,
        net_profit=0.08, edge_bps=80.0, buy_seq=1, sell_seq=1, expires_ns=detect + S,
        ts_event_buy=detect - 3_000_000, ts_event_sell=detect - 3_000_000,
        ts_recv=detect - 2_000_000, ts_book=detect - 1_000_000, ts_detect=detect,
        quote="USDT", buy_fee=0.001, sell_fee=0.001,
    )  # fmt: skip


def test_a_dislocation_counts_as_detected_only_on_its_venue_and_side_while_open() -> None:
    truths = [truth(1, 10 * S), truth(2, 20 * S, direction="up"), truth(3, 30 * S)]
    opportunities = [
        opportunity(1, 10 * S + 5_000_000, buy="okx", sell="binance"),  # t1: cheap okx, bought
        opportunity(2, 20 * S + 5_000_000, buy="okx", sell="binance"),  # t2 is rich: wrong side
        opportunity(3, 29 * S, buy="okx", sell="binance"),  # before t3 began
    ]
    scored = score(truths, opportunities, [])
    assert (scored["injected"], scored["injected_detectable"]) == (3, 3)
    assert scored["injected_detected"] == 1
    assert scored["detected"] == 3
    assert scored["latency_ms"]["ws_to_opportunity"] == {"p50": 2.0, "p99": 2.0}
    assert scored["latency_ms"]["ws_to_book"] == {"p50": 1.0, "p99": 1.0}


def test_too_short_dislocations_are_not_detectable() -> None:
    scored = score([truth(1, 10 * S, duration=0.04), truth(2, 20 * S)], [], [])
    assert (scored["injected"], scored["injected_detectable"], scored["injected_detected"]) == (
        2, 1, 0)  # fmt: skip


def test_dislocations_outside_the_watched_window_are_counted_apart() -> None:
    truths = [truth(1, 1 * S), truth(2, 10 * S), truth(3, 19_800_000_000)]
    scored = score(truths, [], [], window=(5 * S, 20 * S))
    assert scored["injected"] == 1  # t1 before every book was LIVE, t3 too close to the end
    assert scored["injected_outside_window"] == 2


def test_executions_are_split_by_outcome_and_pnl_summed() -> None:
    def result(i: int, status: ExecutionStatus, pnl: str) -> ExecutionResult:
        return ExecutionResult(opportunity_id=f"o{i}", symbol="BTC-USDT", buy_venue="okx",
                               sell_venue="binance", status=status, mode="paper", realised_pnl=pnl,
                               ts_detect=i * S, ts_orders_sent=i * S + 3_000_000)  # fmt: skip

    executions = [result(1, ExecutionStatus.FILLED, "1.5"), result(2, ExecutionStatus.HEDGED,
                  "-0.25"), result(3, ExecutionStatus.FAILED, "0"),
                  result(4, ExecutionStatus.UNHEDGED, "-1"),
                  result(5, ExecutionStatus.EXPIRED, "0"),
                  result(6, ExecutionStatus.NOT_FILLED, "0")]  # fmt: skip
    scored = score([], [], executions)
    assert (scored["executed"], scored["failed"], scored["unhedged"]) == (2, 1, 1)
    assert scored["missed"] == 1  # a miss is not an error: counted apart, not in the reasons
    assert scored["refused"] == 1
    assert scored["failed_reasons"] == {"failed: no reason given": 1,
                                        "unhedged: no reason given": 1}  # fmt: skip
    assert scored["pnl_quote"] == "0.25"
    assert scored["latency_ms"]["opportunity_to_orders"] == {"p50": 3.0, "p99": 3.0}
