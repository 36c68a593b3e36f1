"""Binance REST error bodies -> the venue error tree.

Every error is ``{"code": <negative int>, "msg": "..."}`` with a 4xx/5xx status. Docs:
https://developers.binance.com/docs/binance-spot-api-docs/errors and "HTTP Return Codes" /
"IP Limits" in https://developers.binance.com/docs/binance-spot-api-docs/rest-api
- 429: request rate limit broken; 418: IP auto-banned after more 429s. Both carry
  ``Retry-After`` (seconds). 5xx: Binance's side, execution status UNKNOWN.
- 403: a WAF rule was violated (rate or security block).
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.binance import schemas
from arb_venues.common.rest import ErrorMapper, Response, retry_after_seconds
from arb_venues.errors import (
    RATE_LIMIT_STATUSES,
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    RequestTimeout,
    TimestampRejected,
    TradingDisabled,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueUnavailable,
)

VENUE = "binance"

# Codes whose outcome is unknown or transient (errors.md "10xx - General Server or Network
# issues"): -1000 UNKNOWN, -1001 DISCONNECTED, -1006 UNEXPECTED_RESP, -1008 SERVER_BUSY,
# -1016 SERVICE_SHUTTING_DOWN.
_UNAVAILABLE = {-1000, -1001, -1006, -1008, -1016}
_RATE_LIMITED = {-1003, -1015}  # TOO_MANY_REQUESTS, TOO_MANY_ORDERS
_AUTH = {-1002, -1022, -2014, -2015}  # UNAUTHORIZED, INVALID_SIGNATURE, bad/rejected API key
_INSUFFICIENT = "insufficient balance"  # "Account has insufficient balance for requested action."
_UNKNOWN_ORDER = "unknown order"  # "Unknown order sent."
# -2010 NEW_ORDER_REJECTED messages that mean the market or the account may not trade
# (errors.md, "Messages for -1010 ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, and -2011
# CANCEL_REJECTED"): "Market is closed.", "This action is disabled on this account.".
_TRADING_DISABLED = ("market is closed", "action is disabled on this account")


def map_error(response: Response) -> VenueError | None:
    """The VenueError a Binance answer means; None for a success."""
    status = response.status
    if status < HTTPStatus.BAD_REQUEST:
        return None
    try:
        body = schemas.error_decoder.decode(response.body)
        code: int | None = body.code
        text = body.msg
    except (msgspec.ValidationError, msgspec.DecodeError):
        code, text = None, response.body[:200].decode(errors="replace")
    if status in RATE_LIMIT_STATUSES or code in _RATE_LIMITED:
        banned = " (IP banned: 418)" if status == HTTPStatus.IM_A_TEAPOT else ""
        return RateLimited(
            VENUE, f"rate limited{banned}: {text}; waiting Retry-After before the next call",
            retry_after_s=retry_after_seconds(response.headers), api_code=code, http_status=status,
        )  # fmt: skip
    if code == -1007:  # TIMEOUT: "Send status unknown; execution status unknown."
        return RequestTimeout(VENUE, f"backend timeout: {text}", api_code=code, http_status=status)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or code in _UNAVAILABLE:
        return VenueUnavailable(
            VENUE, f"server error, outcome unknown: {text}", api_code=code, http_status=status
        )
    return _rejection(code, text, status)


def _rejection(code: int | None, text: str, status: int) -> VenueError:
    lowered = text.lower()
    if code in _AUTH:
        return InvalidSignature(
            VENUE, f"{text}; check the API key, secret and key permissions",
            api_code=code, http_status=status,
        )  # fmt: skip
    if code == -1021:
        return TimestampRejected(
            VENUE, f"{text}; the host clock is off: sync it (NTP) or raise recvWindow (max 60000)",
            api_code=code, http_status=status,
        )  # fmt: skip
    if code == -1121:
        return UnknownSymbol(VENUE, text, api_code=code, http_status=status)
    if code == -2013 or (code == -2011 and _UNKNOWN_ORDER in lowered):
        return UnknownOrder(VENUE, text, api_code=code, http_status=status)
    if code == -2010 and _INSUFFICIENT in lowered:
        return InsufficientBalance(VENUE, text, api_code=code, http_status=status)
    if code == -2010 and any(m in lowered for m in _TRADING_DISABLED):
        return TradingDisabled(VENUE, text, api_code=code, http_status=status)
    if code in (-2010, -2011, -1013):  # engine rejections; -1013 = filter failures
        return OrderRejected(VENUE, text, api_code=code, http_status=status)
    if status == HTTPStatus.FORBIDDEN:
        return BadRequest(
            VENUE, f"blocked by Binance's WAF (rate or security rule): {text}", http_status=status
        )
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=status)


def error_mapper() -> ErrorMapper:
    return map_error
