"""HTX signature version 2 against the docs' worked example and an independent HMAC.

The docs (https://huobiapi.github.io/docs/spot/v1/en/#authentication, "HmacSHA256 Signature
Method") give the request's parameters, the sorted query (step 5) and the pre-signed text
(step 6) byte for byte; they print a signature but not the secret key it was made with, so
that value cannot be reproduced by anyone: the signature is checked against Python's hmac
over the docs' text instead, and against the server-side verification."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from arb_venues import get_venue
from arb_venues.base import Credentials, SignRequest
from arb_venues.htx.signing import (
    canonical_query,
    pairs,
    pre_signed_text,
    sign,
    sign_for_host,
    timestamp_text,
    verify,
)
from pydantic import SecretStr

pytestmark = pytest.mark.unit

ACCESS_KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
SECRET = "b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx"  # any secret: the docs print none
DOCS_QUERY = (
    "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256"
    "&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
)
DOCS_TEXT = f"GET\napi.huobi.pro\n/v1/order/orders\n{DOCS_QUERY}"
CREDENTIALS = Credentials(ACCESS_KEY, SecretStr(SECRET))


def test_the_docs_parameters_sort_and_encode_to_the_docs_query_and_pre_signed_text() -> None:
    unsorted = [("AccessKeyId", ACCESS_KEY), ("order-id", "1234567890"),
                ("SignatureMethod", "HmacSHA256"), ("SignatureVersion", "2"),
                ("Timestamp", "2017-05-11T15:19:30")]  # fmt: skip
    assert canonical_query(unsorted) == DOCS_QUERY
    assert pre_signed_text("get", "API.huobi.pro", "/v1/order/orders", unsorted) == DOCS_TEXT


def test_sign_adds_the_auth_parameters_and_signs_the_docs_text() -> None:
    request = SignRequest("GET", "/v1/order/orders", query="order-id=1234567890",
                          timestamp_ms=1494515970000)  # 2017-05-11T15:19:30Z  # fmt: skip
    signed = sign(CREDENTIALS, request)
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), DOCS_TEXT.encode(), hashlib.sha256).digest()
    ).decode()
    assert signed.signature == expected
    assert signed.query.startswith(DOCS_QUERY + "&Signature=")
    assert dict(pairs(signed.query))["Signature"] == expected  # URL-encoded, decodes back
    assert verify(SECRET, "GET", "api.huobi.pro", "/v1/order/orders", signed.query)


def test_the_server_refuses_a_changed_parameter_host_method_or_secret() -> None:
    signed = sign_for_host(CREDENTIALS, SignRequest("GET", "/v1/account/accounts",
                                                    timestamp_ms=1494515970000),
                           "127.0.0.1:8080")  # fmt: skip
    path = "/v1/account/accounts"
    assert verify(SECRET, "GET", "127.0.0.1:8080", path, signed.query)
    assert not verify(SECRET, "GET", "api.huobi.pro", path, signed.query)
    assert not verify(SECRET, "POST", "127.0.0.1:8080", path, signed.query)
    assert not verify("another", "GET", "127.0.0.1:8080", path, signed.query)
    tampered = signed.query.replace("SignatureVersion=2", "SignatureVersion=1")
    assert not verify(SECRET, "GET", "127.0.0.1:8080", path, tampered)
    assert not verify(SECRET, "GET", "127.0.0.1:8080", path, signed.query + "&x=1")


def test_a_post_signs_only_the_auth_parameters_and_a_timestamp_is_required() -> None:
    signed = sign(CREDENTIALS, SignRequest("POST", "/v1/order/orders/place",
                                           body='{"symbol":"btcusdt"}',
                                           timestamp_ms=1494515970000))  # fmt: skip
    assert [name for name, _ in pairs(signed.query)] == [
        "AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="Timestamp"):
        sign(CREDENTIALS, SignRequest("GET", "/v1/account/accounts"))
    assert timestamp_text(1494515970999) == "2017-05-11T15:19:30"


def test_the_spec_signs_for_the_real_host_as_arb_sign_shows() -> None:
    spec = get_venue("htx")
    assert spec.sign is sign
    signed = spec.sign(CREDENTIALS, SignRequest("GET", "/v1/order/orders",
                                                query=DOCS_QUERY))  # fmt: skip
    assert verify(SECRET, "GET", "api.huobi.pro", "/v1/order/orders", signed.query)


def test_arb_sign_prints_the_query_the_client_sends(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from arb_cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["sign", "htx", "--key", ACCESS_KEY, "--secret", SECRET, "--method", "GET",
              "--path", "/v1/order/orders", "--query", DOCS_QUERY, "--json"])  # fmt: skip
    assert exited.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"].startswith(DOCS_QUERY + "&Signature=")
    assert verify(SECRET, "GET", "api.huobi.pro", "/v1/order/orders", out["query"])
