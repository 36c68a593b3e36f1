"""Binance HMAC signing against the documentation's own vectors.

Vectors from "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api#signed-endpoint-examples-for-post-apiv3order
(binance/binance-spot-api-docs rest-api.md @ a5e0bc3d).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.binance.signing import sign, signature, split_signature, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
CREDS = Credentials(api_key=API_KEY, secret=SecretStr(SECRET))
ASCII_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
ASCII_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
NON_ASCII_QUERY = (
    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
    "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
NON_ASCII_SIGNATURE = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def test_docs_ascii_example_signs_to_the_documented_hex() -> None:
    signed = sign(CREDS, SignRequest("POST", "/api/v3/order", query=ASCII_QUERY))
    assert signed.signature == ASCII_SIGNATURE
    assert signed.query == f"{ASCII_QUERY}&signature={ASCII_SIGNATURE}"
    assert signed.headers == {"X-MBX-APIKEY": API_KEY}
    assert signed.params == {"signature": ASCII_SIGNATURE}


def test_docs_non_ascii_example_signs_the_percent_encoded_payload() -> None:
    signed = sign(CREDS, SignRequest("POST", "/api/v3/order", query=NON_ASCII_QUERY))
    assert signed.signature == NON_ASCII_SIGNATURE


def test_trading_encoding_of_the_docs_params_is_the_docs_payload() -> None:
    symbol = "\uff11\uff12\uff13\uff14\uff15\uff16"  # the docs' full-width digits 1-6
    params = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "1", "price": "0.1", "recvWindow": "5000",
              "timestamp": "1499827319559"}  # fmt: skip
    assert urlencode(params) == NON_ASCII_QUERY


@pytest.mark.parametrize(
    ("secret", "query"),
    [
        (SECRET[:-1] + "k", ASCII_QUERY),  # last secret character changed
        (SECRET, ASCII_QUERY.replace("price=0.1", "price=0.2")),
        (SECRET, ASCII_QUERY.replace("1499827319559", "1499827319558")),
    ],
)
def test_one_character_changes_the_signature(secret: str, query: str) -> None:
    assert signature(secret, query) != ASCII_SIGNATURE
    assert not verify(secret, f"{query}&signature={ASCII_SIGNATURE}")


def test_timestamp_is_appended_when_the_query_has_none() -> None:
    base = ASCII_QUERY.replace("&timestamp=1499827319559", "")
    signed = sign(CREDS, SignRequest("POST", "/api/v3/order", query=base,
                                     timestamp_ms=1499827319559))  # fmt: skip
    assert signed.signature == ASCII_SIGNATURE
    assert signed.params == {"timestamp": "1499827319559", "signature": ASCII_SIGNATURE}


def test_missing_timestamp_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        sign(CREDS, SignRequest("GET", "/api/v3/account", query="omitZeroBalances=true"))


def test_query_and_body_are_concatenated_without_separator() -> None:
    query, body = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        ASCII_QUERY.split("GTC&", 1)[1],
    )
    assert query + body == ASCII_QUERY.replace("GTC&quantity", "GTCquantity")
    signed = sign(CREDS, SignRequest("POST", "/api/v3/order", query=query, body=body))
    assert signed.signature == signature(SECRET, query + body)
    assert verify(SECRET, query, f"{body}&signature={signed.signature}")
    assert verify(SECRET, f"{query}&signature={signed.signature}", body)


def test_server_side_verify_accepts_the_docs_request_in_any_case() -> None:
    assert verify(SECRET, f"{ASCII_QUERY}&signature={ASCII_SIGNATURE}")
    assert verify(SECRET, f"{ASCII_QUERY}&signature={ASCII_SIGNATURE.upper()}")  # HMAC: no case
    assert not verify(SECRET, ASCII_QUERY)  # no signature at all
    assert split_signature(f"{ASCII_QUERY}&signature=ab", "") == (ASCII_QUERY, "ab")


def test_credentials_never_show_the_secret() -> None:
    assert SECRET not in repr(CREDS) and SECRET not in str(CREDS)
