"""How HTX writes numbers and bodies, for the simulator: WS levels and reference data as JSON
numbers (``[9.121E-7, 92730.24]``), order amounts as decimal strings, times in ms, every
REST answer ``{"status": "ok"|"error", ...}`` with HTTP 200."""

from __future__ import annotations

import gzip
import time
from decimal import Decimal

import msgspec
from aiohttp import web

from arb_venues.htx import errors as codes
from arb_venues.simapi import SimLevel, SimOrder

# Decimals as JSON numbers, exactly (HTX's WS and reference data write numbers, not text).
_encoder = msgspec.json.Encoder(decimal_format="number")

STATES = {
    "new": "submitted",
    "partially_filled": "partial-filled",
    "filled": "filled",
    "canceled": "canceled",
    "expired": "canceled",
    "rejected": "canceled",
}
ORDER_KINDS = {"IOC": "ioc", "FOK": "limit-fok", "GTC": "limit"}


def millis(ts_ns: int) -> int:
    return ts_ns // 1_000_000


def now_ms() -> int:
    return millis(time.time_ns())


def number(value: Decimal) -> Decimal:
    """A level number as HTX sends it: the exact decimal, no trailing zeros."""
    return value.normalize() if value else Decimal(0)


def text(value: Decimal) -> str:
    """An order amount as HTX writes it: decimal text, no exponent."""
    return "0" if value == 0 else format(value.normalize(), "f")


def levels(side: list[SimLevel]) -> list[list[Decimal]]:
    return [[number(px), number(sz)] for px, sz in side]


def encode(frame: object) -> bytes:
    return _encoder.encode(frame)


def frame_bytes(frame: object, gzipped: bool) -> bytes:
    """A WS frame's payload: gzip of the JSON as HTX sends it, or the JSON itself."""
    raw = encode(frame)
    return gzip.compress(raw, compresslevel=1) if gzipped else raw


def ok(data: object, **extra: object) -> web.Response:
    return web.Response(body=encode({"status": "ok", **extra, "data": data}),
                        content_type="application/json")  # fmt: skip


def error(entry: tuple[str, str], status: int = 200, **params: str) -> web.Response:
    code, message = entry
    body = {"status": "error", "err-code": code,
            "err-msg": message.format(**params) if params else message, "data": None}  # fmt: skip
    return web.Response(body=encode(body), status=status, content_type="application/json")


def error_response(kind: str, retry_after_s: float | None = None) -> web.Response:
    """HTX-style bodies for the simulator core's injected HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    if kind in ("http_429", "http_418"):
        status = 418 if kind == "http_418" else 429
        code, message = codes.TOO_OFTEN
        body = {"status": "error", "err-code": code, "err-msg": message, "data": None}
        return web.Response(body=encode(body), status=status, headers=headers,
                            content_type="application/json")  # fmt: skip
    if kind == "http_5xx":
        code, message = codes.SYSTEM_ERROR
        body = {"status": "error", "err-code": code, "err-msg": message, "data": None}
        return web.Response(body=encode(body), status=503, headers=headers,
                            content_type="application/json")  # fmt: skip
    raise ValueError(f"htx sim: unknown error kind {kind!r}; use http_429, http_418, http_5xx")


def order_number(order: SimOrder) -> int:
    """HTX order ids are numbers: the digits of the simulator's id."""
    return int("".join(ch for ch in order.order_id if ch.isdigit()) or "0")


def order_row(order: SimOrder, venue_symbol: str, account_id: int) -> dict[str, object]:
    """One order as getClientOrder and the order search give it."""
    state = STATES.get(order.status, "canceled")
    if state == "canceled" and order.filled:
        state = "partial-canceled"
    finished = millis(order.ts_updated_ns) if state in ("filled", "canceled",
                                                        "partial-canceled") else 0  # fmt: skip
    return {
        "id": order_number(order),
        "symbol": venue_symbol,
        "account-id": account_id,
        "client-order-id": order.client_order_id,
        "amount": text(order.size),
        "price": text(order.price),
        "created-at": millis(order.ts_created_ns),
        "type": f"{order.side.value}-{ORDER_KINDS.get(order.time_in_force, 'limit')}",
        "field-amount": text(order.filled),
        "field-cash-amount": text(order.quote_filled),
        "field-fees": text(order.fee),
        "finished-at": finished,
        "source": "spot-api",
        "state": state,
        "canceled-at": finished if "canceled" in state else 0,
    }
