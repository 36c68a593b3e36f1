"""Bitfinex v2 private REST signing. Pure functions.

https://docs.bitfinex.com/docs/rest-auth: every authenticated call is a POST to
``https://api.bitfinex.com/v2/auth/...`` with a JSON body and the headers ``bfx-nonce`` (the
docs' generator: milliseconds x 1000, a number that grows with every request of a key),
``bfx-apikey`` and ``bfx-signature`` = hex HMAC-SHA384(secret, ``/api/`` + path + nonce +
body), where path is ``v2/auth/...`` and body the exact JSON text sent (``{}`` when there are no
fields). https://docs.bitfinex.com/docs/api-access: a nonce not above the key's last one is
refused (error 10114, "nonce: small"), so one key serves one process.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from arb_venues.base import Credentials, Signed, SignRequest

_lock = threading.Lock()
_state = {"last": 0}


def next_nonce() -> str:
    """Microseconds since the epoch, strictly above every nonce this process made before."""
    with _lock:
        value = max(time.time_ns() // 1_000, _state["last"] + 1)
        _state["last"] = value
    return str(value)


def payload(path: str, nonce: str, body: str) -> str:
    """``/api/v2/auth/r/wallets`` + nonce + body: what is signed (``path`` with or without its
    leading ``/``)."""
    return f"/api/{path.lstrip('/')}{nonce}{body}"


def signature(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha384).hexdigest()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Headers of one private request. ``request.path`` is ``/v2/auth/...``, ``request.body``
    the exact JSON sent (empty means ``{}``); ``timestamp_ms`` fixes the nonce (ms x 1000)."""
    body = request.body or "{}"
    nonce = str(request.timestamp_ms * 1000) if request.timestamp_ms else next_nonce()
    value = signature(credentials.secret.get_secret_value(), payload(request.path, nonce, body))
    headers = {
        "bfx-nonce": nonce,
        "bfx-apikey": credentials.api_key,
        "bfx-signature": value,
        "Content-Type": "application/json",
    }
    return Signed(signature=value, headers=headers, query=request.query)


def verify(secret: str, path: str, nonce: str, body: str, given: str) -> bool:
    """Server side: does ``given`` sign this request with ``secret``? Constant-time."""
    expected = signature(secret, payload(path, nonce, body))
    return hmac.compare_digest(expected.encode(), given.encode())
