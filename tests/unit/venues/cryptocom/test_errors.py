"""Crypto.com's documented reason codes and HTTP statuses -> our error kinds (docs "Response
and Reason Codes", https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html)."""

from __future__ import annotations

import pytest
from arb_venues.common.rest import Response
from arb_venues.cryptocom.errors import map_response
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    RequestTimeout,
    TimestampRejected,
    UnknownOrder,
    UnknownSymbol,
    VenueUnavailable,
)

pytestmark = pytest.mark.unit


def _response(status: int, code: int | str, message: str = "") -> Response:
    body = f'{{"id":1,"method":"private/create-order","code":{code},"message":"{message}"}}'
    return Response(status=status, headers={}, body=body.encode(), seconds=0.0)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, 40101, InvalidSignature),  # UNAUTHORIZED
        (401, 40103, InvalidSignature),  # IP_ILLEGAL
        (400, 40102, TimestampRejected),  # INVALID_NONCE
        (429, 42901, RateLimited),  # TOO_MANY_REQUESTS
        (408, 40801, RequestTimeout),  # REQUEST_TIMEOUT
        (500, 50001, VenueUnavailable),  # ERR_INTERNAL
        (400, 50001, VenueUnavailable),  # ERR_INTERNAL as the table gives it
        (200, 40401, UnknownOrder),  # NOT_FOUND
        (500, 306, InsufficientBalance),  # INSUFFICIENT_AVAILABLE_BALANCE
        (400, 209, UnknownSymbol),  # INVALID_INSTRUMENT
        (400, 204, OrderRejected),  # DUPLICATE_CLORDID
        (500, 415, OrderRejected),  # BELOW_MIN_ORDER_SIZE
        (400, 40004, BadRequest),  # MISSING_OR_INVALID_ARGUMENT
    ],
)
def test_reason_codes_map_to_their_kind(status: int, code: int, kind: type) -> None:
    error = map_response(_response(status, code, "X"))
    assert type(error) is kind
    assert error is not None and error.api_code == code and error.code == status


def test_success_is_no_error_and_retryability_follows_the_kind() -> None:
    assert map_response(_response(200, 0)) is None
    assert map_response(_response(200, '"0"')) is None  # the OpenAPI examples quote codes
    limited = map_response(_response(429, 42901))
    assert isinstance(limited, RateLimited) and limited.retryable
    assert limited.retry_after_s == 1.0  # no Retry-After is documented
    refused = map_response(_response(400, 204))
    assert refused is not None and not refused.retryable


def test_a_body_that_is_no_envelope_is_unavailable_not_success() -> None:
    html = Response(status=200, headers={}, body=b"<html>maintenance</html>", seconds=0.0)
    assert isinstance(map_response(html), VenueUnavailable)
    gateway = Response(status=502, headers={}, body=b"bad gateway", seconds=0.0)
    assert isinstance(map_response(gateway), VenueUnavailable)
