"""Bitget signing against the docs' own examples (https://www.bitget.com/api-doc/common/signature):
the strings to sign, exactly as the page writes them, and a signature checked against an
HMAC computed here from the page's formula by the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from arb_venues import get_venue
from arb_venues.base import Credentials, SignRequest
from arb_venues.bitget.signing import prehash, sign, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

CREDENTIALS = Credentials("bg_key", SecretStr("bg_secret"), SecretStr("bg_pass"))


def test_get_prehash_is_the_docs_string() -> None:
    # "Generate the content to be signed: 16273667805456GET/api/mix/v2/market/depth?..."
    text = prehash("16273667805456", "get", "/api/mix/v2/market/depth", "symbol=BTCUSDT&limit=20")
    assert text == "16273667805456GET/api/mix/v2/market/depth?symbol=BTCUSDT&limit=20"


def test_post_prehash_puts_the_body_after_the_path_and_no_question_mark() -> None:
    body = '{"productType":"usdt-futures","symbol":"BTCUSDT","size":"8"}'
    text = prehash("16273667805456", "POST", "/api/v2/mix/order/place-order", "", body)
    assert text == "16273667805456POST/api/v2/mix/order/place-order" + body


def test_headers_carry_key_timestamp_passphrase_and_the_base64_hmac() -> None:
    request = SignRequest("GET", "/api/v2/spot/trade/orderInfo", query="clientOid=abc",
                          timestamp_ms=1695710946294)  # fmt: skip
    signed = sign(CREDENTIALS, request)
    message = b"1695710946294GET/api/v2/spot/trade/orderInfo?clientOid=abc"
    expected = base64.b64encode(hmac.new(b"bg_secret", message, hashlib.sha256).digest()).decode()
    assert signed.headers["ACCESS-SIGN"] == signed.signature == expected
    assert signed.headers["ACCESS-KEY"] == "bg_key"
    assert signed.headers["ACCESS-TIMESTAMP"] == "1695710946294"
    assert signed.headers["ACCESS-PASSPHRASE"] == "bg_pass"
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.query == "clientOid=abc"


def test_verify_accepts_the_signature_and_refuses_any_change() -> None:
    body = '{"symbol":"BTCUSDT","side":"buy"}'
    signed = sign(CREDENTIALS, SignRequest("POST", "/api/v2/spot/trade/place-order", body=body,
                                           timestamp_ms=1))  # fmt: skip
    good = signed.signature
    assert verify("bg_secret", "1", "POST", "/api/v2/spot/trade/place-order", "", body, good)
    assert not verify("bg_secret", "2", "POST", "/api/v2/spot/trade/place-order", "", body, good)
    assert not verify("other", "1", "POST", "/api/v2/spot/trade/place-order", "", body, good)
    assert not verify("bg_secret", "1", "POST", "/api/v2/spot/trade/place-order", "", "{}", good)


def test_a_key_without_its_passphrase_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        sign(Credentials("k", SecretStr("s")), SignRequest("GET", "/x"))


def test_the_registry_signs_with_it_and_asks_for_a_passphrase() -> None:
    spec = get_venue("bitget")
    assert spec.sign is sign and spec.credentials.passphrase
