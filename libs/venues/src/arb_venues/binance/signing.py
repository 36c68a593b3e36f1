"""Binance SIGNED requests (HMAC keys): HMAC-SHA256, hex, over the total params.

Docs, "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys"
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api#signed-endpoint-examples-for-post-apiv3order):
- the signature payload is the query string concatenated WITHOUT separator to the HTTP body,
  non-ASCII percent-encoded before signing;
- key = the API secret; output = hex; sent as the ``signature`` parameter; the API key goes in
  the ``X-MBX-APIKEY`` header;
- HMAC signatures are not case-sensitive (the server compares them case-insensitively);
- ``timestamp`` (ms) is mandatory and ``recvWindow`` optional (default 5000, max 60000).

Pure functions: the caller supplies the timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

from arb_venues.base import Credentials, Signed, SignRequest

API_KEY_HEADER = "X-MBX-APIKEY"


def signature(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` (already percent-encoded) with ``secret``."""
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
                f"binance: {request.method} {request.path} needs a timestamp: put timestamp= in "
                "the query or body, or pass SignRequest(timestamp_ms=...)"
            )
        params["timestamp"] = str(request.timestamp_ms)
        query = f"{query}&timestamp={request.timestamp_ms}" if query else params_text(params)
    value = signature(credentials.secret.get_secret_value(), query + request.body)
    params["signature"] = value
    return Signed(
        signature=value,
        headers={API_KEY_HEADER: credentials.api_key},
        params=params,
        query=f"{query}&signature={value}" if query else f"signature={value}",
    )


def params_text(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def split_signature(query: str, body: str) -> tuple[str, str | None]:
    """(the signed payload, the signature sent) of a request as the server received it.

    The ``signature`` parameter may sit in the query string or the body; the payload is
    everything else, query first, concatenated without separator.
    """
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
    """Server side: is the request's ``signature`` right for ``secret``? (case-insensitive)"""
    payload, sent = split_signature(query, body)
    if not sent:
        return False
    expected = signature(secret, payload)
    return hmac.compare_digest(expected, sent.lower())
