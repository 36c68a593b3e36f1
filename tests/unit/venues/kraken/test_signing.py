"""Kraken private REST signing against the documentation's own example.

https://docs.kraken.com/api/docs/guides/spot-rest-auth ("Examples": buy 1.25 XBTUSD @ 37500).
"""

from __future__ import annotations

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.kraken.signing import SigningError, sign, signature, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

DOC_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
DOC_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
DOC_PATH = "/0/private/AddOrder"
DOC_SIGNATURE = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_the_docs_example_signature_is_reproduced() -> None:
    assert signature(DOC_SECRET, DOC_PATH, DOC_BODY) == DOC_SIGNATURE


def test_sign_puts_key_and_signature_in_headers_and_keeps_the_body() -> None:
    credentials = Credentials(api_key="my-key", secret=SecretStr(DOC_SECRET))
    signed = sign(credentials, SignRequest(method="POST", path=DOC_PATH, body=DOC_BODY))
    assert signed.signature == DOC_SIGNATURE
    assert signed.headers["API-Key"] == "my-key"
    assert signed.headers["API-Sign"] == DOC_SIGNATURE
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("secret", "path", "body"),
    [
        (DOC_SECRET.replace("kQH5", "kQH6"), DOC_PATH, DOC_BODY),
        (DOC_SECRET, "/0/private/AddOrdeR", DOC_BODY),
        (DOC_SECRET, DOC_PATH, DOC_BODY.replace("volume=1.25", "volume=1.26")),
        (DOC_SECRET, DOC_PATH, DOC_BODY.replace("nonce=1616492376594", "nonce=1616492376595")),
    ],
    ids=["secret", "path", "body", "nonce"],
)
def test_one_changed_character_changes_the_signature(secret: str, path: str, body: str) -> None:
    assert signature(secret, path, body) != DOC_SIGNATURE
    assert not verify(secret, path, body, DOC_SIGNATURE)


def test_verify_accepts_the_docs_example() -> None:
    assert verify(DOC_SECRET, DOC_PATH, DOC_BODY, DOC_SIGNATURE)


def test_a_body_without_nonce_is_refused_with_a_clear_error() -> None:
    with pytest.raises(SigningError, match="no nonce"):
        signature(DOC_SECRET, DOC_PATH, "ordertype=limit")


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(SigningError, match="base64"):
        signature("not base64!!", DOC_PATH, DOC_BODY)
    assert not verify("not base64!!", DOC_PATH, DOC_BODY, DOC_SIGNATURE)
