"""Coinbase Advanced Trade REST answers -> our error tree.

What Coinbase sends (api-reference/advanced-trade-api/rest-api; error schema
``grpc.gateway.runtime.Error``):
- 401 with the plain-text body "Unauthorized" for a missing, expired or badly signed JWT;
- other 4xx/5xx with {"error": "NOT_FOUND"|"INVALID_ARGUMENT"|..., "error_details": ...,
  "message": ...};
- 429 when over the rate limit (honour Retry-After when present);
- order placement refused by the venue is HTTP 200 with {"success": false, "error_response":
  {"error": "INSUFFICIENT_FUND", ...}}: trading.py maps that body, see ``order_failure``.
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from arb_venues.coinbase.schemas import ApiError, ErrorResponse
from arb_venues.common.rest import ErrorMapper, Response, retry_after_seconds
from arb_venues.errors import (
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

VENUE = "coinbase"
_API_ERROR = msgspec.json.Decoder(ApiError)

# error_response.error / new_order_failure_reason of a refused order
_ORDER_FAILURES: dict[str, type[VenueRejected]] = {
    "INSUFFICIENT_FUND": InsufficientBalance,
    "INSUFFICIENT_FUNDS": InsufficientBalance,
    "INVALID_LEDGER_BALANCE": InsufficientBalance,
    "INVALID_PRODUCT_ID": UnknownSymbol,
    "INELIGIBLE_PAIR": UnknownSymbol,
    # The product takes no new orders (cancel-only, halted, or order entry switched off).
    "ORDER_ENTRY_DISABLED": TradingDisabled,
    "INVALID_SIZE_PRECISION": BadRequest,
    "INVALID_PRICE_PRECISION": BadRequest,
    "INVALID_LIMIT_PRICE": BadRequest,
    "INVALID_REQUEST": BadRequest,
    "UNSUPPORTED_ORDER_CONFIGURATION": BadRequest,
    "INVALID_SIDE": BadRequest,
}


def _api_error(body: bytes) -> ApiError:
    try:
        return _API_ERROR.decode(body)
    except msgspec.DecodeError:
        return ApiError(message=body[:200].decode(errors="replace").strip())


def map_response(response: Response) -> VenueError | None:
    status = response.status
    if status < HTTPStatus.BAD_REQUEST:
        return None
    error = _api_error(response.body)
    text = error.message or error.error_details or error.error or f"HTTP {status}"
    code = error.error or None
    if status == HTTPStatus.UNAUTHORIZED:
        return InvalidSignature(
            VENUE, f"{text}: the JWT was refused; check the CDP key name and its EC private key "
            "(and the clock: a JWT lives 120 s)", api_code=code, http_status=status,
        )  # fmt: skip
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimited(VENUE, f"rate limited: {text}", api_code=code, http_status=status,
                           retry_after_s=retry_after_seconds(response.headers))  # fmt: skip
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return VenueUnavailable(VENUE, f"server error: {text}", api_code=code, http_status=status)
    if status == HTTPStatus.NOT_FOUND:
        lowered = text.lower()
        if "order" in lowered:
            return UnknownOrder(VENUE, text, api_code=code, http_status=status)
        if "product" in lowered:
            return UnknownSymbol(VENUE, text, api_code=code, http_status=status)
    return BadRequest(VENUE, f"request refused: {text}", api_code=code, http_status=status)


def error_mapper() -> ErrorMapper:
    return map_response


def order_failure(error: ErrorResponse | None, fallback_reason: str = "") -> VenueRejected:
    """The exception for a create-order answer with "success": false."""
    if error is None:
        return OrderRejected(VENUE, f"order refused: {fallback_reason or 'no reason given'}",
                             api_code=fallback_reason or None)  # fmt: skip
    reason = error.new_order_failure_reason or error.error or fallback_reason
    if reason in ("UNKNOWN_FAILURE_REASON", ""):
        reason = error.error or error.preview_failure_reason or reason
    kind = _ORDER_FAILURES.get(reason, OrderRejected)
    detail = error.message or error.error_details or reason
    return kind(VENUE, f"order refused: {detail}", api_code=reason or None)
