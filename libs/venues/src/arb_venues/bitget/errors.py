"""Bitget REST error codes -> our error tree (used by the REST client, trading and the sim).

Docs: https://www.bitget.com/api-doc/spot/error-code/restapi (the code table) and
https://www.bitget.com/api-doc/common/intro ("Rest API ... will return 429 status: too many
requests"). Every answer is ``{"code": "00000", "msg": "success", "requestTime": ms,
"data": ...}``; a failure carries its code in ``code`` (e.g. ``{"code": "43012", "msg":
"Insufficient balance", "data": null}``) with an HTTP status of 400 (request errors,
signature errors among them), 429 (rate limit) or 5xx.
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.bitget import schemas
from arb_venues.common.rest import Response, retry_after_seconds
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
    VenueRejected,
    VenueUnavailable,
)

VENUE = "bitget"
SUCCESS = "00000"

# code -> (HTTP status Bitget answers with, message as Bitget words it). The sim serves these.
ACCESS_KEY_EMPTY = ("40001", 400, "ACCESS_KEY cannot be empty")
SIGN_EMPTY = ("40002", 400, "SECRET_KEY cannot be empty")
INVALID_TIMESTAMP = ("40005", 400, "Invalid ACCESS_TIMESTAMP")
INVALID_KEY = ("40006", 400, "Invalid ACCESS_KEY")
TIMESTAMP_EXPIRED = ("40008", 400, "Request timestamp expired")
INVALID_SIGNATURE = ("40009", 400, "sign signature error")
PASSPHRASE_EMPTY = ("40011", 400, "ACCESS_PASSPHRASE cannot be empty")
PASSPHRASE_INCORRECT = ("40012", 400, "apikey/password is incorrect")
SYSTEM_ERROR = ("40015", 500, "System is abnormal, please try again later")
PARAMETER_ERROR = ("40017", 400, "Parameter verification failed {param}")
PARAMETER_EMPTY = ("40019", 400, "Parameter {param} cannot be empty")
SYMBOL_MISSING = ("40034", 400, "Parameter {param} does not exist")
RATE_LIMIT = ("429", 429, "Too Many Requests")
ORDER_MISSING = ("43001", 400, "The order does not exist")
INSUFFICIENT_BALANCE = ("43012", 400, "Insufficient balance")
PRICE_OR_SIZE = ("40808", 400, "Parameter verification exception {param}")
BELOW_MINIMUM = ("45110", 400, "less than the minimum amount {param}")
DUPLICATE_CLIENT_ID = ("40808", 400, "Parameter verification exception clientOid is duplicate")
MAINTENANCE = ("40200", 503, "The server is being upgraded. Please try again later.")

_AUTH = {
    "40001", "40002", "40003", "40004", "40005", "40006", "40008", "40009", "40010",
    "40011", "40012", "40037", "40506", "40507",
}  # fmt: skip
_RATE = {"429", "50009"}
_UNAVAILABLE = {"40015", "40200", "40604", "40725"}
# The pair takes no orders until Bitget opens it (https://www.bitget.com/api-doc/common/
# error-code/restapi): 41114 "The current trading pair is under maintenance", 43115 "The
# current trading pair is opening soon".
_TRADING_DISABLED = {"41114", "43115"}
_BALANCE = {"43012", "40762", "40754", "40711", "50020"}
_UNKNOWN_ORDER = {"43001", "40768", "40109"}
_UNKNOWN_SYMBOL = {"40034", "40102", "40309", "50004"}
_BAD_REQUEST = {"40007", "40017", "40019", "40020", "40302", "40304", "40409", "40724"}
_ORDER = {"40305", "40808", "41103", "43006", "43011", "45110", "50014", "50019"}


def error_for(
    code: str, message: str, http_status: int | None = None, retry_after_s: float | None = None
) -> VenueError:
    """The exception for one Bitget code."""
    text = message or f"Bitget code {code}"
    if code in _RATE or http_status in RATE_LIMIT_STATUSES:
        return RateLimited(
            VENUE, text, api_code=code, http_status=http_status, retry_after_s=retry_after_s
        )
    if code in _TRADING_DISABLED:
        return TradingDisabled(VENUE, text, api_code=code, http_status=http_status)
    if code == "50008":  # "network timeout": the outcome is not known
        return RequestTimeout(VENUE, text, api_code=code, http_status=http_status)
    if code in _UNAVAILABLE or (
        http_status is not None and http_status >= HTTPStatus.INTERNAL_SERVER_ERROR
    ):
        return VenueUnavailable(VENUE, text, api_code=code, http_status=http_status)
    if code == TIMESTAMP_EXPIRED[0]:
        return TimestampRejected(
            VENUE, f"{text}; sync the host clock (NTP)", api_code=code, http_status=http_status
        )
    if code in _AUTH:
        return InvalidSignature(
            VENUE,
            f"{text} (check the API key, secret, passphrase and clock)",
            api_code=code,
            http_status=http_status,
        )
    if code in _BALANCE:
        return InsufficientBalance(VENUE, text, api_code=code, http_status=http_status)
    if code in _UNKNOWN_ORDER:
        return UnknownOrder(VENUE, text, api_code=code, http_status=http_status)
    if code in _UNKNOWN_SYMBOL:
        return UnknownSymbol(VENUE, text, api_code=code, http_status=http_status)
    if code in _BAD_REQUEST:
        return BadRequest(VENUE, text, api_code=code, http_status=http_status)
    if code in _ORDER or code.startswith("43") or code.startswith("45"):
        return OrderRejected(VENUE, text, api_code=code, http_status=http_status)
    return VenueRejected(VENUE, text, api_code=code, http_status=http_status)


def error_mapper(response: Response) -> VenueError | None:
    """ErrorMapper for RestClient: None for ``code "00000"``, else the mapped error."""
    retry_after = retry_after_seconds(response.headers)
    try:
        envelope = schemas.REST_ENVELOPE.decode(response.body)
    except msgspec.DecodeError:
        if response.status < HTTPStatus.BAD_REQUEST:
            return None  # not an envelope (callers decode and complain themselves)
        text = response.body[:200].decode(errors="replace")
        status = response.status
        if status in RATE_LIMIT_STATUSES:
            return RateLimited(
                VENUE, f"rate limited: {text}", http_status=status, retry_after_s=retry_after
            )
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return VenueUnavailable(VENUE, f"server error: {text}", http_status=status)
        return BadRequest(VENUE, f"request refused: {text}", http_status=status)
    if envelope.code == SUCCESS and response.status < HTTPStatus.BAD_REQUEST:
        return None
    http_status = response.status if response.status != HTTPStatus.OK else None
    return error_for(envelope.code, envelope.msg, http_status, retry_after)
