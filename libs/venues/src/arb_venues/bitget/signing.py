"""Bitget private REST signing. Pure functions.

Docs: https://www.bitget.com/api-doc/common/signature
    ACCESS-SIGN = Base64(HMAC-SHA256(secretKey, timestamp + METHOD + requestPath
                                     + ("?" + queryString if queryString) + body))
with ``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` (milliseconds since the epoch, the same value that
was signed) and ``ACCESS-PASSPHRASE`` (set when the key was made) as headers, and
``Content-Type: application/json``. The page's examples give the exact strings to sign:
``16273667805456GET/api/mix/v2/market/depth?symbol=BTCUSDT&limit=20`` and a POST whose body
follows the path. One revision of the page asks for the query keys in ascending order, so the
trading client always sends (and signs) its queries sorted. A request whose timestamp is
more than 30 s from the server's clock is refused (40008, "Request timestamp expired"; the
30 s window is the one the WS login documents: common/websocket-intro).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from arb_venues.base import Credentials, Signed, SignRequest

EXPIRY_S = 30.0


def prehash(timestamp: str, method: str, path: str, query: str = "", body: str = "") -> str:
    """The string Bitget signs: ``?`` and the query only when there is a query."""
    request_path = f"{path}?{query}" if query else path
    return f"{timestamp}{method.upper()}{request_path}{body}"


def signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Headers for one private request; query and body are sent exactly as given."""
    if credentials.passphrase is None:
        raise ValueError(
            "bitget: the API key needs its passphrase (set the venue's passphrase credential)"
        )
    timestamp = str(request.timestamp_ms or time.time_ns() // 1_000_000)
    message = prehash(timestamp, request.method, request.path, request.query, request.body)
    value = signature(credentials.secret.get_secret_value(), message)
    headers = {
        "ACCESS-KEY": credentials.api_key,
        "ACCESS-SIGN": value,
        "ACCESS-TIMESTAMP": timestamp,
        "ACCESS-PASSPHRASE": credentials.passphrase.get_secret_value(),
        "Content-Type": "application/json",
        "locale": "en-US",
    }
    return Signed(signature=value, headers=headers, query=request.query)


def verify(
    secret: str, timestamp: str, method: str, path: str, query: str, body: str, given: str
) -> bool:
    """Server side: does ``given`` sign this request with ``secret``? Constant-time."""
    expected = signature(secret, prehash(timestamp, method, path, query, body))
    return hmac.compare_digest(expected.encode(), given.encode())
