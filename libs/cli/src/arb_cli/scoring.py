"""Scoring a run against the simulator's ground truth, and the latency chain of what it found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from arb_structs import ExecutionResult, ExecutionStatus, Opportunity, TruthEvent

DETECTABLE_AFTER_NS = 50_000_000  # a dislocation still open 50 ms after it began
# A dislocation that began this close to the end of the run may not have reached the books yet.
END_MARGIN_NS = 500_000_000


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile rounded to 3 decimals; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _matches(truth: TruthEvent, opp: Opportunity) -> bool:
    if opp.symbol != truth.symbol or not truth.start_ns <= opp.ts_detect <= truth.end_ns + 5e8:
        return False
    if truth.direction == "down":  # venue cheap: buy there
        return opp.buy_venue == truth.venue
    return opp.sell_venue == truth.venue


REASONS_SHOWN = 5


def _reasons(executions: Sequence[ExecutionResult]) -> dict[str, int]:
    """``status: reason`` -> how many, the most frequent REASONS_SHOWN."""
    counts = Counter(f"{e.status.value}: {e.reason or 'no reason given'}" for e in executions)
    return dict(counts.most_common(REASONS_SHOWN))


def score(
    truths: Sequence[TruthEvent],
    opportunities: Sequence[Opportunity],
    executions: Sequence[ExecutionResult],
    window: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """``window`` (ns): the time the engine was watching, from the moment every book was LIVE
    to the end of the run. Dislocations that began outside it are counted apart, in
    ``injected_outside_window``, not as missed."""
    outside = 0
    if window is not None:
        start, end = window
        watched = [t for t in truths if start <= t.start_ns <= end - END_MARGIN_NS]
        outside = len(truths) - len(watched)
        truths = watched
    detectable = [t for t in truths if t.end_ns - t.start_ns >= DETECTABLE_AFTER_NS]
    detected_truths = [t for t in detectable if any(_matches(t, o) for o in opportunities)]
    done = {ExecutionStatus.FILLED, ExecutionStatus.PARTIAL, ExecutionStatus.HEDGED}
    executed = [e for e in executions if e.status in done]
    failed = [e for e in executions if e.status is ExecutionStatus.FAILED]
    # neither leg filled, nothing held: the prices were gone when the orders arrived (a miss,
    # not an error: a loaded machine or a short dislocation makes some)
    missed = [e for e in executions if e.status is ExecutionStatus.NOT_FILLED]
    unhedged = [e for e in executions if e.status is ExecutionStatus.UNHEDGED]
    refused = [e for e in executions if e.status in {ExecutionStatus.REFUSED,
                                                      ExecutionStatus.EXPIRED}]  # fmt: skip
    pnl = sum((Decimal(e.realised_pnl) for e in executions), Decimal(0))
    to_book = [(o.ts_book - o.ts_recv) / 1e6 for o in opportunities if o.ts_book and o.ts_recv]
    to_opp = [(o.ts_detect - o.ts_recv) / 1e6 for o in opportunities if o.ts_recv]
    to_orders = [(e.ts_orders_sent - e.ts_detect) / 1e6 for e in executions
                 if e.ts_orders_sent and e.ts_detect]  # fmt: skip

    def pair(values: list[float]) -> dict[str, float | None]:
        return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99)}

    return {
        "injected": len(truths),
        "injected_outside_window": outside,
        "injected_detectable": len(detectable),
        "injected_detected": len(detected_truths),
        "detected": len(opportunities),
        "executed": len(executed),
        "missed": len(missed),
        "failed": len(failed),
        "unhedged": len(unhedged),
        # why: the run's summary says what went wrong without a trip to the logs
        "failed_reasons": _reasons(failed + unhedged),
        "refused": len(refused),
        "pnl_quote": format(pnl.quantize(Decimal("0.00000001")).normalize(), "f"),
        "latency_ms": {
            "ws_to_book": pair(to_book),
            "ws_to_opportunity": pair(to_opp),
            "opportunity_to_orders": pair(to_orders),
        },
    }
