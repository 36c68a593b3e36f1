"""Cancellation helpers, re-exported from ``arb_core.tasks`` (their home: venue code uses them
without depending on the runtime)."""

from arb_core.tasks import cancelling, raise_if_cancelling, stop_task

__all__ = ["cancelling", "raise_if_cancelling", "stop_task"]
