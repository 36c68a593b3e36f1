"""How Bitget writes numbers and bodies, for the simulator: prices and amounts as strings
padded to the pair's precision (``"26275.0"``, ``"0.0500"``, as on the Depth-Channel page),
millisecond times, every REST answer ``{"code", "msg", "requestTime", "data"}``."""

from __future__ import annotations

import functools
import time
from decimal import Decimal

import msgspec
from aiohttp import web
from arb_structs import Instrument

from arb_venues.bitget import errors as codes
from arb_venues.simapi import SimLevel, SimOrder, fixed_text

STATES = {
    "new": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "cancelled",
    "expired": "cancelled",
    "rejected": "cancelled",
}
FORCES = {"IOC": "ioc", "FOK": "fok", "GTC": "gtc"}


def millis(ts_ns: int) -> str:
    return str(ts_ns // 1_000_000)


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros ("41006.8", "0")."""
    return "0" if value == 0 else format(value.normalize(), "f")


def padded(value: Decimal, step: str) -> str:
    """``value`` written with as many decimals as ``step`` has ("26275.0" for step 0.1)."""
    return fixed_text(value, _places(step))


@functools.lru_cache(maxsize=256)
def _places(step: str) -> int:
    exponent = Decimal(step).normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def level(price: Decimal, size: Decimal, instrument: Instrument) -> list[str]:
    return [padded(price, instrument.tick_size), padded(size, instrument.lot_size)]


def levels(side: list[SimLevel], instrument: Instrument) -> list[list[str]]:
    return [level(px, sz, instrument) for px, sz in side]


def body(
    code: str = codes.SUCCESS,
    msg: str = "success",
    data: object = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    payload = {"code": code, "msg": msg, "requestTime": time.time_ns() // 1_000_000,
               "data": data}  # fmt: skip
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
    """Bitget-style bodies for the simulator core's injected HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    if kind in ("http_429", "http_418"):
        status = 418 if kind == "http_418" else 429  # Bitget has no 418 of its own
        return body(codes.RATE_LIMIT[0], codes.RATE_LIMIT[2], status=status, headers=headers)
    if kind == "http_5xx":
        code, status, message = codes.SYSTEM_ERROR
        return body(code, message, status=status, headers=headers)
    raise ValueError(f"bitget sim: unknown error kind {kind!r}; use http_429, http_418, http_5xx")


def order_info(order: SimOrder, venue_symbol: str) -> dict[str, str]:
    """One row of orderInfo / history-orders / unfilled-orders."""
    fee_coin = order.fee_asset
    fee_detail = ""
    if order.fee:
        fee_detail = msgspec.json.encode(
            {
                fee_coin: {
                    "deduction": False,
                    "feeCoinCode": fee_coin,
                    "totalDeductionFee": 0,
                    "totalFee": plain(-order.fee),
                }
            }
        ).decode()
    return {
        "userId": "1",
        "symbol": venue_symbol,
        "orderId": order.order_id,
        "clientOid": order.client_order_id,
        "price": plain(order.price),
        "size": plain(order.size),
        "orderType": "limit",
        "side": order.side.value,
        "force": FORCES.get(order.time_in_force, "gtc"),
        "status": STATES.get(order.status, "cancelled"),
        "priceAvg": plain(order.avg_price),
        "baseVolume": plain(order.filled),
        "quoteVolume": plain(order.quote_filled),
        "enterPointSource": "API",
        "feeDetail": fee_detail,
        "orderSource": "normal",
        "cTime": millis(order.ts_created_ns),
        "uTime": millis(order.ts_updated_ns),
    }
