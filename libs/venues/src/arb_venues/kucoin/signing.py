"""KuCoin private REST signing: HMAC-SHA256, base64, with the passphrase signed too (key v2/v3).

Docs, "Signing a Message" (https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message,
https://www.kucoin.com/docs-new/authentication):
- ``KC-API-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body)), where
  timestamp is ``KC-API-TIMESTAMP`` (epoch ms), METHOD upper case, endpoint the path with its
  query string for GET and DELETE (``/api/v1/deposit-addresses?currency=XBT``, not
  URL-encoded) and body the exact JSON text sent ("" when there is none);
- ``KC-API-PASSPHRASE``: for key versions 2 and 3, base64(HMAC-SHA256(secret, passphrase)),
  with ``KC-API-KEY-VERSION`` naming the version (a version 1 key sent it in plain text; no
  longer accepted: "V1 & V2 API keys are no longer supported by this API" on some endpoints,
  error 400008); this client sends version 2 unless told otherwise;
- the timestamp must be within 5 s of the server's time (error 400002).

The docs give the procedure and code, not a (secret, signature) pair: the tests check the
docs' pre-hash texts byte for byte and the signature against an independent HMAC and the
simulator's verification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from arb_venues.base import Credentials, Signed, SignRequest

KEY_VERSION = "2"
KEY_VERSIONS = ("2", "3")
EXPIRY_S = 5.0  # "the difference between your timestamp and the API server time ... 5 seconds"


def prehash(timestamp: str, method: str, path: str, query: str = "", body: str = "") -> str:
    endpoint = f"{path}?{query}" if query else path
    return f"{timestamp}{method.upper()}{endpoint}{body}"


def hmac_b64(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(credentials: Credentials, request: SignRequest, key_version: str = KEY_VERSION) -> Signed:
    """The five KC-API headers of one request; query and body are sent exactly as given."""
    if credentials.passphrase is None:
        raise ValueError(
            "kucoin: the API key needs its passphrase (set the venue's passphrase credential)"
        )
    if key_version not in KEY_VERSIONS:
        raise ValueError(f"kucoin: API key version {key_version!r}; use 2 or 3")
    secret = credentials.secret.get_secret_value()
    timestamp = str(request.timestamp_ms or time.time_ns() // 1_000_000)
    value = hmac_b64(secret, prehash(timestamp, request.method, request.path, request.query,
                                     request.body))  # fmt: skip
    headers = {
        "KC-API-KEY": credentials.api_key,
        "KC-API-SIGN": value,
        "KC-API-TIMESTAMP": timestamp,
        "KC-API-PASSPHRASE": hmac_b64(secret, credentials.passphrase.get_secret_value()),
        "KC-API-KEY-VERSION": key_version,
        "Content-Type": "application/json",
    }
    return Signed(signature=value, headers=headers, query=request.query)


def verify(secret: str, timestamp: str, method: str, path: str, query: str, body: str,
           given: str) -> bool:  # fmt: skip
    """Server side: does ``given`` sign this request with ``secret``? Constant-time."""
    expected = hmac_b64(secret, prehash(timestamp, method, path, query, body))
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_passphrase(secret: str, passphrase: str, given: str) -> bool:
    """Server side: is ``given`` the signed passphrase of a version 2/3 key?"""
    return hmac.compare_digest(hmac_b64(secret, passphrase).encode(), given.encode())
