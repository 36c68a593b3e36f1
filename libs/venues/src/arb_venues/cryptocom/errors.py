"""Crypto.com Exchange v1 answers -> our error tree.

Every answer is ``{"id", "method", "code", "message", ...}``; ``code`` 0 is success. The HTTP
status goes with the code (docs "Response and Reason Codes",
https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#response-and-reason-codes):
200 with 0 (or 40401 NOT_FOUND, 43012 SELF_TRADE_PREVENTION), 400 for bad requests and
refused orders, 401 for authentication (40101 UNAUTHORIZED, 40103 IP_ILLEGAL, 40104
USER_TIER_INVALID), 408 for 40801 REQUEST_TIMEOUT, 429 for 42901 TOO_MANY_REQUESTS (no
Retry-After header is documented), 500 for risk and balance refusals (306
INSUFFICIENT_AVAILABLE_BALANCE) and 50001 internal errors.
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.common.rest import Response, retry_after_seconds
from arb_venues.cryptocom import schemas
from arb_venues.errors import (
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

VENUE = "cryptocom"

NOT_FOUND = 40401
SELF_TRADE_PREVENTION = 43012
DUPLICATE_CLORDID = 204
INSTRUMENT_NOT_TRADABLE = 208
INVALID_INSTRUMENT = 209
INVALID_ORDERQTY = 213
INVALID_TIF = 221
INVALID_PRICE = 308
BAD_REQUEST = 40001
METHOD_NOT_FOUND = 40002
INVALID_REQUEST = 40003
MISSING_OR_INVALID_ARGUMENT = 40004
DUPLICATE_REQUEST = 40006
UNAUTHORIZED = 40101
INVALID_NONCE = 40102
IP_ILLEGAL = 40103
USER_TIER_INVALID = 40104
EXCEED_MAX_SUBSCRIPTIONS = 40107
REQUEST_TIMEOUT = 40801
TOO_MANY_REQUESTS = 42901
ERR_INTERNAL = 50001
INVALID_ORDERID = 212
INSUFFICIENT_AVAILABLE_BALANCE = 306
INVALID_ORDSTATUS = 307
MARKET_IS_NOT_OPEN = 309
NO_ACTIVE_ORDER = 316
EXCEEDS_MAX_AVAILABLE_BALANCE = 321
BELOW_MIN_ORDER_SIZE = 415
FILL_OR_KILL = 43003
IMMEDIATE_OR_CANCEL = 43004
POST_ONLY_REJ = 43005
REJECTED = 120009

AUTH_CODES = frozenset({UNAUTHORIZED, IP_ILLEGAL, USER_TIER_INVALID})
RATE_LIMIT_CODES = frozenset({TOO_MANY_REQUESTS})
TIMEOUT_CODES = frozenset({REQUEST_TIMEOUT})
UNAVAILABLE_CODES = frozenset({ERR_INTERNAL})
UNKNOWN_ORDER_CODES = frozenset({NOT_FOUND, INVALID_ORDERID})
BALANCE_CODES = frozenset({INSUFFICIENT_AVAILABLE_BALANCE, EXCEEDS_MAX_AVAILABLE_BALANCE})
SYMBOL_CODES = frozenset({INVALID_INSTRUMENT})
# The instrument takes no orders until the venue opens it: 309 MARKET_IS_NOT_OPEN, 208
# INSTRUMENT_NOT_TRADABLE (the docs' "Response and Reason Codes").
TRADING_DISABLED_CODES = frozenset({MARKET_IS_NOT_OPEN, INSTRUMENT_NOT_TRADABLE})
# The order exists but is no longer open: a cancel of it is not an error for us.
ORDER_CLOSED_CODES = frozenset({NO_ACTIVE_ORDER, INVALID_ORDSTATUS})
ORDER_CODES = frozenset(
    {DUPLICATE_CLORDID, INVALID_ORDERQTY, INVALID_TIF, INVALID_PRICE, BELOW_MIN_ORDER_SIZE,
     FILL_OR_KILL, IMMEDIATE_OR_CANCEL, POST_ONLY_REJ, SELF_TRADE_PREVENTION, REJECTED, 224}
)  # fmt: skip

NAMES = {
    NOT_FOUND: "NOT_FOUND", DUPLICATE_CLORDID: "DUPLICATE_CLORDID",
    INSTRUMENT_NOT_TRADABLE: "INSTRUMENT_NOT_TRADABLE", INVALID_INSTRUMENT: "INVALID_INSTRUMENT",
    INVALID_ORDERQTY: "INVALID_ORDERQTY", INVALID_TIF: "INVALID_TIF",
    INVALID_PRICE: "INVALID_PRICE", BAD_REQUEST: "BAD_REQUEST",
    METHOD_NOT_FOUND: "METHOD_NOT_FOUND", INVALID_REQUEST: "INVALID_REQUEST",
    MISSING_OR_INVALID_ARGUMENT: "MISSING_OR_INVALID_ARGUMENT",
    DUPLICATE_REQUEST: "DUPLICATE_REQUEST", UNAUTHORIZED: "UNAUTHORIZED",
    INVALID_NONCE: "INVALID_NONCE", IP_ILLEGAL: "IP_ILLEGAL",
    USER_TIER_INVALID: "USER_TIER_INVALID", EXCEED_MAX_SUBSCRIPTIONS: "EXCEED_MAX_SUBSCRIPTIONS",
    REQUEST_TIMEOUT: "REQUEST_TIMEOUT", TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
    ERR_INTERNAL: "ERR_INTERNAL", INVALID_ORDERID: "INVALID_ORDERID",
    INSUFFICIENT_AVAILABLE_BALANCE: "INSUFFICIENT_AVAILABLE_BALANCE",
    INVALID_ORDSTATUS: "INVALID_ORDSTATUS", MARKET_IS_NOT_OPEN: "MARKET_IS_NOT_OPEN",
    NO_ACTIVE_ORDER: "NO_ACTIVE_ORDER", BELOW_MIN_ORDER_SIZE: "BELOW_MIN_ORDER_SIZE",
    IMMEDIATE_OR_CANCEL: "IMMEDIATE_OR_CANCEL", REJECTED: "REJECTED",
}  # fmt: skip

RATE_LIMIT_PAUSE_S = 1.0  # no Retry-After is documented; the limits are per 100 ms / 1 s


def _code(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def error_for_code(
    code: int | str,
    message: str,
    *,
    http_status: int | None = None,
    retry_after_s: float | None = None,
) -> VenueError | None:
    """The error a reason code stands for; None for 0 (success)."""
    number = _code(code)
    if number == 0:
        return None
    text = f"{number} {message or NAMES.get(number, 'no message')}"
    if number in AUTH_CODES:
        return InvalidSignature(
            VENUE, f"authentication refused: {text}; check the API key, secret, IP whitelist "
            "and key permissions", api_code=number, http_status=http_status,
        )  # fmt: skip
    if number == INVALID_NONCE:
        return TimestampRejected(
            VENUE, f"nonce more than 60 s from the server clock: {text}; sync the clock (NTP)",
            api_code=number, http_status=http_status,
        )  # fmt: skip
    if number in RATE_LIMIT_CODES:
        return RateLimited(
            VENUE, f"rate limited: {text}", api_code=number, http_status=http_status,
            retry_after_s=retry_after_s if retry_after_s is not None else RATE_LIMIT_PAUSE_S,
        )  # fmt: skip
    if number in TIMEOUT_CODES:
        return RequestTimeout(
            VENUE, f"venue timed out: {text}; query the order before re-sending",
            api_code=number, http_status=http_status,
        )  # fmt: skip
    if number in UNAVAILABLE_CODES:
        return VenueUnavailable(
            VENUE, f"venue error: {text}", api_code=number, http_status=http_status
        )
    if number in TRADING_DISABLED_CODES:
        return TradingDisabled(
            VENUE, f"trading disabled: {text}", api_code=number, http_status=http_status
        )
    if number in UNKNOWN_ORDER_CODES:
        return UnknownOrder(
            VENUE, f"order not found: {text}", api_code=number, http_status=http_status
        )
    if number in BALANCE_CODES:
        return InsufficientBalance(
            VENUE, f"insufficient balance: {text}", api_code=number, http_status=http_status
        )
    if number in SYMBOL_CODES:
        return UnknownSymbol(VENUE, f"instrument refused: {text}", api_code=number,
                             http_status=http_status)  # fmt: skip
    if number in ORDER_CODES or http_status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return OrderRejected(
            VENUE, f"order refused: {text}", api_code=number, http_status=http_status
        )
    return BadRequest(VENUE, f"request refused: {text}", api_code=number, http_status=http_status)


def map_response(response: Response) -> VenueError | None:
    """The RestClient's ErrorMapper for Crypto.com: None when the answer is a success."""
    envelope: schemas.Envelope | None
    try:
        envelope = schemas.ENVELOPE.decode(response.body)
    except msgspec.DecodeError:
        envelope = None
    text = response.body[:200].decode(errors="replace")
    if envelope is not None and _code(envelope.code) != 0:
        if _code(envelope.code) == ERR_INTERNAL or response.status >= HTTPStatus.BAD_GATEWAY:
            return VenueUnavailable(
                VENUE, f"server error: {text}", api_code=_code(envelope.code),
                http_status=response.status,
            )  # fmt: skip
        return error_for_code(
            envelope.code, envelope.message, http_status=response.status,
            retry_after_s=retry_after_seconds(response.headers),
        )  # fmt: skip
    if response.status < HTTPStatus.BAD_REQUEST:
        if envelope is None:
            return VenueUnavailable(
                VENUE, f"answer is not a JSON envelope: {text}", http_status=response.status
            )
        return None
    if response.status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimited(
            VENUE, f"rate limited (429): {text}", http_status=429,
            retry_after_s=retry_after_seconds(response.headers) or RATE_LIMIT_PAUSE_S,
        )  # fmt: skip
    if response.status == HTTPStatus.UNAUTHORIZED:
        return InvalidSignature(VENUE, f"authentication refused (401): {text}", http_status=401)
    if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return VenueUnavailable(VENUE, f"server error: {text}", http_status=response.status)
    return BadRequest(VENUE, f"request refused: {text}", http_status=response.status)
