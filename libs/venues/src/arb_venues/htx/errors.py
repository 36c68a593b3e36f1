"""HTX (Huobi) REST error answers -> the venue error tree (used by the REST client, trading
and the simulator).

HTX answers HTTP 200 for a refusal too: ``{"status": "error", "err-code": "<code>",
"err-msg": "...", "data": null}`` (https://huobiapi.github.io/docs/spot/v1/en/#response-format).
The codes below are the docs' "Trading > Error Code" table and the authentication errors of
"Quick Start > Authentication" (``api-signature-not-valid``, e.g. "Signature not valid:
Incorrect Access key"); 429 and 5xx statuses come from the gateway in front of it.
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
from arb_venues.htx import schemas

VENUE = "htx"

# err-code -> err-msg as the simulator words them (HTX's own texts where the docs give one).
SIGNATURE_INVALID = ("api-signature-not-valid", "Signature not valid: Verification failure")
KEY_INVALID = ("api-signature-not-valid", "Signature not valid: Incorrect Access key")
TIMESTAMP_INVALID = (
    "api-signature-not-valid",
    "Signature not valid: Timestamp is invalid or expired",
)
LOGIN_REQUIRED = ("login-required", "Signature is missing, or user not find")
INSUFFICIENT_BALANCE = ("order-accountbalance-error", "account balance insufficient error")
RECORD_INVALID = ("base-record-invalid", "record invalid")
SYMBOL_INVALID = ("base-symbol-error", "The symbol is invalid")
ARGUMENT_INVALID = ("invalid-parameter", "invalid parameter")
PRICE_PRECISION = ("order-orderprice-precision-error", "order price precision error")
AMOUNT_PRECISION = ("order-orderamount-precision-error", "order amount precision error")
AMOUNT_MIN = ("order-limitorder-amount-min-error", "limit order amount error, min: `{min}`")
TYPE_INVALID = ("order-type-invalid", "Order type is invalid")
ORDER_STATE = ("order-orderstate-error", "Order state is invalid")
CANCEL_FORBIDDEN = ("order-user-cancel-forbidden", "IOC or FOK order is not allowed to cancel")
DUPLICATE_CLIENT_ID = ("invalid-client-order-id", "client order id duplicated")
SYSTEM_ERROR = ("base-system-error", "System internal error, please try again later")
TOO_OFTEN = ("510", "You request too often, please try again later")

_AUTH = {"api-signature-not-valid", "login-required", "api-signature-check-failed"}
_RATE_LIMITED = {"510", "api-limit-error", "frequent-invoke", "base-user-request-exceed-limit"}
_UNAVAILABLE = {"base-system-error", "system-busy", "base-request-timeout", "500"}
_UNKNOWN_ORDER = {"base-record-invalid", "base-not-found", "not-found"}
_UNKNOWN_SYMBOL = {"base-symbol-error", "symbol-not-support"}
_TRADING_DISABLED = {"base-symbol-trade-disabled"}  # the symbol exists, trading it is off
_INSUFFICIENT = {"order-accountbalance-error", "account-balance-insufficient-error"}


def _body_error(code: str, text: str, status: int, headers: dict[str, str]) -> VenueError:
    if code in _RATE_LIMITED or "request limit" in text.lower():
        return RateLimited(
            VENUE, f"rate limited: {text}; waiting before the next call",
            retry_after_s=retry_after_seconds(headers), api_code=code, http_status=status,
        )  # fmt: skip
    if code in _UNAVAILABLE:
        return VenueUnavailable(VENUE, f"server error, outcome unknown: {text}", api_code=code,
                                http_status=status)  # fmt: skip
    if code == TIMESTAMP_INVALID[0] and "timestamp" in text.lower():
        return TimestampRejected(VENUE, f"{text}; sync the host clock (NTP)", api_code=code,
                                 http_status=status)  # fmt: skip
    if code in _TRADING_DISABLED:
        return TradingDisabled(VENUE, text, api_code=code, http_status=status)
    if code in _AUTH:
        return InvalidSignature(
            VENUE, f"{text}; check the access key, secret key, key permissions and the host "
            "clock (Timestamp is valid for 5 minutes)", api_code=code, http_status=status,
        )  # fmt: skip
    if code in _UNKNOWN_ORDER:
        return UnknownOrder(VENUE, text, api_code=code, http_status=status)
    if code in _UNKNOWN_SYMBOL:
        return UnknownSymbol(VENUE, text, api_code=code, http_status=status)
    if code in _INSUFFICIENT:
        return InsufficientBalance(VENUE, text, api_code=code, http_status=status)
    if code.startswith("order-") or code == "invalid-client-order-id":
        return OrderRejected(VENUE, text, api_code=code, http_status=status)
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=status)


def map_error(response: Response) -> VenueError | None:
    """The VenueError an HTX answer means; None for a success."""
    status = response.status
    if status in RATE_LIMIT_STATUSES:
        return RateLimited(
            VENUE, f"rate limited (HTTP {status}); waiting Retry-After before the next call",
            retry_after_s=retry_after_seconds(response.headers), http_status=status,
        )  # fmt: skip
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        text = response.body[:200].decode(errors="replace")
        return VenueUnavailable(VENUE, f"server error, outcome unknown: {text}",
                                http_status=status)  # fmt: skip
    try:
        body = schemas.status_decoder.decode(response.body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        if status >= HTTPStatus.BAD_REQUEST:
            text = response.body[:200].decode(errors="replace")
            return BadRequest(VENUE, f"request refused: {text}", http_status=status)
        return None  # not an HTX envelope: the caller's decoder says what is wrong
    if body.status == "error" or status >= HTTPStatus.BAD_REQUEST:
        code = str(body.err_code) if body.err_code is not None else ""
        return _body_error(code, body.err_msg or code, status, dict(response.headers))
    return None


def error_mapper() -> ErrorMapper:
    return map_error
