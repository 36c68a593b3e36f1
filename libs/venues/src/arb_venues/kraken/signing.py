"""Kraken spot private REST signing.

``API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))``,
with ``nonce`` a form field of the POST body and ``uri_path`` starting at ``/0/private``.
https://docs.kraken.com/api/docs/guides/spot-rest-auth (the page's AddOrder example is
reproduced in tests/unit/venues/kraken/test_signing.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import parse_qs

from arb_venues.base import Credentials, Signed, SignRequest


class SigningError(ValueError):
    """A request or secret that cannot be signed; the message says which and why."""


def nonce_of(body: str) -> str:
    """The ``nonce`` form field of a POST body."""
    values = parse_qs(body, keep_blank_values=True).get("nonce")
    if not values or not values[0]:
        raise SigningError(f"kraken: the POST body has no nonce field: {body[:80]!r}")
    return values[0]


def signature(secret: str, path: str, body: str, nonce: str | None = None) -> str:
    """The API-Sign value of one request (pure)."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningError("kraken: the API secret is not valid base64; copy it again") from exc
    nonce = nonce if nonce is not None else nonce_of(body)
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(key, path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Headers for one private POST; the body (with its nonce) is sent exactly as given."""
    value = signature(credentials.secret.get_secret_value(), request.path, request.body)
    headers = {
        "API-Key": credentials.api_key,
        "API-Sign": value,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return Signed(signature=value, headers=headers, query=request.query)


def verify(secret: str, path: str, body: str, sent_signature: str) -> bool:
    """Server side (the simulator): does ``sent_signature`` sign this request?"""
    try:
        expected = signature(secret, path, body)
    except SigningError:
        return False
    return hmac.compare_digest(expected.encode(), sent_signature.encode())
