"""OKX signing, from the docs' example (https://www.okx.com/docs-v5/en/#overview-rest-authentication).

The docs give the inputs (secret ``22582BD0CFF14C41EDBF1AB98506286D``, timestamp
``2020-12-08T09:08:57.715Z``, ``GET /api/v5/account/balance?ccy=BTC`` and the body example
``{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}``) but not the resulting value; the
expected values below were computed independently with OpenSSL:
    printf '%s' '<prehash>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64
"""

from __future__ import annotations

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.okx.signing import iso_timestamp, parse_iso_timestamp, sign, verify
from pydantic import SecretStr

pytestmark = pytest.mark.unit

DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOC_TIMESTAMP = "2020-12-08T09:08:57.715Z"
DOC_TIMESTAMP_MS = 1607418537715
DOC_BODY = '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
GET_SIGNATURE = "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
POST_SIGNATURE = "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="


def credentials(secret: str = DOC_SECRET) -> Credentials:
    return Credentials(
        api_key="doc-key", secret=SecretStr(secret), passphrase=SecretStr("doc-pass")
    )


def test_doc_timestamp_is_iso_utc_with_milliseconds() -> None:
    assert iso_timestamp(DOC_TIMESTAMP_MS) == DOC_TIMESTAMP
    assert iso_timestamp(1607418537005) == "2020-12-08T09:08:57.005Z"
    assert parse_iso_timestamp(DOC_TIMESTAMP) == DOC_TIMESTAMP_MS / 1000


def test_doc_get_request_signs_path_with_query() -> None:
    request = SignRequest(
        method="GET", path="/api/v5/account/balance", query="ccy=BTC", timestamp_ms=DOC_TIMESTAMP_MS
    )
    signed = sign(credentials(), request)
    assert signed.signature == GET_SIGNATURE
    assert signed.query == "ccy=BTC"
    assert signed.headers == {
        "OK-ACCESS-KEY": "doc-key",
        "OK-ACCESS-SIGN": GET_SIGNATURE,
        "OK-ACCESS-TIMESTAMP": DOC_TIMESTAMP,
        "OK-ACCESS-PASSPHRASE": "doc-pass",
        "Content-Type": "application/json",
    }


def test_doc_post_request_signs_the_body_text() -> None:
    request = SignRequest(
        method="post",
        path="/api/v5/account/set-leverage",
        body=DOC_BODY,
        timestamp_ms=DOC_TIMESTAMP_MS,
    )
    assert sign(credentials(), request).signature == POST_SIGNATURE


@pytest.mark.parametrize("field", ["secret", "timestamp", "method", "path", "query", "body"])
def test_one_character_changed_fails_verification(field: str) -> None:
    good = dict(
        secret=DOC_SECRET,
        timestamp=DOC_TIMESTAMP,
        method="POST",
        path="/api/v5/account/set-leverage",
        query="",
        body=DOC_BODY,
    )
    assert verify(**good, given=POST_SIGNATURE)
    changed = dict(good)
    changed[field] = {
        "secret": DOC_SECRET[:-1] + "E",
        "timestamp": DOC_TIMESTAMP.replace("715", "716"),
        "method": "GET",
        "path": "/api/v5/account/set-leveragE",
        "query": "a=1",
        "body": DOC_BODY.replace('"5"', '"6"'),
    }[field]
    assert not verify(**changed, given=POST_SIGNATURE)


def test_signature_one_character_off_is_refused() -> None:
    bad = GET_SIGNATURE[:-2] + ("A" if GET_SIGNATURE[-2] != "A" else "B") + "="
    assert not verify(
        DOC_SECRET, DOC_TIMESTAMP, "GET", "/api/v5/account/balance", "ccy=BTC", "", bad
    )


def test_a_key_without_passphrase_is_refused_with_the_way_out() -> None:
    creds = Credentials(api_key="k", secret=SecretStr("s"))
    with pytest.raises(ValueError, match="passphrase"):
        sign(creds, SignRequest(method="GET", path="/api/v5/account/balance"))


def test_secrets_never_show_in_repr() -> None:
    assert DOC_SECRET not in repr(credentials()) and "doc-pass" not in repr(credentials())
