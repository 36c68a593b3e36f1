"""Bybit v5 answers -> our error tree.

Bybit answers most failures with HTTP 200 and a non-zero ``retCode`` in the envelope
(``{"retCode":10004,"retMsg":"error sign! ...","result":{},"retExtInfo":{},"time":...}``);
HTTP status codes are for the gateway: 403 = IP rate limit ("access too frequent", wait at
least 10 minutes), 429 = system frequency protection, 401/404/400 = bad request.

Docs: https://bybit-exchange.github.io/docs/v5/error
      https://bybit-exchange.github.io/docs/v5/rate-limit
"""

from __future__ import annotations

import time
from http import HTTPStatus

import msgspec

from arb_venues.bybit import schemas
from arb_venues.common.rest import Response, retry_after_seconds
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

VENUE = "bybit"

# retCodes by meaning (docs/v5/error: UTA and Spot Trade tables).
AUTH_CODES = frozenset(
    {
        10003,  # API key is invalid
        10004,  # error sign
        10005,  # permission denied
        10007,  # user authentication failed
        10010,  # unmatched IP
    }
)
CLOCK_CODES = frozenset({10002})  # timestamp outside recv_window
RATE_LIMIT_CODES = frozenset({10006, 10018, 170005, 170222})
TIMEOUT_CODES = frozenset({10000, 170007, 170146})  # the outcome of the request is unknown
UNAVAILABLE_CODES = frozenset({10016, 10019, 170001, 170032, 170234})
UNKNOWN_ORDER_CODES = frozenset({110001, 170213, 170143})
BALANCE_CODES = frozenset({170131, 110004, 110007, 110012, 110044, 110045, 170033})
SYMBOL_CODES = frozenset({170121, 10029})
# No order on the symbol can succeed until Bybit lifts it (docs, "Spot Trade" and "UTA"):
# 170151 "The trading pair is not open yet", 170157 "The trading pair is not available for api
# trading", 110066 "No trading is allowed at the current time".
TRADING_DISABLED_CODES = frozenset({170151, 170157, 110066})
# The order exists but is already closed: a cancel of it is not an error for us.
ORDER_CLOSED_CODES = frozenset({110008, 110010, 170139, 170142, 170190})

INVALID_API_KEY = 10003
SIGN_ERROR = 10004
RATE_LIMIT = 10006
PARAMETER_ERROR = 10001
SERVER_ERROR = 10016
ORDER_NOT_EXISTS = 110001
INSUFFICIENT_BALANCE = 170131
INVALID_SYMBOL = 170121
DUPLICATE_ORDER_LINK_ID = 170141

IP_BAN_SECONDS = 600.0  # "wait for at least 10 minutes" after a 403


def error_for_code(
    code: int,
    message: str,
    *,
    http_status: int | None = None,
    retry_after_s: float | None = None,
) -> VenueError | None:
    """The error a retCode stands for; None for 0 (OK)."""
    if code == 0:
        return None
    text = f"{message or 'no message'}"
    if code in AUTH_CODES:
        return InvalidSignature(
            VENUE,
            f"authentication refused: {text}; check the API key, secret and key permissions",
            api_code=code,
            http_status=http_status,
        )
    if code in CLOCK_CODES:
        return TimestampRejected(
            VENUE,
            f"request outside recv_window: {text}; sync the clock (NTP)",
            api_code=code,
            http_status=http_status,
        )
    if code in RATE_LIMIT_CODES:
        return RateLimited(
            VENUE,
            f"rate limited: {text}",
            api_code=code,
            http_status=http_status,
            retry_after_s=retry_after_s,
        )
    if code in TIMEOUT_CODES:
        return RequestTimeout(
            VENUE,
            f"venue timed out: {text}; query the order before re-sending",
            api_code=code,
            http_status=http_status,
        )
    if code in UNAVAILABLE_CODES:
        return VenueUnavailable(
            VENUE, f"venue error: {text}", api_code=code, http_status=http_status
        )
    if code in UNKNOWN_ORDER_CODES:
        return UnknownOrder(
            VENUE, f"order not found: {text}", api_code=code, http_status=http_status
        )
    if code in BALANCE_CODES:
        return InsufficientBalance(
            VENUE, f"insufficient balance: {text}", api_code=code, http_status=http_status
        )
    if code in SYMBOL_CODES:
        return UnknownSymbol(
            VENUE, f"symbol refused: {text}", api_code=code, http_status=http_status
        )
    if code in TRADING_DISABLED_CODES:
        return TradingDisabled(
            VENUE, f"trading disabled: {text}", api_code=code, http_status=http_status
        )
    if code >= 100000:  # 11xxxx (UTA orders) and 17xxxx (spot trade): the order was refused
        return OrderRejected(
            VENUE, f"order refused: {text}", api_code=code, http_status=http_status
        )
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=http_status)


def _retry_after(response: Response, server_ms: int) -> float | None:
    """Seconds until X-Bapi-Limit-Reset-Timestamp (ms), measured on Bybit's clock if known."""
    header = retry_after_seconds(response.headers)
    if header is not None:
        return header
    reset = response.headers.get("X-Bapi-Limit-Reset-Timestamp") or response.headers.get(
        "x-bapi-limit-reset-timestamp"
    )
    if reset is None or not reset.isdigit():
        return None
    now_ms = server_ms or int(time.time() * 1000)
    return max(0.0, (int(reset) - now_ms) / 1000)


def map_response(response: Response) -> VenueError | None:
    """The RestClient's ErrorMapper for Bybit: None when the answer is a success."""
    envelope: schemas.Envelope | None
    try:
        envelope = schemas.ENVELOPE.decode(response.body)
    except msgspec.DecodeError:
        envelope = None
    if response.status < HTTPStatus.BAD_REQUEST:
        if envelope is None:
            return VenueUnavailable(
                VENUE,
                f"answer is not a v5 JSON envelope: {response.body[:200]!r}",
                http_status=response.status,
            )
        return error_for_code(
            envelope.retCode,
            envelope.retMsg,
            http_status=response.status,
            retry_after_s=_retry_after(response, envelope.time),
        )
    text = response.body[:200].decode(errors="replace")
    if response.status == HTTPStatus.FORBIDDEN:
        return RateLimited(
            VENUE,
            f"IP rate limit (403 access too frequent): {text}",
            http_status=403,
            retry_after_s=retry_after_seconds(response.headers) or IP_BAN_SECONDS,
        )
    if response.status == HTTPStatus.TOO_MANY_REQUESTS:
        after = _retry_after(response, envelope.time if envelope else 0)
        return RateLimited(
            VENUE,
            f"system frequency protection (429): {text}",
            http_status=429,
            retry_after_s=after if after is not None else 1.0,
            api_code=envelope.retCode if envelope else None,
        )
    if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return VenueUnavailable(VENUE, f"server error: {text}", http_status=response.status)
    if envelope is not None and envelope.retCode != 0:
        return error_for_code(envelope.retCode, envelope.retMsg, http_status=response.status)
    if response.status == HTTPStatus.UNAUTHORIZED:
        return InvalidSignature(VENUE, f"authentication refused (401): {text}", http_status=401)
    return BadRequest(VENUE, f"request refused: {text}", http_status=response.status)
