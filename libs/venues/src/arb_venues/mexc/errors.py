"""MEXC REST error bodies -> the venue error tree.

Errors are ``{"code": <int>, "msg": "..."}`` with a 4xx/5xx status. Docs: "Error Code" and
"HTTP Return Codes" / "LIMITS" in https://www.mexc.com/api-docs/spot-v3/general-info
(mexcdevelop/apidocs spot_v3_en):
- 429: a request rate limit broken; repeated 429s bring an IP ban (418) of 2 minutes to
  3 days; both carry ``Retry-After`` (seconds). 403: the WAF limit was violated.
- 5XX: MEXC's side; "the execution status is UNKNOWN and could have been a success".
- the codes mapped below, by meaning: auth (400 "api key required", 401, 602, 10072,
  700001, 700002, 700006, 700007), clock (700003 "Timestamp for this request is outside of
  the recvWindow", 10073), unknown order (-2011, 22222 "record does not exist"), balance
  (10101 "Insufficient balance", 30004 "Insufficient position", 30005 "Oversold"), symbol
  (10007, 30014, 30021, 730001 "Pair not found"), trading halted (30000 "suspended
  transaction for the symbol", 30016 "trading disabled", 30020, 70011), order rules
  (30002 / 30003 min / max volume, 30010, 30029, 30041, 30087 price out of range).
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.common.rest import ErrorMapper, Response, retry_after_seconds
from arb_venues.errors import (
    RATE_LIMIT_STATUSES,
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
from arb_venues.mexc import schemas

VENUE = "mexc"

RATE_LIMITED = {429}
UNAVAILABLE = {500, 503, 504, 20002}
AUTH = {400, 401, 602, 10072, 700001, 700002, 700006, 700007}
CLOCK = {700003, 10073}
UNKNOWN_ORDER = {-2011, 22222}
INSUFFICIENT = {10101, 30004, 30005}
UNKNOWN_SYMBOL = {10007, 30014, 30021, 730001}
HALTED = {30000, 30016, 30020, 70011}
ORDER_RULES = {30001, 30002, 30003, 30010, 30018, 30019, 30029, 30032, 30041, 30087}

# The bodies the simulator answers with (code, msg), the docs' texts.
SIGNATURE_INVALID = (700002, "Signature for this request is not valid.")
API_KEY_REQUIRED = (400, "api key required")
API_KEY_INVALID = (10072, "invalid access key")
OUTSIDE_RECV_WINDOW = (700003, "Timestamp for this request is outside of the recvWindow.")
RECV_WINDOW_TOO_LONG = (700005, "recvWindow must less than 60000")
ORDER_REF_MISSING = (
    700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null",
)  # fmt: skip
UNKNOWN_ORDER_SENT = (-2011, "Unknown order sent.")
NO_RECORD = (22222, "record does not exist")
BALANCE = (10101, "Insufficient balance")
BAD_SYMBOL = (10007, "bad symbol")
PARAM_ERROR = (33333, "param is error")
PARAM_MISSING = (44444, "param cannot be null")
MIN_VOLUME = (30002, "The minimum transaction volume cannot be less than :")


def map_error(response: Response) -> VenueError | None:
    """The VenueError a MEXC answer means; None for a success."""
    status = response.status
    if status < HTTPStatus.BAD_REQUEST:
        return None
    try:
        body = schemas.error_decoder.decode(response.body)
        code: int | None = body.code
        text = body.msg
    except (msgspec.ValidationError, msgspec.DecodeError):
        code, text = None, response.body[:200].decode(errors="replace")
    if status in RATE_LIMIT_STATUSES or code in RATE_LIMITED:
        banned = " (IP banned: 418)" if status == HTTPStatus.IM_A_TEAPOT else ""
        return RateLimited(
            VENUE, f"rate limited{banned}: {text}; waiting Retry-After before the next call",
            retry_after_s=retry_after_seconds(response.headers), api_code=code, http_status=status,
        )  # fmt: skip
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or code in UNAVAILABLE:
        return VenueUnavailable(
            VENUE, f"server error, outcome unknown: {text}", api_code=code, http_status=status
        )
    return _rejection(code, text, status)


def _rejection(code: int | None, text: str, status: int) -> VenueError:
    if code in AUTH:
        return InvalidSignature(
            VENUE, f"{text}; check the API key, its secret, permissions and IP whitelist",
            api_code=code, http_status=status,
        )  # fmt: skip
    if code in CLOCK:
        return TimestampRejected(
            VENUE, f"{text}; the host clock is off: sync it (NTP) or raise recvWindow (max 60000)",
            api_code=code, http_status=status,
        )  # fmt: skip
    if code in UNKNOWN_ORDER:
        return UnknownOrder(VENUE, text, api_code=code, http_status=status)
    if code in INSUFFICIENT:
        return InsufficientBalance(VENUE, text, api_code=code, http_status=status)
    if code in UNKNOWN_SYMBOL:
        return UnknownSymbol(VENUE, text, api_code=code, http_status=status)
    if code in HALTED:
        return TradingDisabled(VENUE, f"trading halted for this symbol or key: {text}",
                               api_code=code, http_status=status)  # fmt: skip
    if code in ORDER_RULES:
        return OrderRejected(VENUE, text, api_code=code, http_status=status)
    if status == HTTPStatus.FORBIDDEN:
        return BadRequest(
            VENUE, f"blocked by MEXC's WAF (rate or security rule): {text}", http_status=status
        )
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=status)


def error_mapper() -> ErrorMapper:
    return map_error
