"""Dashboard metrics (``arb_dashboard_*``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CLIENTS = Gauge("arb_dashboard_clients", "Browsers connected to the live WebSocket.")
PUSHES = Counter("arb_dashboard_pushes_total", "Messages pushed to browsers, by type.", ["type"])
KILL_REQUESTS = Counter(
    "arb_dashboard_kill_requests_total",
    "Kill switch requests, by action (engage, release) and outcome (done, refused, off).",
    ["action", "outcome"],
)
