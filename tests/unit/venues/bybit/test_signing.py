"""Bybit v5 HMAC signing, from https://bybit-exchange.github.io/docs/v5/guide#create-a-request.

The guide gives the exact strings to sign for a GET and a POST example; it does not publish
the secret behind its example signatures, so those two hex values cannot be recomputed. The
HMAC step is pinned by RFC 4231 test case 2 instead, and the strings by the guide.
"""

from __future__ import annotations

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.bybit import signing
from pydantic import SecretStr

pytestmark = pytest.mark.unit

DOC_GET_QUERY = "category=option&symbol=BTC-29JUL22-25000-C"
DOC_GET_STRING = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
DOC_POST_BODY = '{"category": "option"}'
DOC_POST_STRING = '1658385579423XXXXXXXXXX5000{"category": "option"}'
SECRET = "s3cr3t-for-tests"
CREDENTIALS = Credentials(api_key="XXXXXXXXXX", secret=SecretStr(SECRET))


def test_get_signs_timestamp_key_window_and_query_as_the_guide_shows() -> None:
    text = signing.payload_to_sign(
        "1658384314791", "XXXXXXXXXX", "5000", "GET", DOC_GET_QUERY, "ignored"
    )
    assert text == DOC_GET_STRING


def test_post_signs_the_raw_json_body_as_the_guide_shows() -> None:
    text = signing.payload_to_sign(
        "1658385579423", "XXXXXXXXXX", "5000", "POST", "ignored=1", DOC_POST_BODY
    )
    assert text == DOC_POST_STRING


def test_hmac_is_lowercase_hex_sha256_rfc4231_case_2() -> None:
    assert signing.signature("Jefe", "what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_sign_puts_the_signature_and_its_inputs_in_x_bapi_headers() -> None:
    request = SignRequest(
        "GET", "/v5/order/realtime", query=DOC_GET_QUERY, timestamp_ms=1658384314791
    )
    signed = signing.sign(CREDENTIALS, request)
    assert signed.headers == {
        "X-BAPI-API-KEY": "XXXXXXXXXX",
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": signing.signature(SECRET, DOC_GET_STRING),
    }
    assert signed.signature == signed.headers["X-BAPI-SIGN"] and signed.query == DOC_GET_QUERY
    assert SECRET not in repr(CREDENTIALS)


def test_post_sign_adds_json_content_type_and_verifies_server_side() -> None:
    request = SignRequest(
        "POST", "/v5/order/create", body=DOC_POST_BODY, timestamp_ms=1658385579423
    )
    signed = signing.sign(CREDENTIALS, request)
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.headers["X-BAPI-SIGN"] == signing.signature(SECRET, DOC_POST_STRING)
    assert signing.verify(SECRET, signed.headers, "POST", "", DOC_POST_BODY)


@pytest.mark.parametrize(
    ("secret", "query", "body", "header", "value"),
    [
        ("s3cr3t-for-testS", DOC_GET_QUERY, "", None, None),  # one character of the secret
        (SECRET, DOC_GET_QUERY.replace("C", "P"), "", None, None),  # the query
        (SECRET, DOC_GET_QUERY, "", "X-BAPI-TIMESTAMP", "1658384314792"),  # the timestamp
        (SECRET, DOC_GET_QUERY, "", "X-BAPI-API-KEY", "XXXXXXXXXY"),  # the key
        (SECRET, DOC_GET_QUERY, "", "X-BAPI-RECV-WINDOW", "5001"),  # the window
    ],
)
def test_a_one_character_change_fails_verification(
    secret: str, query: str, body: str, header: str | None, value: str | None
) -> None:
    signed = signing.sign(
        CREDENTIALS, SignRequest("GET", "/v5/order/realtime", query=DOC_GET_QUERY, timestamp_ms=1)
    )
    headers = dict(signed.headers)
    assert signing.verify(SECRET, headers, "GET", DOC_GET_QUERY, "")
    if header is not None:
        headers[header] = value  # type: ignore[assignment]
    assert not signing.verify(secret, headers, "GET", query, body)


def test_timestamp_window_is_recv_window_back_and_one_second_ahead() -> None:
    headers = {"X-BAPI-TIMESTAMP": "100000", "X-BAPI-RECV-WINDOW": "5000"}
    assert signing.timestamp_in_window(headers, now_ms=105000)
    assert not signing.timestamp_in_window(headers, now_ms=105001)  # too old
    assert signing.timestamp_in_window(headers, now_ms=99001)
    assert not signing.timestamp_in_window(headers, now_ms=99000)  # too far ahead
    assert not signing.timestamp_in_window({"X-BAPI-TIMESTAMP": "soon"}, now_ms=1)
