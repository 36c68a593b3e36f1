"""Gate APIv4 signing against the docs' two worked examples.

"Authentication" (https://www.gate.io/docs/developers/apiv4/en/#authentication; mirror
rosssaunders/coincise docs/gateio/authentication.md): key ``key``, secret ``secret``,
Timestamp 1541993715; a GET with a query and a POST with a JSON body, each with the signature
Gate prints for it."""

from __future__ import annotations

import hashlib

import pytest
from arb_venues import get_venue
from arb_venues.base import Credentials, SignRequest
from arb_venues.gateio.signing import sign, signature, signature_string, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

CREDENTIALS = Credentials("key", SecretStr("secret"))
TS = "1541993715"
GET_QUERY = "contract=BTC_USD&status=finished&limit=50"
GET_SIGN = (
    "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
    "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
)
POST_BODY = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
POST_SIGN = (
    "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
    "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
)
EMPTY_SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)


def test_docs_get_example_signs_to_the_printed_signature() -> None:
    text = signature_string("GET", "/api/v4/futures/orders", GET_QUERY, "", TS)
    assert text == f"GET\n/api/v4/futures/orders\n{GET_QUERY}\n{EMPTY_SHA512}\n{TS}"
    assert signature("secret", "GET", "/api/v4/futures/orders", GET_QUERY, "", TS) == GET_SIGN


def test_docs_post_example_signs_to_the_printed_signature() -> None:
    hashed = hashlib.sha512(POST_BODY.encode()).hexdigest()
    assert hashed.startswith("ad3c169203dc3026558f01b4df307641")  # the docs' body hash
    assert signature("secret", "POST", "/api/v4/futures/orders", "", POST_BODY, TS) == POST_SIGN


def test_sign_puts_key_timestamp_and_sign_in_headers() -> None:
    request = SignRequest("POST", "/api/v4/futures/orders", body=POST_BODY,
                          timestamp_ms=int(TS) * 1000 + 999)  # fmt: skip
    signed = sign(CREDENTIALS, request)
    assert signed.headers == {"KEY": "key", "Timestamp": TS, "SIGN": POST_SIGN}
    assert signed.signature == POST_SIGN and signed.query == ""
    assert get_venue("gateio").sign is sign


def test_verify_accepts_the_docs_signature_and_refuses_any_change() -> None:
    path = "/api/v4/futures/orders"
    assert verify("secret", "GET", path, GET_QUERY, "", TS, GET_SIGN)
    assert verify("secret", "GET", path, GET_QUERY, "", TS, GET_SIGN.upper())
    assert not verify("secret", "GET", path, GET_QUERY.replace("50", "51"), "", TS, GET_SIGN)
    assert not verify("secret", "GET", path, GET_QUERY, "", "1541993716", GET_SIGN)
    assert not verify("other", "GET", path, GET_QUERY, "", TS, GET_SIGN)
    assert not verify("secret", "POST", path, "", POST_BODY + " ", TS, POST_SIGN)


def test_sign_without_a_timestamp_says_how_to_fix_it() -> None:
    with pytest.raises(ValueError, match="needs a timestamp"):
        sign(CREDENTIALS, SignRequest("GET", "/api/v4/spot/accounts"))


def test_credentials_never_show_the_secret() -> None:
    assert "secret" not in repr(CREDENTIALS).replace("secret=", "")
