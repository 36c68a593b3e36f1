"""MEXC signing against the docs' worked example ("SIGNED Endpoint Examples for POST
/api/v3/order", https://www.mexc.com/api-docs/spot-v3/general-info; mexcdevelop/apidocs
spot_v3_en): apiKey mx0aBYs33eIilxBWC5, secretKey 45d0b3c26f2644f19bfb98b07741b2f5."""

from __future__ import annotations

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.mexc.signing import API_KEY_HEADER, sign, signature, split_signature, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

KEY, SECRET = "mx0aBYs33eIilxBWC5", "45d0b3c26f2644f19bfb98b07741b2f5"
PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
)
# Example 2 (as a query string; example 1's body is the same payload): the docs' value.
DOCS_SIGNATURE = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
# Example 3: query "symbol=BTCUSDT&side=BUY&type=LIMIT" + body, concatenated without "&".
MIXED_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT"
MIXED_BODY = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
DOCS_MIXED_SIGNATURE = "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
CREDENTIALS = Credentials(KEY, SecretStr(SECRET))


def test_query_string_example_gives_the_docs_signature() -> None:
    assert signature(SECRET, PAYLOAD) == DOCS_SIGNATURE
    signed = sign(CREDENTIALS, SignRequest("POST", "/api/v3/order", query=PAYLOAD))
    assert signed.signature == DOCS_SIGNATURE
    assert signed.query == f"{PAYLOAD}&signature={DOCS_SIGNATURE}"
    assert signed.headers == {API_KEY_HEADER: KEY}


def test_body_example_signs_the_same_payload() -> None:
    signed = sign(CREDENTIALS, SignRequest("POST", "/api/v3/order", body=PAYLOAD))
    assert signed.signature == DOCS_SIGNATURE
    assert verify(SECRET, f"signature={DOCS_SIGNATURE}", PAYLOAD)


def test_mixed_query_and_body_concatenate_without_a_separator() -> None:
    signed = sign(CREDENTIALS, SignRequest("POST", "/api/v3/order", query=MIXED_QUERY,
                                           body=MIXED_BODY))  # fmt: skip
    assert signed.signature == DOCS_MIXED_SIGNATURE
    assert verify(SECRET, MIXED_QUERY, f"{MIXED_BODY}&signature={DOCS_MIXED_SIGNATURE}")


def test_docs_example_one_signature_is_not_an_hmac_of_its_payload() -> None:
    """The docs print 323c96ab... for example 1: no HMAC of that payload gives it (a docs
    error); the server side refuses it, as MEXC would."""
    wrong = "323c96ab85a745712e95e63cad28903dd8292e4a905e99c4ee3932023843a117"
    assert not verify(SECRET, f"signature={wrong}", PAYLOAD)


def test_timestamp_is_appended_when_absent_and_required() -> None:
    signed = sign(CREDENTIALS, SignRequest("GET", "/api/v3/account", query="recvWindow=5000",
                                           timestamp_ms=1644489390087))  # fmt: skip
    payload, sent = split_signature(signed.query, "")
    assert payload == "recvWindow=5000&timestamp=1644489390087"
    assert sent == signature(SECRET, payload)
    with pytest.raises(ValueError, match="timestamp"):
        sign(CREDENTIALS, SignRequest("GET", "/api/v3/account"))


def test_verify_refuses_a_wrong_secret_upper_case_hex_and_a_missing_signature() -> None:
    query = f"{PAYLOAD}&signature={DOCS_SIGNATURE}"
    assert verify(SECRET, query)
    assert not verify("another-secret", query)
    assert not verify(SECRET, f"{PAYLOAD}&signature={DOCS_SIGNATURE.upper()}")  # lower only
    assert not verify(SECRET, PAYLOAD)
    assert not verify(SECRET, query.replace("price=11", "price=12"))


def test_secret_never_shows_in_the_signed_request() -> None:
    signed = sign(CREDENTIALS, SignRequest("POST", "/api/v3/order", query=PAYLOAD))
    assert SECRET not in repr(signed) and SECRET not in repr(CREDENTIALS)
