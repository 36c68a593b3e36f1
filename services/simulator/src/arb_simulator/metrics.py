"""Prometheus metrics of the simulator (labels: venue, symbol only)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BOOK_UPDATES = Counter(
    "arb_simulator_book_updates_total", "Book updates the simulated venue produced", ["venue"]
)
ORDERS = Counter("arb_simulator_orders_total", "Orders the simulated venue accepted", ["venue"])
FAULTS_FIRED = Counter("arb_simulator_faults_fired_total", "Injected faults that fired", ["venue"])
DISLOCATIONS = Counter(
    "arb_simulator_dislocations_total", "Dislocations injected (ground truth)", ["venue", "symbol"]
)
CONNECTIONS_CLOSED = Counter(
    "arb_simulator_connections_closed_total",
    "WS connections the simulated venue closed, by reason (lifetime, maintenance)",
    ["venue", "reason"],
)
NOTICES = Counter(
    "arb_simulator_reconnect_notices_total", "Reconnect notices the simulated venue sent", ["venue"]
)
CLOCK_LAG = Gauge(
    "arb_simulator_clock_lag_seconds", "How far the market clock runs behind its schedule"
)
