"""KuCoin signing against the docs' procedure ("Signing a Message",
https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message).

The docs give the pre-hash texts of their examples (``str(now) + 'GET' + '/api/v1/accounts'``;
``str(now) + 'POST' + '/api/v1/deposit-addresses' + data_json``; a GET's query in the
endpoint: ``/api/v1/deposit-addresses?currency=XBT``) but no secret with its signature, so the
signature is checked against an HMAC computed here independently and against ``verify``."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.kucoin.signing import prehash, sign, verify, verify_passphrase
from pydantic import SecretStr

pytestmark = pytest.mark.unit

CREDS = Credentials("api_key", SecretStr("api_secret"), SecretStr("api_passphrase"))


def reference(secret: str, text: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    ).decode()


def test_prehash_texts_are_the_docs_examples() -> None:
    assert prehash("1547015186532", "GET", "/api/v1/accounts") == "1547015186532GET/api/v1/accounts"
    assert (
        prehash("1547015186532", "post", "/api/v1/deposit-addresses", body='{"currency":"BTC"}')
        == '1547015186532POST/api/v1/deposit-addresses{"currency":"BTC"}'
    )
    assert (
        prehash("1", "GET", "/api/v1/deposit-addresses", query="currency=XBT")
        == "1GET/api/v1/deposit-addresses?currency=XBT"
    )


def test_headers_sign_the_request_and_the_passphrase_key_version_2() -> None:
    request = SignRequest(
        "POST", "/api/v1/orders", body='{"clientOid":"a"}', timestamp_ms=1547015186532
    )
    signed = sign(CREDS, request)
    text = '1547015186532POST/api/v1/orders{"clientOid":"a"}'
    assert signed.headers["KC-API-SIGN"] == signed.signature == reference("api_secret", text)
    assert signed.headers["KC-API-PASSPHRASE"] == reference("api_secret", "api_passphrase")
    assert signed.headers["KC-API-TIMESTAMP"] == "1547015186532"
    assert signed.headers["KC-API-KEY"] == "api_key" and signed.headers["KC-API-KEY-VERSION"] == "2"
    assert verify("api_secret", "1547015186532", "POST", "/api/v1/orders", "", '{"clientOid":"a"}',
                  signed.signature)  # fmt: skip
    assert not verify("api_secret", "1547015186533", "POST", "/api/v1/orders", "",
                      '{"clientOid":"a"}', signed.signature)  # fmt: skip
    assert verify_passphrase("api_secret", "api_passphrase", signed.headers["KC-API-PASSPHRASE"])
    assert not verify_passphrase("other", "api_passphrase", signed.headers["KC-API-PASSPHRASE"])


def test_a_get_signs_its_query_and_secrets_never_show() -> None:
    signed = sign(CREDS, SignRequest("GET", "/api/v1/accounts", query="type=trade", timestamp_ms=5))
    assert signed.signature == reference("api_secret", "5GET/api/v1/accounts?type=trade")
    assert signed.query == "type=trade"
    assert "api_secret" not in repr(CREDS) and "api_passphrase" not in str(signed.headers)


def test_a_key_without_passphrase_or_a_wrong_version_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        sign(
            Credentials("k", SecretStr("s")), SignRequest("GET", "/api/v1/accounts", timestamp_ms=1)
        )
    with pytest.raises(ValueError, match="use 2 or 3"):
        sign(CREDS, SignRequest("GET", "/api/v1/accounts", timestamp_ms=1), key_version="1")
