"""Gate APIv4 signed requests: HMAC-SHA512, hex, over five lines.

Docs, "Authentication" (https://www.gate.io/docs/developers/apiv4/en/#authentication; mirror
rosssaunders/coincise ``docs/gateio/authentication.md``):
- the signature string is ``METHOD + "\\n" + URL path + "\\n" + query string + "\\n" +
  HexEncode(SHA512(body)) + "\\n" + Timestamp``: the method in upper case, the path with its
  ``/api/v4`` prefix and without host, the query string as sent (not URL-decoded, in the order
  of the URL, "" when there is none), the SHA-512 hex of the body (of "" when there is none);
- ``SIGN`` = HexEncode(HMAC_SHA512(secret, signature string)); headers ``KEY`` (the API
  key), ``Timestamp`` (Unix seconds) and ``SIGN``;
- the Timestamp may differ from the server's clock by at most 60 seconds.
The docs' two examples (key ``key``, secret ``secret``, Timestamp 1541993715) are the test
vectors of tests/unit/venues/gateio/test_signing.py.

Pure functions: the caller supplies the timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

from arb_venues.base import Credentials, Signed, SignRequest

KEY_HEADER = "KEY"
SIGN_HEADER = "SIGN"
TIMESTAMP_HEADER = "Timestamp"
EXPIRY_S = 60.0  # "the gap between its value and current time cannot exceed 60 seconds"


def signature_string(method: str, path: str, query: str, body: str, timestamp: str) -> str:
    hashed = hashlib.sha512(body.encode()).hexdigest()
    return f"{method.upper()}\n{path}\n{query}\n{hashed}\n{timestamp}"


def signature(secret: str, method: str, path: str, query: str, body: str, timestamp: str) -> str:
    message = signature_string(method, path, query, body, timestamp)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Sign one request; ``timestamp_ms`` is required (Gate carries it in a header)."""
    if request.timestamp_ms <= 0:
        raise ValueError(
            f"gateio: {request.method} {request.path} needs a timestamp: pass "
            "SignRequest(timestamp_ms=...)"
        )
    timestamp = str(request.timestamp_ms // 1000)
    value = signature(credentials.secret.get_secret_value(), request.method, request.path,
                      request.query, request.body, timestamp)  # fmt: skip
    headers = {KEY_HEADER: credentials.api_key, TIMESTAMP_HEADER: timestamp, SIGN_HEADER: value}
    return Signed(signature=value, headers=headers, query=request.query)


def verify(secret: str, method: str, path: str, query: str, body: str, timestamp: str,
           sent: str) -> bool:  # fmt: skip
    """Server side: is ``sent`` the right SIGN for this request and ``secret``?"""
    expected = signature(secret, method, path, query, body, timestamp)
    return hmac.compare_digest(expected, sent.lower())
