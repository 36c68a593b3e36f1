"""The simulator's MEXC bodies: REST JSON as MEXC writes it, and the binary protobuf pushes.

Prices and quantities are decimal text without padding ("60000.01", "0.5"); order ids are
strings; errors are ``{"code": <int>, "msg": "..."}`` (texts: arb_venues.mexc.errors). A book
push is a ``PushDataV3ApiWrapper`` with a ``publicAggreDepths`` body, serialised by the
protobuf package from the same declarations the client decodes with (schemas.py).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Instrument

from arb_venues.mexc import schemas
from arb_venues.simapi import SimLevel, SimOrder

_encoder = msgspec.json.Encoder()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def text(value: Decimal) -> str:
    """Exact decimal text, never an exponent: Decimal("1.50") -> "1.5"."""
    return format(value.normalize(), "f") if value else "0"


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(payload), status=status,
                        content_type="application/json")  # fmt: skip


def error(code_msg: tuple[int, str], status: int = 400) -> web.Response:
    code, msg = code_msg
    return json_response({"code": code, "msg": msg}, status=status)


def error_response(kind: str, retry_after_s: float) -> web.StreamResponse:
    """The core's HTTP faults in MEXC's shape (429 / 418 with Retry-After, 5xx)."""
    if kind in ("http_429", "http_418"):
        status = 429 if kind == "http_429" else 418
        response = error((429, "Too Many Requests"), status)
        response.headers["Retry-After"] = str(max(1, round(retry_after_s)))
        return response
    return error((500, "Internal error"), 500)


def levels(side: list[SimLevel], limit: int | None = None) -> list[list[str]]:
    chosen = side if limit is None else side[:limit]
    return [[text(price), text(size)] for price, size in chosen]


def depth_push(channel: str, venue_symbol: str, first: int, last: int, bids: list[SimLevel],
               asks: list[SimLevel], ts_ms: int) -> bytes:  # fmt: skip
    """One aggregated depth push (versions ``first..last``) as MEXC sends it: protobuf."""
    push = schemas.PushDataV3ApiWrapper(
        channel=channel, symbol=venue_symbol, sendTime=now_ms(), createTime=ts_ms
    )
    body = push.publicAggreDepths
    for price, size in bids:
        body.bids.add(price=text(price), quantity=text(size))
    for price, size in asks:
        body.asks.add(price=text(price), quantity=text(size))
    body.eventType = channel.rpartition("@")[0]
    body.fromVersion, body.toVersion = str(first), str(last)
    serialised: bytes = push.SerializeToString()
    return serialised


def exchange_info(instruments: list[Instrument]) -> dict[str, Any]:
    """GET /api/v3/exchangeInfo (docs "Exchange Information")."""
    return {
        "timezone": "CST",
        "serverTime": now_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [_symbol_info(i) for i in instruments],
    }


def _symbol_info(i: Instrument) -> dict[str, Any]:
    return {
        "symbol": i.venue_symbol,
        "status": "1" if i.status == "trading" else "2",
        "baseAsset": i.base,
        "baseAssetPrecision": i.size_decimals,
        "quoteAsset": i.quote,
        "quotePrecision": i.price_decimals,
        "quoteAssetPrecision": i.price_decimals,
        "baseCommissionPrecision": i.size_decimals,
        "quoteCommissionPrecision": i.price_decimals,
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER", "IMMEDIATE_OR_CANCEL", "FILL_OR_KILL"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": i.min_notional or "0",
        "baseSizePrecision": i.min_size or i.lot_size,
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "2000000",
        "makerCommission": i.maker_fee or "0",
        "takerCommission": i.taker_fee or "0.0005",
        "quoteAmountPrecisionMarket": i.min_notional or "0",
        "maxQuoteAmountMarket": "100000",
        "fullName": i.base,
        "tradeSideType": 1,
    }


ORDER_TYPES = {"IOC": "IMMEDIATE_OR_CANCEL", "FOK": "FILL_OR_KILL", "GTC": "LIMIT"}


def order_status(order: SimOrder) -> str:
    """MEXC's status word: a remainder cancelled after fills is PARTIALLY_CANCELED."""
    if order.status in ("canceled", "expired", "rejected"):
        return "PARTIALLY_CANCELED" if order.filled else "CANCELED"
    return order.status.upper()


def order_row(order: SimOrder, venue_symbol: str, *, cancel: bool = False) -> dict[str, Any]:
    """An order as GET /api/v3/order and allOrders write it (DELETE: the cancel's fields)."""
    created, updated = order.ts_created_ns // 1_000_000, order.ts_updated_ns // 1_000_000
    body: dict[str, Any] = {"symbol": venue_symbol}
    if cancel:
        body["origClientOrderId"] = order.client_order_id
    body.update(
        orderId=order.order_id, orderListId=-1, clientOrderId=order.client_order_id,
        price=text(order.price), origQty=text(order.size), executedQty=text(order.filled),
        cummulativeQuoteQty=text(order.quote_filled), status=order_status(order),
        timeInForce=None, type=ORDER_TYPES.get(order.time_in_force, "LIMIT"),
        side=order.side.value.upper(),
    )  # fmt: skip
    if not cancel:
        body.update(stopPrice="0", time=created, updateTime=updated,
                    isWorking=order.status in ("new", "partially_filled"),
                    origQuoteOrderQty="0")  # fmt: skip
    return body


def new_order_body(order: SimOrder, venue_symbol: str) -> dict[str, Any]:
    """POST /api/v3/order's answer: an acknowledgement without the outcome."""
    return {
        "symbol": venue_symbol, "orderId": order.order_id, "orderListId": -1,
        "price": text(order.price), "origQty": text(order.size),
        "type": ORDER_TYPES.get(order.time_in_force, "LIMIT"),
        "side": order.side.value.upper(), "stpMode": "",
        "transactTime": order.ts_created_ns // 1_000_000,
    }  # fmt: skip


def account_trades(order: SimOrder, venue_symbol: str) -> list[dict[str, Any]]:
    """The order's fills as GET /api/v3/myTrades rows, the order's fee split by size (the
    last fill takes the rest, so the rows sum to the ledger's fee exactly)."""
    rows = []
    left = order.fee
    at = order.ts_updated_ns // 1_000_000
    for n, (price, size) in enumerate(order.fills):
        last = n == len(order.fills) - 1
        share = left if last else (order.fee * size / order.filled).quantize(Decimal("1e-12"))
        left -= share
        rows.append({
            "symbol": venue_symbol, "id": f"{order.order_id}-{n}", "orderId": order.order_id,
            "orderListId": -1, "price": text(price), "qty": text(size),
            "quoteQty": text(price * size), "commission": text(share),
            "commissionAsset": order.fee_asset, "time": at, "isBuyer": order.side.value == "buy",
            "isMaker": False, "isBestMatch": True, "isSelfTrade": False,
            "clientOrderId": order.client_order_id or None,
        })  # fmt: skip
    return rows
