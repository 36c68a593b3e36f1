"""Bitfinex v2 REST errors -> our error tree (used by the REST client, trading and the sim).

A failed v2 call answers ``["error", CODE, "TEXT"]``, HTTP 500 for most of them, refusals of
the request itself included (an order the account cannot pay for is
``["error", 10001, "Invalid order: not enough exchange balance for ..."]``), so the status
alone never says "retry". The codes are the platform's
(https://docs.bitfinex.com/docs/abbreviations-glossary, "Error/Info codes"): 10001 generic
(the text says what), 10020 a request parameter, 10100 authentication failed, 10111-10114 the
auth payload, signature or nonce, 11000 not ready (try again later), 11010 rate limit, 20060
maintenance. A rate limit may also come as ``{"error": "ERR_RATE_LIMIT"}``: the IP is then
blocked on that endpoint for 10-60 s (https://docs.bitfinex.com/v1).
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.common.rest import Response, retry_after_seconds
from arb_venues.errors import (
    RATE_LIMIT_STATUSES,
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    TradingDisabled,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueRejected,
    VenueUnavailable,
)

VENUE = "bitfinex"
RATE_LIMIT_PAUSE_S = 30.0  # "blocked for 10-60 seconds": half way, when no Retry-After says

# (code, HTTP status, text as Bitfinex words it): the simulator answers with these.
GENERIC = 10001
PARAMETERS = (10020, 500, "request parameters error")
AUTH_FAILED = (10100, 500, "apikey: invalid")
BAD_SIGNATURE = (10100, 500, "apikey: digest invalid")
NONCE_SMALL = (10114, 500, "nonce: small")
RATE_LIMITED = (11010, 429, "ratelimit: error")
NOT_READY = (11000, 500, "not ready, try again later")
MAINTENANCE = (20060, 500, "maintenance")
INSUFFICIENT = (GENERIC, 500, "Invalid order: not enough exchange balance for {amount} {pair} "
                "at {price}")  # fmt: skip
MINIMUM_SIZE = (GENERIC, 500, "Invalid order: minimum size for {pair} is {minimum}")
INVALID_PRICE = (GENERIC, 500, "Invalid price.")
INVALID_AMOUNT = (GENERIC, 500, "Invalid order: amount must be a multiple of {lot}")
UNKNOWN_PAIR = (10020, 500, "symbol: invalid")
ORDER_NOT_FOUND = (GENERIC, 500, "Order not found.")
REJECTED = (GENERIC, 500, "Invalid order")

_AUTH = {10100, 10111, 10112, 10113, 10114}
_UNAVAILABLE = {11000, 20060}


def error_for(
    code: int, text: str, http_status: int | None = None, retry_after_s: float | None = None
) -> VenueError:
    """The exception for one Bitfinex error (its code, and its text where the code is 10001)."""
    message = text or f"Bitfinex error {code}"
    lower = message.lower()
    status = http_status
    if (
        code == 11010
        or "ratelimit" in lower
        or "err_rate_limit" in lower
        or status == HTTPStatus.TOO_MANY_REQUESTS
    ):
        pause = retry_after_s if retry_after_s is not None else RATE_LIMIT_PAUSE_S
        return RateLimited(VENUE, message, api_code=code, http_status=status, retry_after_s=pause)
    if code in _UNAVAILABLE:
        return VenueUnavailable(VENUE, message, api_code=code, http_status=status)
    if code in _AUTH or lower.startswith("apikey") or "nonce" in lower:
        return InvalidSignature(
            VENUE,
            f"{message} (check the API key and secret; the nonce must grow with every request"
            " of the key: one key per process)",
            api_code=code,
            http_status=status,
        )
    if code == 10001 and "action: disabled" in lower:
        # An order on a pair or key whose trading Bitfinex switched off (["error", 10001,
        # "action: disabled"], https://github.com/bitfinexcom/bitfinex-api-py/issues/145).
        return TradingDisabled(VENUE, message, api_code=code, http_status=status)
    if "balance" in lower:
        return InsufficientBalance(VENUE, message, api_code=code, http_status=status)
    if "not found" in lower:
        return UnknownOrder(VENUE, message, api_code=code, http_status=status)
    if "symbol" in lower and "invalid" in lower:
        return UnknownSymbol(VENUE, message, api_code=code, http_status=status)
    if code == 10020:
        return BadRequest(VENUE, message, api_code=code, http_status=status)
    if lower.startswith("invalid"):
        return OrderRejected(VENUE, message, api_code=code, http_status=status)
    return VenueRejected(VENUE, message, api_code=code, http_status=status)


def read_error(body: bytes | str) -> tuple[int, str] | None:
    """``(code, text)`` of an error body (``["error", code, text]`` or ``{"error": text}``)."""
    try:
        value = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    if isinstance(value, list) and len(value) >= 2 and value[0] == "error":
        code = value[1] if isinstance(value[1], int) else 0
        text = value[2] if len(value) > 2 and isinstance(value[2], str) else ""
        return code, text
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        text = value["error"]
        return (11010 if text == "ERR_RATE_LIMIT" else 0), str(value.get("message") or text)
    return None


def error_mapper(response: Response) -> VenueError | None:
    """ErrorMapper for RestClient: None for a 2xx without an error body."""
    found = read_error(response.body)
    retry_after = retry_after_seconds(response.headers)
    status = response.status if response.status != HTTPStatus.OK else None
    if found is not None:
        return error_for(found[0], found[1], status, retry_after)
    if response.status < HTTPStatus.BAD_REQUEST:
        return None
    text = response.body[:200].decode(errors="replace")
    if response.status in RATE_LIMIT_STATUSES:
        return error_for(11010, f"rate limited: {text}", response.status, retry_after)
    if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return VenueUnavailable(VENUE, f"server error: {text}", http_status=response.status)
    return BadRequest(VENUE, f"request refused: {text}", http_status=response.status)
