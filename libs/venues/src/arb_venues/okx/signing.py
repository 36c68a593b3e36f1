"""OKX v5 private REST signing. Pure functions.

Docs: https://www.okx.com/docs-v5/en/#overview-rest-authentication
    OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))
where timestamp is OK-ACCESS-TIMESTAMP (ISO-8601 UTC with milliseconds, e.g.
``2020-12-08T09:08:57.715Z``), requestPath includes ``?query`` for GET ("GET request
parameters are counted as requestpath, not body"), and body is the exact JSON text sent.
The request expires 30 s after the timestamp (code 50102).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from arb_venues.base import Credentials, Signed, SignRequest

EXPIRY_S = 30.0


def iso_timestamp(timestamp_ms: int) -> str:
    """Epoch milliseconds -> ``2020-12-08T09:08:57.715Z`` (exact: no float rounding)."""
    seconds, millis = divmod(timestamp_ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def parse_iso_timestamp(text: str) -> float:
    """``2020-12-08T09:08:57.715Z`` -> epoch seconds; ValueError when malformed."""
    if not text.endswith("Z"):
        raise ValueError(f"OK-ACCESS-TIMESTAMP {text!r} is not UTC ISO-8601 (…Z)")
    return datetime.strptime(text[:-1], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


def prehash(timestamp: str, method: str, path: str, query: str = "", body: str = "") -> str:
    request_path = f"{path}?{query}" if query else path
    return f"{timestamp}{method.upper()}{request_path}{body}"


def signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Headers for one private request; query and body are sent exactly as given."""
    if credentials.passphrase is None:
        raise ValueError(
            "okx: the API key needs its passphrase (set the venue's passphrase credential)"
        )
    timestamp_ms = request.timestamp_ms or time.time_ns() // 1_000_000
    timestamp = iso_timestamp(timestamp_ms)
    message = prehash(timestamp, request.method, request.path, request.query, request.body)
    value = signature(credentials.secret.get_secret_value(), message)
    headers = {
        "OK-ACCESS-KEY": credentials.api_key,
        "OK-ACCESS-SIGN": value,
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": credentials.passphrase.get_secret_value(),
        "Content-Type": "application/json",
    }
    return Signed(signature=value, headers=headers, query=request.query)


def verify(
    secret: str, timestamp: str, method: str, path: str, query: str, body: str, given: str
) -> bool:
    """Server side: does ``given`` sign this request with ``secret``? Constant-time."""
    expected = signature(secret, prehash(timestamp, method, path, query, body))
    return hmac.compare_digest(expected.encode(), given.encode())
