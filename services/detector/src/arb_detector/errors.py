"""Errors of the detector.

ArbError (arb_runtime)
└── DetectorError
    ├── DetectorConfigError (ConfigError)   a detector setting is wrong (shard, fees, balances)
    └── InstrumentError (ValueError)        reference data the detector cannot use
"""

from __future__ import annotations

from arb_runtime.errors import ArbError, ConfigError


class DetectorError(ArbError):
    """Root of every error the detector raises on purpose."""


class DetectorConfigError(DetectorError, ConfigError):
    """A detector setting is wrong; the message names it, its value and the way out."""


class InstrumentError(DetectorError, ValueError):
    """An instrument record has a value the detector cannot trade on."""
