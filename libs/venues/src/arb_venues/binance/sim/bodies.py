"""The simulator's Binance bodies: JSON shaped and numbered the way Binance writes it.

Prices and quantities are strings with 8 decimals ("0.01000000"); ids and times are numbers;
key order follows the docs' examples. Errors are ``{"code": -NNNN, "msg": "..."}``.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Instrument

from arb_venues.binance.numbers import wire8
from arb_venues.simapi import SimLevel, SimOrder

ZERO8 = "0.00000000"
_encoder = msgspec.json.Encoder()

# Error texts as errors.md gives them.
INVALID_SYMBOL = (-1121, "Invalid symbol.")
BAD_SIGNATURE = (-1022, "Signature for this request is not valid.")
BAD_API_KEY_FORMAT = (-2014, "API-key format invalid.")
REJECTED_API_KEY = (-2015, "Invalid API-key, IP, or permissions for action.")
NO_SUCH_ORDER = (-2013, "Order does not exist.")
UNKNOWN_ORDER_SENT = (-2011, "Unknown order sent.")
INSUFFICIENT_BALANCE = (-2010, "Account has insufficient balance for requested action.")
DUPLICATE_ORDER = (-2010, "Duplicate order sent.")
OUTSIDE_RECV_WINDOW = (-1021, "Timestamp for this request is outside of the recvWindow.")
AHEAD_OF_SERVER = (-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
INVALID_ORDER_TYPE = (-1116, "Invalid orderType.")
INVALID_TIF = (-1115, "Invalid timeInForce.")
INVALID_SIDE = (-1117, "Invalid side.")
CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
BOTH_SYMBOL_AND_SYMBOLS = (-1128, "Combination of optional parameters invalid.")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:  # fmt: skip
    return web.Response(
        body=_encoder.encode(payload), status=status, headers=headers,
        content_type="application/json",
    )  # fmt: skip


def error(code_msg: tuple[int, str], status: int = 400) -> web.Response:
    code, msg = code_msg
    return json_response({"code": code, "msg": msg}, status=status)


def mandatory(name: str) -> tuple[int, str]:
    return -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def illegal(name: str, legal: str) -> tuple[int, str]:
    return -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """The core's injected faults, in Binance's words (rest-api.md "IP Limits")."""
    retry = str(max(1, math.ceil(retry_after_s))) if retry_after_s is not None else None
    headers = {"Retry-After": retry} if retry else None
    if kind == "http_429":
        msg = (
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
        return json_response({"code": -1003, "msg": msg}, 429, headers)
    if kind == "http_418":
        until = now_ms() + int((retry_after_s or 120) * 1000)
        msg = (
            f"Way too much request weight used; IP banned until {until}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        return json_response({"code": -1003, "msg": msg}, 418, headers)
    if kind == "http_5xx":
        msg = (
            "Server is currently overloaded with other requests. Please try again in a few minutes."
        )
        return json_response({"code": -1008, "msg": msg}, 503, headers)
    raise ValueError(f"binance sim: no error response for {kind!r}; use http_429|http_418|http_5xx")


def levels(side: list[SimLevel], limit: int | None = None) -> list[list[str]]:
    chosen = side if limit is None else side[:limit]
    return [[wire8(price), wire8(size)] for price, size in chosen]


def exchange_info(instruments: list[Instrument]) -> dict[str, Any]:
    """GET /api/v3/exchangeInfo (rest-api.md "Exchange information", filters.md)."""
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [_symbol_info(i) for i in instruments],
    }


def futures_exchange_info() -> dict[str, Any]:
    """GET /fapi/v1/exchangeInfo (and /dapi/v1/...) with no symbols: no futures simulated."""
    return {"timezone": "UTC", "serverTime": now_ms(), "futuresType": "U_MARGINED",
            "rateLimits": [], "exchangeFilters": [], "assets": [], "symbols": []}  # fmt: skip


def _symbol_info(i: Instrument) -> dict[str, Any]:
    return {
        "symbol": i.venue_symbol,
        "status": "TRADING" if i.status == "trading" else i.status.upper(),
        "baseAsset": i.base,
        "baseAssetPrecision": 8,
        "quoteAsset": i.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": wire8(Decimal(i.tick_size)),
                "maxPrice": "1000000.00000000",
                "tickSize": wire8(Decimal(i.tick_size)),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": wire8(Decimal(i.min_size or i.lot_size)),
                "maxQty": "9000000.00000000",
                "stepSize": wire8(Decimal(i.lot_size)),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": wire8(Decimal(i.min_notional)),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def order_status(order: SimOrder) -> str:
    """Binance's status word. An IOC/FOK remainder ends EXPIRED (enums.md "Order status")."""
    if order.time_in_force in ("IOC", "FOK") and order.status in ("canceled", "expired"):
        return "EXPIRED"
    return order.status.upper()


def order_body(
    order: SimOrder, venue_symbol: str, order_id: int, kind: str, trade_ids: list[int],
    cancel_client_id: str = "",
) -> dict[str, Any]:  # fmt: skip
    """kind: ACK | RESULT | FULL (new order), QUERY (GET), CANCEL (DELETE)."""
    created, updated = order.ts_created_ns // 1_000_000, order.ts_updated_ns // 1_000_000
    body: dict[str, Any] = {"symbol": venue_symbol}
    if kind == "CANCEL":
        body["origClientOrderId"] = order.client_order_id
    body["orderId"] = order_id
    body["orderListId"] = -1
    body["clientOrderId"] = cancel_client_id if kind == "CANCEL" else order.client_order_id
    if kind in ("ACK", "RESULT", "FULL", "CANCEL"):
        body["transactTime"] = updated if kind == "CANCEL" else created
    if kind == "ACK":
        return body
    body.update(
        price=wire8(order.price), origQty=wire8(order.size), executedQty=wire8(order.filled),
        cummulativeQuoteQty=wire8(order.quote_filled), status=order_status(order),
        timeInForce=order.time_in_force, type="LIMIT", side=order.side.value.upper(),
    )  # fmt: skip
    if kind == "QUERY":
        body.update(
            stopPrice=ZERO8, icebergQty=ZERO8, time=created, updateTime=updated,
            isWorking=True, workingTime=created, origQuoteOrderQty=ZERO8,
        )  # fmt: skip
    else:
        body["origQuoteOrderQty"] = ZERO8
        if kind in ("RESULT", "FULL"):
            body["workingTime"] = created
    body["selfTradePreventionMode"] = "NONE"
    if kind == "FULL":
        body["fills"] = _fills(order, trade_ids)
    return body


def _shares(order: SimOrder) -> list[Decimal]:
    """Per-fill commissions: the order's fee split by size, the last fill takes the rest."""
    shares = []
    left = order.fee.quantize(Decimal("0.00000001"))
    for n, (_, size) in enumerate(order.fills):
        last = n == len(order.fills) - 1
        share = left if last else (order.fee * size / order.filled).quantize(Decimal("1e-8"))
        left -= share
        shares.append(share)
    return shares


def _fills(order: SimOrder, trade_ids: list[int]) -> list[dict[str, Any]]:
    fills = []
    for (price, size), trade_id, share in zip(order.fills, trade_ids, _shares(order), strict=True):
        fills.append({
            "price": wire8(price), "qty": wire8(size), "commission": wire8(share),
            "commissionAsset": order.fee_asset, "tradeId": trade_id,
        })  # fmt: skip
    return fills


def account_trades(order: SimOrder, venue_symbol: str, order_id: int, trade_ids: list[int]
                   ) -> list[dict[str, Any]]:  # fmt: skip
    """The order's fills as GET /api/v3/myTrades rows (rest-api.md "Account trade list")."""
    at = order.ts_updated_ns // 1_000_000
    return [
        {"symbol": venue_symbol, "id": trade_id, "orderId": order_id, "orderListId": -1,
         "price": wire8(price), "qty": wire8(size), "quoteQty": wire8(price * size),
         "commission": wire8(share), "commissionAsset": order.fee_asset, "time": at,
         "isBuyer": order.side.value == "buy", "isMaker": False, "isBestMatch": True}
        for (price, size), trade_id, share in zip(order.fills, trade_ids, _shares(order),
                                                  strict=True)
    ]  # fmt: skip
