"""Crypto.com Exchange v1 private request signing (HMAC-SHA256, hex), the signature in the body.

From the docs' "Digital Signature" section
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature):

1. sort the keys of ``params`` in ascending order;
2. join them as key + value with no spaces or delimiters (the *parameter string*); a list
   value contributes each element in turn, an object its own sorted keys, nested at most three
   levels deep (deeper values are written as text), ``null`` for a missing value;
3. sign ``method + id + api_key + parameter string + nonce`` with HMAC-SHA256 keyed by the
   API secret, and send the lowercase hex as ``sig`` next to ``api_key`` in the JSON body.

The request's ``nonce`` is the current time in ms; the server refuses one more than 60 s away
from its clock (40102 INVALID_NONCE). Every number is sent as a JSON string.

``sign`` (``arb sign``) takes the unsigned request body (``{"id","method","params","nonce"}``)
as ``SignRequest.body`` and returns the signature; the trading client sends the body of
``signed_body`` (the REST call is a POST with everything in the body, no query).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from arb_venues.base import Credentials, Signed, SignRequest

MAX_LEVEL = 3
NONCE_TOLERANCE_MS = 60_000


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(out: list[str], value: Any, level: int) -> None:
    if level >= MAX_LEVEL:
        out.append(_text(value))
        return
    if isinstance(value, Mapping):
        for key in sorted(value):
            item = value[key]
            out.append(str(key))
            if isinstance(item, (list, tuple, Mapping)):
                _append(out, item, level + 1)
            else:
                out.append(_text(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _append(out, item, level + 1)
    else:
        out.append(_text(value))


def parameter_string(params: Mapping[str, Any] | None) -> str:
    """The docs' parameter string of ``params`` ("" for none)."""
    if not params:
        return ""
    out: list[str] = []
    _append(out, params, 0)
    return "".join(out)


def payload_to_sign(
    method: str, request_id: Any, api_key: str, params: Mapping[str, Any] | None, nonce: Any
) -> str:
    """``method + id + api_key + parameter string + nonce``, the exact text signed."""
    return f"{method}{request_id}{api_key}{parameter_string(params)}{nonce}"


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def signed_body(
    credentials: Credentials,
    method: str,
    params: Mapping[str, Any],
    request_id: int,
    nonce_ms: int | None = None,
) -> tuple[str, str]:
    """The JSON body to POST for one private ``method`` call, and its signature."""
    nonce = nonce_ms if nonce_ms is not None else int(time.time() * 1000)
    text = payload_to_sign(method, request_id, credentials.api_key, params, nonce)
    sig = signature(credentials.secret.get_secret_value(), text)
    body = {
        "id": request_id,
        "method": method,
        "api_key": credentials.api_key,
        "params": dict(params),
        "nonce": nonce,
        "sig": sig,
    }
    return msgspec.json.encode(body).decode(), sig


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Sign an unsigned body ``{"id","method","params","nonce"}`` (``nonce`` defaults to
    ``timestamp_ms`` or now; ``method`` to the path's last two segments)."""
    fields: dict[str, Any] = msgspec.json.decode(request.body) if request.body else {}
    method = str(fields.get("method") or "/".join(request.path.strip("/").split("/")[-2:]))
    nonce = fields.get("nonce") or request.timestamp_ms or int(time.time() * 1000)
    request_id = fields.get("id", 1)
    params = fields.get("params") or {}
    body, sig = signed_body(credentials, method, params, request_id, int(nonce))
    del body  # the trading client sends signed_body()'s body; here only the signature counts
    return Signed(signature=sig, headers={"Content-Type": "application/json"})


def verify(secret: str, body: Mapping[str, Any]) -> bool:
    """Server side: does ``body["sig"]`` match what ``secret`` signs for this request?"""
    given = str(body.get("sig", ""))
    params = body.get("params")
    text = payload_to_sign(
        str(body.get("method", "")),
        body.get("id", ""),
        str(body.get("api_key", "")),
        params if isinstance(params, Mapping) else None,
        body.get("nonce", ""),
    )
    return hmac.compare_digest(signature(secret, text), given.lower())


def nonce_in_window(nonce: Any, now_ms: int) -> bool:
    """Server side: the nonce is within 60 s of the server's clock."""
    try:
        value = int(str(nonce))
    except ValueError:
        return False
    return abs(now_ms - value) <= NONCE_TOLERANCE_MS
