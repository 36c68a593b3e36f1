"""How OKX writes numbers and bodies, for the simulator: decimal strings without padding
("41006.8", "0.5", "100"), millisecond timestamps as strings, ``{"code","msg","data"}``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
from aiohttp import web

from arb_venues.okx import errors as codes
from arb_venues.simapi import SimLevel, SimOrder

ORDER_STATES = {
    "new": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "canceled",
    "expired": "canceled",
    "rejected": "canceled",
}
ORDER_TYPES = {"IOC": "ioc", "FOK": "fok", "GTC": "limit"}


def number(value: Decimal) -> str:
    """OKX's text for a decimal: no exponent, no trailing zeros ("41006.8", "0")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def millis(ts_ns: int) -> str:
    return str(ts_ns // 1_000_000)


def levels(side: Sequence[SimLevel]) -> list[list[str]]:
    """``[px, sz, "0", orders]``; a deleted level is ``[px, "0", "0", "0"]``."""
    return [[number(px), number(sz), "0", "1" if sz else "0"] for px, sz in side]


def body(
    code: str = "0",
    msg: str = "",
    data: object = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    payload: dict[str, object] = {"code": code, "msg": msg}
    if data is not None:
        payload["data"] = data
    return web.Response(
        body=msgspec.json.encode(payload),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error(entry: tuple[str, int, str], **params: str) -> web.Response:
    code, status, message = entry
    return body(code, message.format(**params) if params else message, status=status)


def error_response(kind: str, retry_after_s: float | None = None) -> web.Response:
    """OKX-style bodies for the simulator core's injected HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    if kind in ("http_429", "http_418"):
        # OKX answers its rate limit with 429 / code 50011; it has no 418 of its own, so a
        # drilled 418 keeps that status with the same OKX body.
        status = 418 if kind == "http_418" else 429
        return body(codes.RATE_LIMIT[0], codes.RATE_LIMIT[2], status=status, headers=headers)
    if kind == "http_5xx":
        code, status, message = codes.SERVICE_UNAVAILABLE
        return body(code, message, status=status, headers=headers)
    raise ValueError(f"okx sim: unknown error kind {kind!r}; use http_429, http_418, http_5xx")


def order_detail(order: SimOrder, inst_id: str) -> dict[str, str]:
    """One ``data`` row of GET /api/v5/trade/order."""
    last_px, last_sz = order.fills[-1] if order.fills else (Decimal(0), Decimal(0))
    return {
        "instType": "SPOT",
        "instId": inst_id,
        "ordId": order.order_id,
        "clOrdId": order.client_order_id,
        "px": number(order.price),
        "sz": number(order.size),
        "ordType": ORDER_TYPES.get(order.time_in_force, "limit"),
        "side": order.side.value,
        "tdMode": "cash",
        "state": ORDER_STATES.get(order.status, "canceled"),
        "accFillSz": number(order.filled),
        "avgPx": number(order.avg_price) if order.filled else "",
        "fillPx": number(last_px) if order.fills else "",
        "fillSz": number(last_sz) if order.fills else "0",
        "fee": number(-order.fee),
        "feeCcy": order.fee_asset,
        "rebate": "0",
        "cTime": millis(order.ts_created_ns),
        "uTime": millis(order.ts_updated_ns),
    }
