"""Executor errors.

ExecutorError (ArbError)
├── MalformedOpportunity (ValueError)   an opportunities entry we cannot decode
└── GatewayNotConfigured                 live mode for a venue without credentials
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class ExecutorError(ArbError):
    pass


class MalformedOpportunity(ExecutorError, ValueError):
    pass


class GatewayNotConfigured(ExecutorError):
    pass
