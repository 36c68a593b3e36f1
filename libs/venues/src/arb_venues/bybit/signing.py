"""Bybit v5 private REST signing (HMAC keys).

From https://bybit-exchange.github.io/docs/v5/guide#create-a-request:
    GET:  sign timestamp + api_key + recv_window + queryString
    POST: sign timestamp + api_key + recv_window + jsonBodyString (the exact body sent)
    X-BAPI-SIGN = lowercase hex of HMAC_SHA256(secret, that string)
with headers X-BAPI-API-KEY, X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW (ms, default 5000).
The server accepts server_time - recv_window <= timestamp < server_time + 1000.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from arb_venues.base import Credentials, Signed, SignRequest

RECV_WINDOW_MS = 5000
FUTURE_TOLERANCE_MS = 1000
API_KEY_HEADER = "X-BAPI-API-KEY"
TIMESTAMP_HEADER = "X-BAPI-TIMESTAMP"
RECV_WINDOW_HEADER = "X-BAPI-RECV-WINDOW"
SIGN_HEADER = "X-BAPI-SIGN"


def payload_to_sign(
    timestamp: str, api_key: str, recv_window: str, method: str, query: str, body: str
) -> str:
    """The exact text Bybit signs: GET signs the query string, other methods the body."""
    return timestamp + api_key + recv_window + (query if method.upper() == "GET" else body)


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Headers for one request; the query and body are sent exactly as given."""
    timestamp = str(request.timestamp_ms or int(time.time() * 1000))
    recv_window = str(RECV_WINDOW_MS)
    text = payload_to_sign(
        timestamp, credentials.api_key, recv_window, request.method, request.query, request.body
    )
    value = signature(credentials.secret.get_secret_value(), text)
    headers = {
        API_KEY_HEADER: credentials.api_key,
        TIMESTAMP_HEADER: timestamp,
        RECV_WINDOW_HEADER: recv_window,
        SIGN_HEADER: value,
    }
    if request.method.upper() != "GET":
        headers["Content-Type"] = "application/json"
    return Signed(signature=value, headers=headers, query=request.query)


def verify(secret: str, headers: Mapping[str, str], method: str, query: str, body: str) -> bool:
    """Server side: does X-BAPI-SIGN match what ``secret`` signs for this request?"""
    given = headers.get(SIGN_HEADER, "")
    text = payload_to_sign(
        headers.get(TIMESTAMP_HEADER, ""),
        headers.get(API_KEY_HEADER, ""),
        headers.get(RECV_WINDOW_HEADER, ""),
        method,
        query,
        body,
    )
    return hmac.compare_digest(signature(secret, text), given)


def timestamp_in_window(headers: Mapping[str, str], now_ms: int) -> bool:
    """Server side: server_time - recv_window <= timestamp < server_time + 1000."""
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
        recv_window = int(headers.get(RECV_WINDOW_HEADER) or RECV_WINDOW_MS)
    except ValueError:
        return False
    return now_ms - recv_window <= timestamp < now_ms + FUTURE_TOLERANCE_MS
