"""The root of every error cexarb raises on purpose.

ArbError
└── ConfigError (ValueError)       bad setting or environment variable

Each package hangs its own tree under ArbError (arb_runtime.errors, arb_venues.errors, each
service's errors.py); ``arb`` and every ``python -m`` entry point turn an ArbError into one
line and exit status 2.
"""

from __future__ import annotations


class ArbError(Exception):
    """Root of every error cexarb raises on purpose."""


class ConfigError(ArbError, ValueError):
    """A setting is wrong; the message names it, its value and the way out."""
