"""MEXC SIGNED requests: HMAC-SHA256, lower-case hex, over the total params.

Docs, "SIGNED" and "SIGNED Endpoint Examples for POST /api/v3/order"
(https://www.mexc.com/api-docs/spot-v3/general-info; mexcdevelop/apidocs spot_v3_en):
- ``totalParams`` is the query string concatenated with the request body, WITHOUT a
  separator (the docs' example 3: "There is no & between "LIMIT" and "quantity=1"");
- key = the secretKey; the signature is lower-case hex, sent as the ``signature``
  parameter; the API key goes in the ``X-MEXC-APIKEY`` header;
- ``timestamp`` (ms) is mandatory; ``recvWindow`` optional (default 5000, max 60000); the
  server accepts ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <=
  recvWindow`` ("Timing security").

The docs' worked example (apiKey ``mx0aBYs33eIilxBWC5``, secret
``45d0b3c26f2644f19bfb98b07741b2f5``) is checked in tests/unit/venues/mexc/test_signing.py.
Its "Example 1" prints a signature (323c96ab...) that no HMAC of its payload gives; examples
2 and 3 are right (fd3e4e85... for the same payload), as openssl confirms.

Pure functions: the caller supplies the timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

from arb_venues.base import Credentials, Signed, SignRequest

API_KEY_HEADER = "X-MEXC-APIKEY"


def signature(secret: str, payload: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` (already percent-encoded) with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _has_param(encoded: str, name: str) -> bool:
    prefix = f"{name}="
    return any(part.startswith(prefix) for part in encoded.split("&"))


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Sign one request. ``timestamp`` is appended to the query unless query or body has it."""
    query = request.query
    params: dict[str, str] = {}
    if not (_has_param(query, "timestamp") or _has_param(request.body, "timestamp")):
        if request.timestamp_ms <= 0:
            raise ValueError(
                f"mexc: {request.method} {request.path} needs a timestamp: put timestamp= in "
                "the query or body, or pass SignRequest(timestamp_ms=...)"
            )
        params["timestamp"] = str(request.timestamp_ms)
        query = (
            f"{query}&timestamp={request.timestamp_ms}"
            if query
            else f"timestamp={request.timestamp_ms}"
        )
    value = signature(credentials.secret.get_secret_value(), query + request.body)
    params["signature"] = value
    return Signed(
        signature=value,
        headers={API_KEY_HEADER: credentials.api_key},
        params=params,
        query=f"{query}&signature={value}" if query else f"signature={value}",
    )


def split_signature(query: str, body: str) -> tuple[str, str | None]:
    """(the signed payload, the signature sent) of a request as the server received it: the
    ``signature`` parameter may sit in the query or the body; the payload is everything else,
    query first, concatenated without separator."""
    sent: str | None = None
    kept: list[str] = []
    for text in (query, body):
        parts = []
        for part in text.split("&") if text else ():
            if part.startswith("signature="):
                sent = part[len("signature=") :]
            else:
                parts.append(part)
        kept.append("&".join(parts))
    return kept[0] + kept[1], sent


def verify(secret: str, query: str, body: str = "") -> bool:
    """Server side: is the request's ``signature`` right for ``secret``? MEXC takes lower-case
    hex only ("The signature is support lowercase only")."""
    payload, sent = split_signature(query, body)
    if not sent:
        return False
    return hmac.compare_digest(signature(secret, payload), sent)
