"""Errors of the simulator.

ArbError (arb_runtime)
└── SimulatorError
    ├── SimulatorConfigError (ValueError)   a setting the simulator cannot run with
    └── ReplayError (ValueError)            a capture that cannot be served
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class SimulatorError(ArbError):
    """Root of the simulator's errors."""


class SimulatorConfigError(SimulatorError, ValueError):
    """A setting names an unknown venue/symbol or an impossible value; the message says which."""


class ReplayError(SimulatorError, ValueError):
    """A recorded capture that cannot be replayed (missing file, no frames for a venue)."""
