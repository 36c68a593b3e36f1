"""ES256 JWTs of Coinbase CDP API keys.

https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication
ES256 signatures are randomised, so there is no fixed vector to reproduce: each token is
verified with the public key, every field is checked against the docs, and a change of one
character anywhere must fail.
"""

from __future__ import annotations

import base64
import json

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.coinbase.signing import (
    LIFETIME_S,
    build_jwt,
    rest_uri,
    sign,
    unverified_key_name,
    verify,
    ws_jwt,
)
from arb_venues.errors import InvalidSignature
from pydantic import SecretStr

from tests.unit.venues.coinbase.simulated import KEY_NAME, KEY_PEM, new_pem

pytestmark = pytest.mark.unit

NOW = 1_700_000_000
CREDENTIALS = Credentials(api_key=KEY_NAME, secret=SecretStr(KEY_PEM))
ORDERS_URI = "POST api.coinbase.com/api/v3/brokerage/orders"


def _part(token: str, index: int) -> dict:
    text = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _signed(method: str = "POST", path: str = "/api/v3/brokerage/orders", query: str = ""):
    request = SignRequest(method, path, query=query, body="{}", timestamp_ms=NOW * 1000)
    return sign(CREDENTIALS, request)


def test_uri_claim_is_method_host_path_as_in_the_docs_example():
    # docs: uri = f"{request_method} {request_host}{request_path}",
    # e.g. "GET api.coinbase.com/api/v3/brokerage/accounts"; the query string is not part.
    assert rest_uri("get", "api.coinbase.com", "/api/v3/brokerage/accounts?limit=250") == (
        "GET api.coinbase.com/api/v3/brokerage/accounts"
    )


def test_signed_request_carries_a_bearer_jwt_with_the_documented_header_and_claims():
    signed = _signed(query="a=1")
    token = signed.signature
    assert signed.headers == {"Authorization": f"Bearer {token}"} and signed.query == "a=1"
    header, claims = _part(token, 0), _part(token, 1)
    assert header["alg"] == "ES256" and header["typ"] == "JWT" and header["kid"] == KEY_NAME
    assert len(header["nonce"]) == 64 and int(header["nonce"], 16) >= 0  # random hex
    assert claims == {"sub": KEY_NAME, "iss": "cdp", "nbf": NOW, "exp": NOW + 120,
                      "uri": ORDERS_URI}  # fmt: skip
    assert len(base64.urlsafe_b64decode(token.split(".")[2] + "==")) == 64  # raw r || s


def test_signature_verifies_with_the_public_key_of_the_secret():
    token = _signed().signature
    claims = verify(token, KEY_PEM, uri=ORDERS_URI, now_s=NOW + 1)
    assert claims["sub"] == KEY_NAME
    assert unverified_key_name(token) == KEY_NAME


def test_every_token_is_fresh():
    assert _signed().signature != _signed().signature  # new nonce and new ECDSA k


@pytest.mark.parametrize("part", [0, 1, 2])
def test_one_changed_character_in_any_part_fails(part):
    token = _signed().signature
    pieces = token.split(".")
    text = pieces[part]
    middle = len(text) // 2
    pieces[part] = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    with pytest.raises(InvalidSignature):
        verify(".".join(pieces), KEY_PEM, uri=ORDERS_URI, now_s=NOW + 1)


def test_a_different_key_fails():
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify(_signed().signature, new_pem(), uri=ORDERS_URI, now_s=NOW + 1)


def test_expired_or_not_yet_valid_tokens_fail():
    token = _signed().signature
    with pytest.raises(InvalidSignature, match="expired"):
        verify(token, KEY_PEM, uri=ORDERS_URI, now_s=NOW + LIFETIME_S + 60)
    with pytest.raises(InvalidSignature, match="not valid before"):
        verify(token, KEY_PEM, uri=ORDERS_URI, now_s=NOW - 60)


def test_a_token_for_another_endpoint_fails():
    token = _signed("GET", "/api/v3/brokerage/accounts").signature
    with pytest.raises(InvalidSignature, match="uri"):
        verify(token, KEY_PEM, uri=ORDERS_URI, now_s=NOW)


def test_a_token_with_the_legacy_issuer_fails_even_when_signed(monkeypatch):
    from arb_venues.coinbase import signing

    monkeypatch.setattr(signing, "ISSUER", "coinbase-cloud")  # the pre-CDP issuer
    legacy = build_jwt(KEY_NAME, KEY_PEM, uri=ORDERS_URI, now_s=NOW)
    monkeypatch.undo()
    with pytest.raises(InvalidSignature, match="iss"):
        verify(legacy, KEY_PEM, uri=ORDERS_URI, now_s=NOW)


def test_websocket_jwt_has_no_uri_claim():
    token = ws_jwt(CREDENTIALS, now_s=NOW)
    assert "uri" not in _part(token, 1)
    assert verify(token, KEY_PEM, uri=None, now_s=NOW)["iss"] == "cdp"


def test_host_of_the_simulator_goes_into_the_uri():
    request = SignRequest("GET", "/api/v3/brokerage/accounts", timestamp_ms=NOW * 1000)
    token = sign(CREDENTIALS, request, host="127.0.0.1:8123").signature
    assert _part(token, 1)["uri"] == "GET 127.0.0.1:8123/api/v3/brokerage/accounts"


def test_pem_with_escaped_newlines_from_an_env_var_works():
    escaped = KEY_PEM.replace("\n", "\\n")
    token = build_jwt(KEY_NAME, escaped, uri=ORDERS_URI, now_s=NOW)
    assert verify(token, KEY_PEM, uri=ORDERS_URI, now_s=NOW)


def test_a_secret_that_is_not_an_ec_pem_is_refused_without_echoing_it():
    with pytest.raises(ValueError, match="PEM") as caught:
        build_jwt(KEY_NAME, "not-a-key-secret-value", uri=ORDERS_URI)
    assert "not-a-key-secret-value" not in str(caught.value)
    assert "not-a-key" not in repr(CREDENTIALS)
