"""Venue errors: one hierarchy for every exchange, carrying the venue's own code.

    VenueError (ArbError)
    ├── MalformedFrame (ValueError)      a frame or body we cannot parse; .kind groups them
    ├── RateLimited                      429/418 or a venue rate-limit code; .retry_after_s
    ├── VenueUnavailable                 5xx, connection refused/reset: retryable
    ├── RequestTimeout                   no answer in time: the outcome is UNKNOWN
    └── VenueRejected                    the venue answered no: never retry as is
        ├── InvalidSignature
        ├── InsufficientBalance
        ├── UnknownOrder
        ├── UnknownSymbol
        ├── OrderRejected
        └── BadRequest

``retryable`` says whether the same request may be sent again after a pause. Order placement
never retries blindly: after RequestTimeout or VenueUnavailable the caller queries the order
by client order id first.

Messages are redacted where they are built (arb_core.redact): a signed URL in a message
keeps its path and parameters, never its ``signature=`` (nor a key, passphrase or token).
"""

from __future__ import annotations

from arb_core.errors import ArbError
from arb_core.redact import redact


class VenueError(ArbError):
    retryable: bool = False

    def __init__(
        self,
        venue: str,
        message: str,
        *,
        code: str | int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.venue = venue
        self.code = code
        self.http_status = http_status
        detail = []
        if http_status is not None:
            detail.append(f"HTTP {http_status}")
        if code is not None:
            detail.append(f"code {code}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        super().__init__(redact(f"{venue}: {message}{suffix}"))


class MalformedFrame(VenueError, ValueError):
    """A frame we cannot parse. ``kind`` groups them for counting and log-once."""

    def __init__(self, venue: str, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(venue, f"malformed {kind}: {message}")


class RateLimited(VenueError):
    retryable = True

    def __init__(
        self,
        venue: str,
        message: str,
        *,
        retry_after_s: float | None = None,
        code: str | int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(venue, message, code=code, http_status=http_status)


class VenueUnavailable(VenueError):
    retryable = True


class RequestTimeout(VenueError):
    retryable = True


class VenueRejected(VenueError):
    pass


class InvalidSignature(VenueRejected):
    pass


class InsufficientBalance(VenueRejected):
    pass


class UnknownOrder(VenueRejected):
    pass


class UnknownSymbol(VenueRejected):
    pass


class OrderRejected(VenueRejected):
    pass


class BadRequest(VenueRejected):
    pass
