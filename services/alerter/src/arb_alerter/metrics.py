"""Alerter metrics (``arb_alerter_*``; labels are bounded: rule names, sink names, reasons)."""

from __future__ import annotations

from prometheus_client import Counter

ALERTS = Counter("arb_alerter_alerts_total", "Alerts raised by the rules, by rule.", ["rule"])
DELIVERIES = Counter(
    "arb_alerter_deliveries_total", "Alert deliveries, by sink and outcome (delivered, failed).",
    ["sink", "outcome"],
)  # fmt: skip
SUPPRESSED = Counter(
    "arb_alerter_suppressed_total", "Alerts not sent, by reason (duplicate, rate_limit).",
    ["reason"],
)  # fmt: skip
