"""Dashboard errors.

DashboardError (ArbError)
└── PortInUse (OSError)     the page's port is taken; the message says which and what to do
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class DashboardError(ArbError):
    """Root of the dashboard's own errors."""


class PortInUse(DashboardError, OSError):
    """The configured port cannot be bound."""
