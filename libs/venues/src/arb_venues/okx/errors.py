"""OKX REST error codes -> our error tree (used by the REST client, trading and the sim).

Docs: https://www.okx.com/docs-v5/en/#error-code-rest-api-public
Every answer is ``{"code": "0", "msg": "", "data": [...]}``. A failed order answers
``code "1"`` with the reason in ``data[i].sCode`` / ``sMsg``; auth and rate-limit failures
use the HTTP status listed beside each code (401, 429, 503...).
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
    RequestTimeout,
    TimestampRejected,
    TradingDisabled,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueRejected,
    VenueUnavailable,
)
from arb_venues.okx import schemas

VENUE = "okx"

# code -> (HTTP status OKX answers with, message as OKX words it). The sim serves these.
INVALID_KEY = ("50111", 401, "Invalid OK-ACCESS-KEY.")
INVALID_SIGNATURE = ("50113", 401, "Invalid signature.")
TIMESTAMP_EXPIRED = ("50102", 401, "Timestamp request expired.")
INVALID_TIMESTAMP = ("50112", 401, "Invalid OK-ACCESS-TIMESTAMP.")
PASSPHRASE_INCORRECT = ("50105", 401, 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
RATE_LIMIT = ("50011", 429, "Too Many Requests")
SERVICE_UNAVAILABLE = ("50001", 503, "Service temporarily unavailable. Please try again later.")
SYSTEM_ERROR = ("50026", 500, "System error. Try again later")
INSUFFICIENT_BALANCE = ("51008", 200, "Order failed. Insufficient {ccy} balance in account")
INSTRUMENT_MISSING = ("51001", 200, "Instrument ID, Instrument ID code or Spread ID doesn't exist.")
ORDER_MISSING = ("51603", 200, "Order does not exist.")
CANCEL_FAILED = (
    "51400",
    200,
    "Order cancellation failed as the order has been filled, canceled or does not exist.",
)
DUPLICATE_CLIENT_ID = ("51016", 200, "Client order ID already exists.")
LOT_SIZE = ("51121", 200, "Order quantity must be a multiple of the lot size.")
PARAMETER_ERROR = ("51000", 400, "Parameter {param} error")

_AUTH = {
    "50100",
    "50101",
    "50102",
    "50103",
    "50104",
    "50105",
    "50106",
    "50107",
    "50111",
    "50112",
    "50113",
    "50114",
}
_RATE = {"50011", "50013", "50040", "50061"}
_UNAVAILABLE = {"50001", "50026"}
_BALANCE = {"51008", "51131"}
_UNKNOWN_ORDER = {"51603"}
_UNKNOWN_SYMBOL = {"51001"}
# Trading switched off (https://www.okx.com/docs-v5/en/#error-code-rest-api-trade): 51009
# "Order placement function is blocked by the platform", 51022 "Contract suspended" (the
# instrument's trading is suspended), 51155 the pair may not be traded here (local compliance).
_TRADING_DISABLED = {"51009", "51022", "51155"}
_BAD_REQUEST = {"50000", "50002", "50006", "50014", "50015", "51000"}


def error_for(
    code: str, message: str, http_status: int | None = None, retry_after_s: float | None = None
) -> VenueError:
    """The exception for one OKX code (``sCode`` wins over the envelope's ``code``)."""
    text = message or f"OKX code {code}"
    if code in _RATE or http_status in RATE_LIMIT_STATUSES:
        return RateLimited(
            VENUE, text, api_code=code, http_status=http_status, retry_after_s=retry_after_s
        )
    if code == "50004":  # "does not mean that the request was successful or failed"
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
    if code in _TRADING_DISABLED:
        return TradingDisabled(VENUE, text, api_code=code, http_status=http_status)
    if code in _BAD_REQUEST:
        return BadRequest(VENUE, text, api_code=code, http_status=http_status)
    if code.startswith("51"):
        return OrderRejected(VENUE, text, api_code=code, http_status=http_status)
    return VenueRejected(VENUE, text, api_code=code, http_status=http_status)


def error_mapper(response: Response) -> VenueError | None:
    """ErrorMapper for RestClient: None for ``code "0"``, else the mapped error."""
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
    if envelope.code == "0" and response.status < HTTPStatus.BAD_REQUEST:
        return None
    code, message = envelope.code, envelope.msg
    if code in ("1", "2") and schemas.present(envelope.data):  # per-order failure in data[i]
        try:
            acks = schemas.ORDER_ACKS.decode(envelope.data)
        except msgspec.DecodeError:
            acks = []
        failed = next((a for a in acks if a.sCode != "0"), None)
        if failed is not None:
            code, message = failed.sCode, failed.sMsg
    http_status = response.status if response.status != HTTPStatus.OK else None
    return error_for(code, message, http_status, retry_after)
