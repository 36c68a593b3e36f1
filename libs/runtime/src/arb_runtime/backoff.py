"""The one backoff, re-exported from ``arb_core.backoff`` (its home: the venue library's
reconnects and REST retries use it without depending on the runtime)."""

from arb_core.backoff import REDIS_BACKOFF, Attempts, Backoff, wait_or_stop

__all__ = ["REDIS_BACKOFF", "Attempts", "Backoff", "wait_or_stop"]
