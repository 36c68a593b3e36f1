"""HTX (Huobi) private REST signing: signature version 2, HmacSHA256 over the query.

Docs, "Quick Start > Authentication > HmacSHA256 Signature Method"
(https://huobiapi.github.io/docs/spot/v1/en/#authentication):
1. the method (GET or POST), ``\\n``; 2. the host in lower case, ``\\n``; 3. the path, ``\\n``;
4. the parameters ``AccessKeyId``, ``SignatureMethod=HmacSHA256``, ``SignatureVersion=2``,
   ``Timestamp`` (UTC ``YYYY-MM-DDThh:mm:ss``, "valid within 5 minutes") and, for GET, the
   request's own parameters, URL-encoded (UTF-8, upper-case hex: ``:`` is ``%3A``) and
   sorted by ASCII (upper case before lower: ``Timestamp`` before ``order-id``), joined by
   ``&``. A POST's parameters travel in its JSON body and are not signed;
5. base64 of HMAC-SHA256 of that text with the secret key is ``Signature``, URL-encoded and
   appended to the query.

The docs' example gives the pre-signed text (step 6), byte for byte, but no secret key: its
printed signature cannot be reproduced, so the tests check the text against the docs and the
signature against an independent HMAC and the simulator's verification.

Pure functions: the caller supplies the timestamp and the host (``arb sign`` signs for the
real host, ``api.huobi.pro``).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import time
from urllib.parse import quote, unquote

from arb_venues.base import Credentials, Signed, SignRequest

REAL_HOST = "api.huobi.pro"
METHOD = "HmacSHA256"
VERSION = "2"
EXPIRY_S = 300.0  # "The value is valid within 5 minutes"
AUTH_PARAMS = ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp")


def timestamp_text(timestamp_ms: int) -> str:
    """``2017-05-11T15:19:30``: UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp_ms // 1000))


def parse_timestamp(text: str) -> float:
    """Epoch seconds of a ``Timestamp`` value; ValueError when it is not the docs' format."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))


def encode(value: str) -> str:
    """URL-encoding as HTX signs it: UTF-8, upper-case hex, only unreserved characters kept."""
    return quote(value, safe="-_.~")


def pairs(query: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of an encoded query, decoded."""
    out = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        out.append((unquote(name), unquote(value)))
    return out


def canonical_query(params: list[tuple[str, str]]) -> str:
    """Step 4-5: every parameter encoded, sorted by ASCII, joined by ``&``."""
    encoded = sorted(f"{encode(name)}={encode(value)}" for name, value in params)
    return "&".join(encoded)


def pre_signed_text(method: str, host: str, path: str, params: list[tuple[str, str]]) -> str:
    return f"{method.upper()}\n{host.lower()}\n{path}\n{canonical_query(params)}"


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_for_host(credentials: Credentials, request: SignRequest, host: str) -> Signed:
    """Sign one request for ``host``. The auth parameters are added unless the query has
    them (a given ``Timestamp`` is kept: the docs' vector)."""
    params = [(n, v) for n, v in pairs(request.query) if n != "Signature"]
    names = {name for name, _ in params}
    added: dict[str, str] = {}
    if "AccessKeyId" not in names:
        added["AccessKeyId"] = credentials.api_key
    if "SignatureMethod" not in names:
        added["SignatureMethod"] = METHOD
    if "SignatureVersion" not in names:
        added["SignatureVersion"] = VERSION
    if "Timestamp" not in names:
        if request.timestamp_ms <= 0:
            raise ValueError(
                f"htx: {request.method} {request.path} needs a timestamp: put Timestamp= in "
                "the query or pass SignRequest(timestamp_ms=...)"
            )
        added["Timestamp"] = timestamp_text(request.timestamp_ms)
    params += list(added.items())
    text = pre_signed_text(request.method, host, request.path, params)
    value = signature(credentials.secret.get_secret_value(), text)
    query = f"{canonical_query(params)}&Signature={encode(value)}"
    return Signed(signature=value, params={**added, "Signature": value}, query=query)


def sign(credentials: Credentials, request: SignRequest) -> Signed:
    """Sign for the real exchange's host (``arb sign``; the trading client signs for the host
    it talks to)."""
    return sign_for_host(credentials, request, REAL_HOST)


def verify(secret: str, method: str, host: str, path: str, query: str) -> bool:
    """Server side: is the query's ``Signature`` right for ``secret`` at ``host``?"""
    params = pairs(query)
    sent = [value for name, value in params if name == "Signature"]
    if len(sent) != 1:
        return False
    kept = [(n, v) for n, v in params if n != "Signature"]
    expected = signature(secret, pre_signed_text(method, host, path, kept))
    return hmac.compare_digest(expected, sent[0])
