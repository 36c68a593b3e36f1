"""Venue errors: one hierarchy for every exchange, carrying the venue's own code.

    VenueError (ArbError)
    ├── MalformedFrame (ValueError)      a frame or body we cannot parse; .kind groups them
    ├── RateLimited                      429/418 or a venue rate-limit code; .retry_after_s
    ├── VenueUnavailable                 5xx, connection refused/reset: retryable
    ├── RequestTimeout                   no answer in time: the outcome is UNKNOWN
    └── VenueRejected                    the venue answered no: never retry as is
        ├── InvalidSignature
        ├── TimestampRejected            the signed timestamp is outside the venue's window
        │                                (Binance -1021, OKX 50102, Bybit 10002): the clock
        │                                offset is re-measured, then it may be sent again
        ├── InsufficientBalance
        ├── UnknownOrder
        ├── UnknownSymbol
        ├── TradingDisabled              the market or the account may not trade now (halted,
        │                                suspended, delisting, trading switched off)
        ├── OrderRejected
        └── BadRequest

Every VenueError carries ``code`` (the HTTP status of the answer; None when there was no
answer), ``api_code`` (the venue's own error code, as the venue writes it; None when the
answer had none) and ``message`` (the redacted text without the venue prefix).

``retryable`` says whether the same request may be sent again after a pause. Order placement
never retries blindly: after RequestTimeout or VenueUnavailable the caller queries the order
by client order id first.

Messages are redacted where they are built (arb_core.redact): a signed URL in a message
keeps its path and parameters, never its ``signature=`` (nor a key, passphrase or token).
"""

from __future__ import annotations

from http import HTTPStatus

from arb_core.errors import ArbError
from arb_core.redact import redact

# The HTTP statuses of a refusal for load, compared on every answer's error mapping (HTTPStatus
# is an IntEnum: equal to the plain int aiohttp gives). 418 is Binance's and MEXC's IP ban.
RATE_LIMIT_STATUSES = frozenset({HTTPStatus.IM_A_TEAPOT, HTTPStatus.TOO_MANY_REQUESTS})


class VenueError(ArbError):
    retryable: bool = False

    def __init__(
        self,
        venue: str,
        message: str,
        *,
        api_code: str | int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.venue = venue
        self.code = http_status  # the HTTP status
        self.api_code = api_code  # the venue's error code
        self.message = redact(message)
        detail = []
        if http_status is not None:
            detail.append(f"HTTP {http_status}")
        if api_code is not None:
            detail.append(f"code {api_code}")
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
        api_code: str | int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(venue, message, api_code=api_code, http_status=http_status)


class VenueUnavailable(VenueError):
    retryable = True


class RequestTimeout(VenueError):
    retryable = True


class VenueRejected(VenueError):
    pass


class InvalidSignature(VenueRejected):
    pass


class TimestampRejected(VenueRejected):
    """The venue refused the request's signed timestamp as outside its window, before acting
    on it. The REST client re-measures the venue's clock offset (arb_venues.common.clock)
    and, where the call may be repeated, sends it again with a fresh timestamp."""

    retryable = True


class TradingDisabled(VenueRejected):
    """The market is halted, suspended or closed, or trading is switched off for the account
    or symbol: no order on it succeeds until the venue lifts it."""


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
