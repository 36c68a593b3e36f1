"""How Coinbase writes numbers and times, for the simulator's frames and bodies.

Numbers are JSON strings. Book levels carry the product's grid decimals ("68900.00",
"1.50000000" in the level2 examples); order and balance amounts are plain decimals.
Times are RFC 3339 UTC with microseconds and a "Z".
"""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
from aiohttp import web

from arb_venues.coinbase import schemas
from arb_venues.coinbase.schemas import ApiError


def fixed(value: Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def plain(value: Decimal) -> str:
    """Decimal text without exponent or trailing zeros: 0.00100 -> "0.001", 0 -> "0"."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def rfc3339(ts_ns: int | None = None) -> str:
    return schemas.rfc3339(time.time_ns() if ts_ns is None else ts_ns)


def api_error(status: int, error: str, message: str, headers: dict[str, str] | None = None
              ) -> web.Response:  # fmt: skip
    """Coinbase's REST error body: {"error", "error_details", "message"}."""
    body = msgspec.json.encode(ApiError(error=error, message=message, error_details=message))
    return web.Response(status=status, body=body, content_type="application/json",
                        headers=headers)  # fmt: skip


def unauthorized() -> web.Response:
    """What Coinbase answers to a missing or bad JWT: 401, plain text."""
    return web.Response(status=401, text="Unauthorized\n")


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """The simulator core's injected HTTP faults, in Coinbase's style.

    Coinbase has no 418 "banned" answer: both "http_429" and "http_418" get its 429.
    """
    if kind in ("http_429", "http_418"):
        headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
        return api_error(429, "RATE_LIMIT_EXCEEDED", "Too many requests", headers)
    return api_error(503, "UNAVAILABLE", "service unavailable, try again later")
