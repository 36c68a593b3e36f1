"""Recorder errors.

RecorderError (ArbError)
└── RecorderStopping    the service stopped while the database was away; the entry it held
                        stays pending in its group and is written after the next start
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class RecorderError(ArbError):
    """Root of the recorder's own errors."""


class RecorderStopping(RecorderError):
    """Stopping before an entry could be written; it stays pending (never acknowledged)."""
