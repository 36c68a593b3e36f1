"""Crypto.com signing against the docs' "Digital Signature" section
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature).

The docs give the algorithm and reference code but print no signature; the two vectors below
were computed by running the docs' own reference code (the Python example for the nested
``private/create-order-list`` request, the Java example's ``public/auth`` request) on the
docs' example inputs, and are compared here with this module's independent implementation.
"""

from __future__ import annotations

import msgspec
import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.cryptocom import signing
from pydantic import SecretStr

pytestmark = pytest.mark.unit

ORDER_LIST_PARAMS = {
    "contingency_type": "LIST",
    "order_list": [
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "LIMIT", "price": "0.24",
         "quantity": "1.0"},
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "STOP_LIMIT", "price": "0.27",
         "quantity": "1.0", "trigger_price": "0.26"},
    ],
}  # fmt: skip


def test_docs_nested_order_list_payload_and_signature() -> None:
    text = signing.payload_to_sign(
        "private/create-order-list", "14", "API_KEY", ORDER_LIST_PARAMS, "1587846358253"
    )
    assert text == (
        "private/create-order-list14API_KEYcontingency_typeLISTorder_list"
        "instrument_nameONE_USDTprice0.24quantity1.0sideBUYtypeLIMIT"
        "instrument_nameONE_USDTprice0.27quantity1.0sideBUYtrigger_price0.26typeSTOP_LIMIT"
        "1587846358253"
    )
    assert signing.signature("SECRET_KEY", text) == (
        "0ce830395a52b741cd79a3f20d623de0eff72bfa9c6d87af37eba0cfafb51c6e"
    )


def test_docs_public_auth_example_without_params() -> None:
    text = signing.payload_to_sign("public/auth", 11, "token", None, 1589594102779)
    assert text == "public/auth11token1589594102779"
    assert signing.signature("secretKey", text) == (
        "9dcebf6eeec155f829227ee447dee73120e0aead42fab74d38ed5d8271793dc8"
    )


def test_keys_are_sorted_and_scalar_lists_joined() -> None:
    # the docs' create-order example: exec_inst is a list of strings
    params = {"side": "SELL", "exec_inst": ["POST_ONLY"], "price": "50000.5", "quantity": "1"}
    assert signing.parameter_string(params) == "exec_instPOST_ONLYprice50000.5quantity1sideSELL"
    assert signing.parameter_string({"a": None, "b": 3}) == "anullb3"
    assert signing.parameter_string({}) == ""


def test_signed_body_verifies_and_any_change_breaks_it() -> None:
    credentials = Credentials(api_key="k", secret=SecretStr("s3cret"))
    params = {"instrument_name": "BTC_USDT", "side": "BUY", "price": "100.01", "quantity": "1"}
    body, sig = signing.signed_body(credentials, "private/create-order", params, 7, 1700000000000)
    sent = msgspec.json.decode(body)
    assert sent["sig"] == sig and sent["api_key"] == "k" and sent["nonce"] == 1700000000000
    assert signing.verify("s3cret", sent)
    assert not signing.verify("other", sent)
    for key, value in (("id", 8), ("nonce", 1700000000001), ("method", "private/cancel-order")):
        assert not signing.verify("s3cret", {**sent, key: value})
    assert not signing.verify("s3cret", {**sent, "params": {**params, "price": "100.02"}})


def test_sign_of_an_unsigned_body_matches_signed_body() -> None:
    credentials = Credentials(api_key="k", secret=SecretStr("s3cret"))
    unsigned = '{"id":5,"method":"private/user-balance","params":{},"nonce":1700000000000}'
    signed = signing.sign(credentials, SignRequest("POST", "/exchange/v1/private/user-balance",
                                                   body=unsigned))  # fmt: skip
    _, sig = signing.signed_body(credentials, "private/user-balance", {}, 5, 1700000000000)
    assert signed.signature == sig
    assert "s3cret" not in repr(signed)


def test_nonce_window_is_60_seconds() -> None:
    assert signing.nonce_in_window(1_000_000, 1_060_000)
    assert not signing.nonce_in_window(1_000_000, 1_060_001)
    assert not signing.nonce_in_window("soon", 1_000_000)
