"""How KuCoin writes numbers and bodies, for the simulator: every number as decimal text
(levels, sequences in the REST book, order amounts), times in ms, every REST answer
``{"code": "200000", "data": ...}`` (a refusal: its code and ``msg``)."""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
from aiohttp import web

from arb_venues.kucoin import errors as codes
from arb_venues.simapi import SimLevel, SimOrder

_encoder = msgspec.json.Encoder()


def millis(ts_ns: int) -> int:
    return ts_ns // 1_000_000


def now_ms() -> int:
    return millis(time.time_ns())


def text(value: Decimal) -> str:
    """A number as KuCoin writes it: decimal text, no exponent, no trailing zeros."""
    return "0" if value == 0 else format(value.normalize(), "f")


def levels(side: list[SimLevel]) -> list[list[str]]:
    return [[text(px), text(sz)] for px, sz in side]


def changes(side: list[SimLevel], seq: int) -> list[list[str]]:
    """Increment changes ``[price, size, sequence]``."""
    return [[text(px), text(sz), str(seq)] for px, sz in side]


def encode(frame: object) -> bytes:
    return _encoder.encode(frame)


def ok(data: object, status: int = 200) -> web.Response:
    return web.Response(body=encode({"code": codes.OK, "data": data}), status=status,
                        content_type="application/json")  # fmt: skip


def error(entry: tuple[str, str], status: int = 400) -> web.Response:
    code, message = entry
    return web.Response(body=encode({"code": code, "msg": message}), status=status,
                        content_type="application/json")  # fmt: skip


def error_response(kind: str, retry_after_s: float | None = None) -> web.Response:
    """KuCoin-style bodies for the simulator core's injected HTTP faults: 429000 with the
    resource pool headers, 500000."""
    if kind in ("http_429", "http_418"):
        reset_ms = int((retry_after_s or 1.0) * 1000)
        headers = {"gw-ratelimit-limit": "2000", "gw-ratelimit-remaining": "0",
                   "gw-ratelimit-reset": str(reset_ms)}  # fmt: skip
        code, message = codes.TOO_MANY_REQUESTS
        return web.Response(body=encode({"code": code, "msg": message}), headers=headers,
                            status=429 if kind == "http_429" else 418,
                            content_type="application/json")  # fmt: skip
    if kind == "http_5xx":
        return error(codes.INTERNAL_ERROR, status=503)
    raise ValueError(f"kucoin sim: unknown error kind {kind!r}; use http_429, http_418, http_5xx")


def order_row(order: SimOrder, venue_symbol: str, quote: str) -> dict[str, object]:
    """One order as GET /api/v1/order/client-order/{clientOid} and /api/v1/orders give it."""
    active = order.status in ("new", "partially_filled")
    return {
        "id": order.order_id,
        "symbol": venue_symbol,
        "opType": "DEAL",
        "type": "limit",
        "side": order.side.value,
        "price": text(order.price),
        "size": text(order.size),
        "funds": "0",
        "dealFunds": text(order.quote_filled),
        "dealSize": text(order.filled),
        "fee": text(order.fee),
        "feeCurrency": order.fee_asset or quote,
        "stp": "",
        "timeInForce": order.time_in_force,
        "postOnly": False,
        "hidden": False,
        "iceberg": False,
        "channel": "API",
        "clientOid": order.client_order_id,
        "remark": None,
        "isActive": active,
        "cancelExist": order.status in ("canceled", "expired") and not active,
        "createdAt": millis(order.ts_created_ns),
        "tradeType": "TRADE",
    }
