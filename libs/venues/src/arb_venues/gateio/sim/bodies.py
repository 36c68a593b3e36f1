"""How Gate writes numbers and bodies, for the simulator: every number as decimal text
("0.00010396", no exponent), times in s and ms, REST errors as ``{"label", "message"}``."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from arb_venues.gateio.trading import wire_text
from arb_venues.simapi import SimLevel, SimOrder

_encoder = msgspec.json.Encoder()

INVALID_KEY = (401, "INVALID_KEY", "Invalid key provided")
INVALID_SIGNATURE = (401, "INVALID_SIGNATURE", "Signature mismatch")
MISSING_HEADER = (401, "MISSING_REQUIRED_HEADER", "Missing required authentication header")
REQUEST_EXPIRED = (401, "REQUEST_EXPIRED", "Request timestamp expired")
INVALID_PAIR = (400, "INVALID_CURRENCY_PAIR", "Invalid currency pair")
INVALID_PARAM = (400, "INVALID_PARAM_VALUE", "Invalid parameter value")
INVALID_BODY = (400, "INVALID_REQUEST_BODY", "Invalid request body")
INVALID_TEXT = (400, "INVALID_TEXT", "text must start with t- and hold at most 28 bytes of "
                "[0-9a-zA-Z_.-] after it")  # fmt: skip
BALANCE = (400, "BALANCE_NOT_ENOUGH", "Not enough balance")
NOT_FOUND = (404, "ORDER_NOT_FOUND", "Order not found")
CLOSED = (400, "ORDER_CLOSED", "Order already closed")
PRECISION = (400, "INVALID_PRECISION", "Invalid precision")
EXISTS = (400, "ORDER_EXISTS", "Order with the same text exists")
TOO_MANY = (429, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded")
SERVER_ERROR = (500, "SERVER_ERROR", "Internal server error")

STATUS = {
    "new": "open",
    "partially_filled": "open",
    "filled": "closed",
    "canceled": "cancelled",
    "expired": "cancelled",  # an IOC's remainder: cancelled, finish_as ioc
    "rejected": "cancelled",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def text(value: Decimal) -> str:
    """A number as Gate writes it: decimal text, no exponent, no trailing zeros."""
    return "0" if value == 0 else format(value.normalize(), "f")


def levels(side: list[SimLevel], limit: int | None = None) -> list[list[str]]:
    chosen = side if limit is None else side[:limit]
    return [[text(px), text(sz)] for px, sz in chosen]


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:  # fmt: skip
    return web.Response(body=_encoder.encode(payload), status=status, headers=headers,
                        content_type="application/json")  # fmt: skip


def error(entry: tuple[int, str, str], headers: dict[str, str] | None = None) -> web.Response:
    status, label, message = entry
    return json_response({"label": label, "message": message}, status, headers)


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """The core's injected faults, in Gate's words (a 429 ``TOO_MANY_REQUESTS``)."""
    if kind in ("http_429", "http_418"):
        wait = max(1, math.ceil(retry_after_s or 1))
        headers = {"Retry-After": str(wait),
                   "X-Gate-RateLimit-Reset-Timestamp": str(now_ms() + wait * 1000)}  # fmt: skip
        return error(TOO_MANY, headers)
    if kind == "http_5xx":
        return error(SERVER_ERROR)
    raise ValueError(f"gateio sim: no error response for {kind!r}; use http_429|http_418|http_5xx")


def finish_as(order: SimOrder) -> str:
    if order.status == "filled":
        return "filled"
    if order.status == "expired":
        return "ioc"
    if order.status in ("canceled", "rejected"):
        return "cancelled"
    return "open"


def order_body(order: SimOrder, pair: str, number: int) -> dict[str, Any]:
    created_ms = order.ts_created_ns // 1_000_000
    updated_ms = (order.ts_updated_ns or order.ts_created_ns) // 1_000_000
    return {
        "id": str(number),
        "text": wire_text(order.client_order_id) if order.client_order_id else "apiv4",
        "amend_text": "-",
        "create_time": str(created_ms // 1000),
        "update_time": str(updated_ms // 1000),
        "create_time_ms": created_ms,
        "update_time_ms": updated_ms,
        "status": STATUS.get(order.status, "open"),
        "currency_pair": pair,
        "type": "limit",
        "account": "spot",
        "side": order.side.value,
        "amount": text(order.size),
        "price": text(order.price),
        "time_in_force": order.time_in_force.lower(),
        "iceberg": "0",
        "left": text(order.size - order.filled),
        "filled_amount": text(order.filled),
        "fill_price": text(order.quote_filled),
        "filled_total": text(order.quote_filled),
        "avg_deal_price": text(order.avg_price),
        "fee": text(order.fee),
        "fee_currency": order.fee_asset,
        "point_fee": "0",
        "gt_fee": "0",
        "gt_discount": False,
        "rebated_fee": "0",
        "rebated_fee_currency": "",
        "finish_as": finish_as(order),
    }
