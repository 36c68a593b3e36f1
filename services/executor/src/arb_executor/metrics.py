"""Executor metrics (arb_executor_*). ``outcome``/``reason`` label values are bounded sets."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OPPORTUNITIES = Counter(
    "arb_executor_opportunities_total", "Opportunities handled, by execution status.",
    ["symbol", "outcome"],
)  # fmt: skip
REFUSALS = Counter(
    "arb_executor_refusals_total", "Opportunities refused before any order, by reason.",
    ["symbol", "reason"],
)  # fmt: skip
DUPLICATES = Counter(
    "arb_executor_duplicates_total", "Opportunities delivered again and skipped (SET NX)."
)
MALFORMED = Counter("arb_executor_malformed_total", "Opportunity entries that did not decode.")
ORDERS = Counter(
    "arb_executor_orders_total", "Orders placed, by venue and outcome.", ["venue", "outcome"]
)
UNHEDGED = Counter("arb_executor_unhedged_total", "Executions that left exposure open.", ["symbol"])
SEND_LATENCY = Histogram(
    "arb_executor_send_latency_seconds", "Opportunity received to both orders sent.",
    buckets=(50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3, 0.25, 1.0),
)  # fmt: skip
DAILY_PNL = Gauge("arb_executor_daily_realised_pnl", "Realised PnL of the UTC day (quote).")
DAILY_LOSS = Gauge(
    "arb_executor_daily_loss", "Loss of the UTC day the limit counts: realised plus the "
    "marked-to-market loss of open exposure (quote, every replica).",
)  # fmt: skip
LATE_ORDERS = Counter(
    "arb_executor_late_orders_total",
    "Watched orders (concluded never placed) by outcome: dropped at their deadline, "
    "landed_unfilled, reconciled or unhedged.",
    ["venue", "outcome"],
)  # fmt: skip
LATE_WATCHED = Gauge(
    "arb_executor_late_orders_watched", "Orders watched because they may still land late."
)
EXPOSURE_OPEN = Gauge(
    "arb_executor_exposure_open", "Open exposure (base units, signed) by venue, asset and kind "
    "(unhedged: reported by a result; unexplained: found by the reconciliation).",
    ["venue", "asset", "kind"],
)  # fmt: skip
RECONCILE_ROUNDS = Counter(
    "arb_executor_reconcile_rounds_total", "Reconciliation rounds per venue, by outcome "
    "(ok, failed: the venue did not answer).", ["venue", "outcome"],
)  # fmt: skip
ADOPTED_ORDERS = Counter(
    "arb_executor_adopted_orders_total",
    "Orders found at a venue with the engine's client id and no record, adopted.", ["venue"],
)  # fmt: skip
REDIS_RESETS = Counter(
    "arb_executor_redis_resets_total",
    "Times Redis came back without the executor's epoch key (its data lost): state restored.",
)
VENUE_DEGRADED = Gauge(
    "arb_executor_venue_degraded", "1 while a venue is refused: it did not answer in time.",
    ["venue"],
)  # fmt: skip
