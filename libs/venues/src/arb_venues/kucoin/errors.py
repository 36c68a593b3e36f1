"""KuCoin REST error answers -> the venue error tree (used by the REST client, trading and the
simulator).

Every answer is ``{"code": "<6 digits>", "msg": ..., "data": ...}``; ``200000`` is success.
Codes (https://www.kucoin.com/docs-new/error-code/websocket "Gateway error code",
https://www.kucoin.com/docs/basic-info/errors-code/spot-errors-code):
400001 a KC-API header missing, 400002 KC-API-TIMESTAMP invalid (more than 5 s off), 400003
KC-API-KEY does not exist, 400004 KC-API-PASSPHRASE invalid, 400005 KC-API-SIGN invalid,
400006 IP not in the key's whitelist, 400007 access denied (permission), 400100 parameter
error (also "account.available.amount": balance insufficient, and
"order_not_exist_or_not_allow_to_cancel"), 200004 balance insufficient, 400600 symbol not
available, 900001 symbol does not exist, 429000 too many requests (the resource pool is used
up: HTTP 429; ``gw-ratelimit-reset`` says in ms when it refills,
https://www.kucoin.com/docs-new/rate-limit), 500000 internal error.
"""

from __future__ import annotations

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
from arb_venues.kucoin import schemas

VENUE = "kucoin"
OK = "200000"

# (code, msg) as the simulator answers them (KuCoin's own texts).
HEADER_MISSING = ("400001", "Please check the header of your request for KC-API-KEY, "
                  "KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE")  # fmt: skip
TIMESTAMP_INVALID = ("400002", "Invalid KC-API-TIMESTAMP")
KEY_INVALID = ("400003", "KC-API-KEY not exists")
PASSPHRASE_INVALID = ("400004", "Invalid KC-API-PASSPHRASE")
SIGNATURE_INVALID = ("400005", "Invalid KC-API-SIGN")
VERSION_INVALID = ("400009", "Invalid KC-API-KEY-VERSION")
PARAMETER_ERROR = ("400100", "Parameter Error")
BALANCE_INSUFFICIENT = ("200004", "Balance insufficient!")
ORDER_NOT_EXIST = ("400100", "order_not_exist_or_not_allow_to_cancel")
DUPLICATE_CLIENT_OID = ("400100", "The clientOid has been used before.")
SYMBOL_INVALID = ("900001", "symbol not exists")
TOO_MANY_REQUESTS = ("429000", "Too Many Requests")
INTERNAL_ERROR = ("500000", "Internal Server Error")

RATE_RESET_HEADER = "gw-ratelimit-reset"  # ms until the resource pool refills
_AUTH = {"400001", "400002", "400003", "400004", "400005", "400006", "400007", "400008",
         "400009", "411100"}  # fmt: skip
_UNKNOWN_SYMBOL = {"900001", "400600", "600203"}
_INSUFFICIENT = {"200004"}
# The pair takes no orders until KuCoin lifts it: 126007 "Trading pair suspended", 126009
# "Trading pair is suspended from creating orders" (https://www.kucoin.com/docs-new/error-code).
_TRADING_DISABLED = {"126007", "126009"}
_REJECTED = {"200001", "200003", "200009", "400200", "400500", "400700", "400800"}


def reset_seconds(headers: dict[str, str]) -> float | None:
    """When the pool refills: ``gw-ratelimit-reset`` (ms), else Retry-After (s)."""
    for name, value in headers.items():
        if name.lower() == RATE_RESET_HEADER:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                break
    return retry_after_seconds(headers)


def _body_error(code: str, text: str, status: int, headers: dict[str, str]) -> VenueError:
    lowered = text.lower()
    if code == "429000" or status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimited(
            VENUE, f"rate limited: {text}; waiting for the resource pool to refill",
            retry_after_s=reset_seconds(headers), api_code=code, http_status=status,
        )  # fmt: skip
    if code == "500000" or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return VenueUnavailable(VENUE, f"server error, outcome unknown: {text}", api_code=code,
                                http_status=status)  # fmt: skip
    if code == TIMESTAMP_INVALID[0]:
        return TimestampRejected(VENUE, f"{text}; KC-API-TIMESTAMP must be within 5 s of the "
                                 "server: sync the host clock (NTP)", api_code=code,
                                 http_status=status)  # fmt: skip
    if code in _AUTH:
        return InvalidSignature(
            VENUE, f"{text}; check the API key, secret, passphrase, key version and the host "
            "clock (KC-API-TIMESTAMP must be within 5 s)", api_code=code, http_status=status,
        )  # fmt: skip
    if code in _INSUFFICIENT or "available.amount" in lowered or "insufficient" in lowered:
        return InsufficientBalance(VENUE, text, api_code=code, http_status=status)
    if "not_exist" in lowered or "not exist" in lowered or status == HTTPStatus.NOT_FOUND:
        return UnknownOrder(VENUE, text, api_code=code, http_status=status)
    if code in _UNKNOWN_SYMBOL:
        return UnknownSymbol(VENUE, text, api_code=code, http_status=status)
    if code in _TRADING_DISABLED:
        return TradingDisabled(VENUE, f"trading disabled: {text}", api_code=code,
                               http_status=status)  # fmt: skip
    if code in _REJECTED or "clientoid" in lowered:
        return OrderRejected(VENUE, text, api_code=code, http_status=status)
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=status)


def map_error(response: Response) -> VenueError | None:
    """The VenueError a KuCoin answer means; None for a success."""
    status = response.status
    headers = dict(response.headers)
    try:
        body = schemas.status_decoder.decode(response.body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        if status < HTTPStatus.BAD_REQUEST:
            return None  # not a KuCoin envelope: the caller's decoder says what is wrong
        text = response.body[:200].decode(errors="replace")
        return _body_error("", text or f"HTTP {status}", status, headers)
    code = str(body.code) if body.code is not None else ""
    if status < HTTPStatus.BAD_REQUEST and code in (OK, ""):
        return None
    return _body_error(code, body.msg or code or f"HTTP {status}", status, headers)


def error_mapper() -> ErrorMapper:
    return map_error
