"""Kraken's REST error strings -> our error tree.

Kraken answers most failures with HTTP 200 and ``{"error": ["EAPI:Invalid key"], "result":
{}}``: a non-empty ``error`` list is a failure whatever the status.
https://docs.kraken.com/api/docs/guides/spot-errors
"""

from __future__ import annotations

from http import HTTPStatus

from arb_venues.common.rest import ErrorMapper, Response, default_error_mapper, retry_after_seconds
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    TradingDisabled,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueUnavailable,
)
from arb_venues.kraken import schemas

VENUE = "kraken"

_EXACT: dict[str, type[VenueError]] = {
    "EAPI:Invalid key": InvalidSignature,
    "EAPI:Invalid signature": InvalidSignature,
    "EGeneral:Permission denied": InvalidSignature,
    "EOrder:Insufficient funds": InsufficientBalance,
    "EOrder:Unknown order": UnknownOrder,
    "EQuery:Unknown asset pair": UnknownSymbol,
    "EQuery:Unknown asset": UnknownSymbol,
    "EService:Unavailable": VenueUnavailable,
    "EService:Busy": VenueUnavailable,
    "EService:Deadline elapsed": VenueUnavailable,
    # The market takes no new orders (cancel_only) or only post-only ones, so an IOC
    # is refused: "Request can't be made at this time" (spot-errors guide).
    "EService:Market in cancel_only mode": TradingDisabled,
    "EService:Market in post_only mode": TradingDisabled,
}
_RATE_LIMITS = frozenset(
    {
        "EAPI:Rate limit exceeded",
        "EOrder:Rate limit exceeded",
        "EGeneral:Too many requests",
        "EGeneral:Temporary lockout",
        "EAuth:Rate limit exceeded",
        "EAuth:Too many requests",
        "EOrder:Domain rate limit exceeded",
    }
)
_HINTS: dict[type[VenueError], str] = {
    InvalidSignature: "check ARB API key/secret for kraken (base64 secret, key permissions)",
    BadRequest: "the request was refused as sent",
}


def error_from_codes(
    codes: list[str], http_status: int | None = None, retry_after_s: float | None = None
) -> VenueError:
    """The exception for Kraken's error list (the first string decides)."""
    code = codes[0]
    text = ", ".join(codes)
    if code in _RATE_LIMITS:
        return RateLimited(
            VENUE,
            f"rate limited: {text}",
            retry_after_s=retry_after_s or 1.0,
            api_code=code,
            http_status=http_status,
        )
    kind = _EXACT.get(code)
    if kind is None:
        if code == "EAPI:Invalid nonce":
            kind = BadRequest  # not executed; the next request with a larger nonce may pass
        elif code.startswith("EGeneral:Internal error"):
            kind = VenueUnavailable
        elif code.startswith("EOrder:"):
            kind = OrderRejected
        else:
            kind = BadRequest
    hint = _HINTS.get(kind)
    message = f"{text}; {hint}" if hint else text
    return kind(VENUE, message, api_code=code, http_status=http_status)


def kraken_error_mapper() -> ErrorMapper:
    fallback = default_error_mapper(VENUE)

    def mapper(response: Response) -> VenueError | None:
        body = response.body
        codes: list[str] = []
        if body[:1] == b"{":
            try:
                codes = [c for c in schemas.ERRORS.decode(body).error if c.startswith("E")]
            except ValueError:  # msgspec.DecodeError is a ValueError
                codes = []
        if codes:
            status = response.status if response.status != HTTPStatus.OK else None
            return error_from_codes(codes, status, retry_after_seconds(response.headers))
        return fallback(response)

    return mapper
