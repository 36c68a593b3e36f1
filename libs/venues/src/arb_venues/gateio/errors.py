"""Gate APIv4 REST error bodies -> the venue error tree.

Every error is ``{"label": "<LABEL>", "message": "..."}`` with a 4xx/5xx status. Docs,
"Error response" / "label list" (https://www.gate.io/docs/developers/apiv4/en/#label-list) and
"Frequency limit rule" (https://www.gate.io/docs/developers/apiv4/en/#frequency-limit-rule):
a request over the limit is answered 429 ``TOO_MANY_REQUESTS``; the ``X-Gate-RateLimit-*``
headers say the budget (``X-Gate-RateLimit-Reset-Timestamp``: when it refills, ms).
"""

from __future__ import annotations

import time
from http import HTTPStatus

import msgspec

from arb_venues.common.rest import ErrorMapper, Response, retry_after_seconds
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    TimestampRejected,
    TradingDisabled,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueUnavailable,
)
from arb_venues.gateio import schemas

VENUE = "gateio"

AUTH = {
    "INVALID_KEY", "INVALID_SIGNATURE", "MISSING_REQUIRED_HEADER", "IP_FORBIDDEN",
    "READ_ONLY", "FORBIDDEN", "INVALID_CREDENTIALS",
}  # fmt: skip
# Trading switched off for the account until Gate unlocks it (label list: ACCOUNT_LOCKED
# "Account is locked", SUB_ACCOUNT_LOCKED "Sub account is locked"): no order can succeed.
TRADING_DISABLED = {"ACCOUNT_LOCKED", "SUB_ACCOUNT_LOCKED"}
CLOCK = {"REQUEST_EXPIRED"}
RATE = {"TOO_MANY_REQUESTS"}
UNAVAILABLE = {"SERVER_ERROR", "TOO_BUSY", "INTERNAL"}
INSUFFICIENT = {"BALANCE_NOT_ENOUGH", "MARGIN_BALANCE_NOT_ENOUGH"}
NOT_FOUND = {"ORDER_NOT_FOUND"}
CLOSED = {"ORDER_CLOSED", "ORDER_CANCELLED"}
SYMBOL = {"INVALID_CURRENCY_PAIR", "INVALID_CURRENCY"}
REJECTED = {
    "ORDER_FOK", "ORDER_POC_IMMEDIATE", "AMOUNT_TOO_LITTLE", "AMOUNT_TOO_MUCH",
    "INVALID_PRECISION", "ORDER_EXISTS", "ORDER_BOOK_NOT_FOUND", "FAILED_SELF_TRADE",
}  # fmt: skip


def _reset_seconds(response: Response) -> float | None:
    retry = retry_after_seconds(response.headers)
    if retry is not None:
        return retry
    reset = response.headers.get("X-Gate-RateLimit-Reset-Timestamp")
    try:
        return max(0.0, int(reset) / 1000 - time.time()) if reset else None
    except ValueError:
        return None


def map_error(response: Response) -> VenueError | None:
    """The VenueError a Gate answer means; None for a success."""
    status = response.status
    if status < HTTPStatus.BAD_REQUEST:
        return None
    try:
        body = schemas.error_decoder.decode(response.body)
        label: str | None = body.label
        text = f"{body.label}: {body.message}"
    except (msgspec.ValidationError, msgspec.DecodeError):
        label, text = None, response.body[:200].decode(errors="replace")
    if status == HTTPStatus.TOO_MANY_REQUESTS or label in RATE:
        return RateLimited(VENUE, f"rate limited: {text}; waiting before the next call",
                           retry_after_s=_reset_seconds(response), api_code=label,
                           http_status=status)  # fmt: skip
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or label in UNAVAILABLE:
        return VenueUnavailable(VENUE, f"server error, outcome unknown: {text}", api_code=label,
                                http_status=status)  # fmt: skip
    if label in TRADING_DISABLED:
        return TradingDisabled(VENUE, f"{text}; the account is locked: no order succeeds until "
                               "Gate unlocks it", api_code=label, http_status=status)  # fmt: skip
    if label in AUTH:
        return InvalidSignature(VENUE, f"{text}; check the API key, secret, IP whitelist and "
                                "the key's spot permissions", api_code=label,
                                http_status=status)  # fmt: skip
    if label in CLOCK:
        return TimestampRejected(VENUE, f"{text}; the host clock is off by more than 60 s: "
                                 "sync it (NTP)", api_code=label, http_status=status)  # fmt: skip
    if label in INSUFFICIENT:
        return InsufficientBalance(VENUE, text, api_code=label, http_status=status)
    if label in NOT_FOUND:
        return UnknownOrder(VENUE, text, api_code=label, http_status=status)
    if label in SYMBOL:
        return UnknownSymbol(VENUE, text, api_code=label, http_status=status)
    if label in REJECTED or label in CLOSED:
        return OrderRejected(VENUE, text, api_code=label, http_status=status)
    return BadRequest(VENUE, f"request refused: {text}", api_code=label, http_status=status)


def error_mapper() -> ErrorMapper:
    return map_error
