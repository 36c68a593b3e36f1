"""Alerter errors.

AlerterError (ArbError)
└── SinkError        a sink did not take an alert (the message names the sink, never its
                     secret); ``retry_after_s`` when it asked us to wait
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class AlerterError(ArbError):
    """Root of the alerter's own errors."""


class SinkError(AlerterError):
    def __init__(self, message: str, *, retry_after_s: float | None = None,
                 retryable: bool = True) -> None:  # fmt: skip
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.retryable = retryable
