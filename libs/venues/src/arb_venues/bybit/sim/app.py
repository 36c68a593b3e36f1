"""The simulator's Bybit v5: public WS and REST, private REST, on Bybit's own paths.

Answers use Bybit's envelope ``{"retCode","retMsg","result","retExtInfo","time"}`` with HTTP
200 for business errors and Bybit's retCodes (docs/v5/error): 10003 unknown API key, 10004
bad signature, 10002 timestamp outside recv_window, 10001 bad parameter, 170121 invalid
symbol, 170131 insufficient balance, 170141 duplicate orderLinkId, 110001 order does not
exist. Signatures are checked with ``signing.verify``. Numbers are strings, at the
instrument's decimals. Fault "lose_response": the order is executed, then the connection is
closed without an answer.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Instrument, Side, VenueSymbol

from arb_venues.bybit import errors as codes
from arb_venues.bybit import signing
from arb_venues.bybit.market import BybitMarket
from arb_venues.bybit.sim.stream import SpotStream, format_decimal
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SimMarket,
    SimOrder,
    SimOrderError,
    SimTrade,
    trades_handler,
    venue_now_ns,
)

JSON = "application/json"
STREAM = web.AppKey("bybit_stream", SpotStream)
ORDER_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
ORDER_ERRORS = {  # SimOrderError.kind -> (retCode, retMsg) of Bybit spot
    "insufficient_balance": (codes.INSUFFICIENT_BALANCE, "Insufficient balance."),
    "unknown_symbol": (codes.INVALID_SYMBOL, "Invalid symbol."),
    "duplicate_client_order_id": (codes.DUPLICATE_ORDER_LINK_ID, "Duplicate clientOrderId."),
    "invalid_quantity": (170136, "Order quantity lower than the minimum."),
    "invalid_price": (170134, "Order price decimal too long."),
    "rejected": (170210, "New order rejected."),
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def envelope(
    result: Any = None,
    code: int = 0,
    message: str = "OK",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {
        "retCode": code,
        "retMsg": message,
        "result": {} if result is None else result,
        "retExtInfo": {},
        "time": now_ms(),
    }
    return web.Response(
        body=msgspec.json.encode(body), status=status, content_type=JSON, headers=headers
    )


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """Bybit-style answers for the simulator core's HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else {}
    if kind == "http_429":  # system frequency protection / API rate limit
        reset = now_ms() + int((retry_after_s if retry_after_s is not None else 1.0) * 1000)
        headers["X-Bapi-Limit-Reset-Timestamp"] = str(reset)
        return envelope(None, codes.RATE_LIMIT, "Too many visits!", 429, headers)
    if kind == "http_418":  # Bybit has no 418: its IP ban is 403 "access too frequent"
        return web.Response(status=403, text="403 Forbidden: access too frequent", headers=headers)
    return envelope(None, codes.SERVER_ERROR, "Server error.", 503, headers)


class BybitSim:
    """REST handlers over one SimMarket."""

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.by_venue_symbol = {i.venue_symbol: i for i in market.instruments.values()}

    # -- public -----------------------------------------------------------------------------

    async def orderbook(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("category") != "spot":
            return envelope(None, codes.PARAMETER_ERROR, "params error: category only spot")
        instrument = self.by_venue_symbol.get(VenueSymbol(query.get("symbol", "")))
        if instrument is None:
            return envelope(None, codes.PARAMETER_ERROR, "params error: Symbol Invalid")
        limit = query.get("limit", "1")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return envelope(None, codes.PARAMETER_ERROR, "params error: limit [1, 1000]")
        book = self.market.book(instrument.symbol)
        pd, sd, n = instrument.price_decimals, instrument.size_decimals, int(limit)
        ts = book.ts_ns // 1_000_000
        return envelope(
            {
                "s": instrument.venue_symbol,
                "a": [[format_decimal(p, pd), format_decimal(s, sd)] for p, s in book.asks[:n]],
                "b": [[format_decimal(p, pd), format_decimal(s, sd)] for p, s in book.bids[:n]],
                "ts": ts,
                "u": book.seq,
                "seq": book.seq,
                "cts": ts,
            }
        )

    async def instruments(self, request: web.Request) -> web.Response:
        """GET /v5/market/instruments-info. Only spot is simulated: linear, inverse and option
        answer the documented shape with an empty list (clients such as ccxt and cryptofeed
        load every category at start-up), with ``nextPageCursor`` for the paginated ones
        (https://bybit-exchange.github.io/docs/v5/market/instrument)."""
        category = request.query.get("category")
        if category in ("linear", "inverse", "option"):
            return envelope({"category": category, "list": [], "nextPageCursor": ""})
        if category != "spot":
            return envelope(None, codes.PARAMETER_ERROR, "params error: category is invalid")
        wanted = request.query.get("symbol")
        listed = [
            i
            for i in self.market.instruments.values()
            if wanted is None or i.venue_symbol == wanted
        ]
        return envelope({"category": "spot", "list": [_instrument_json(i) for i in listed]})

    async def server_time(self, request: web.Request) -> web.Response:
        """GET /v5/market/time on the venue's clock (simapi.venue_now_ns;
        https://bybit-exchange.github.io/docs/v5/market/time)."""
        now = venue_now_ns(self.market)
        return envelope({"timeSecond": str(now // 1_000_000_000), "timeNano": str(now)})

    # -- private ----------------------------------------------------------------------------

    def authenticate(self, request: web.Request, body: str) -> str | web.Response:
        """The API key of a correctly signed request, or Bybit's refusal."""
        headers = request.headers
        api_key = headers.get(signing.API_KEY_HEADER, "")
        secret = self.market.secret_for(api_key) if api_key else None
        if secret is None:
            return envelope(None, codes.INVALID_API_KEY, "API key is invalid.")
        now = venue_now_ns(self.market) // 1_000_000
        if not signing.timestamp_in_window(headers, now):
            sent = headers.get(signing.TIMESTAMP_HEADER, "")
            window = headers.get(signing.RECV_WINDOW_HEADER, "")
            return envelope(
                None,
                10002,
                "invalid request, please check your server timestamp "
                f"or recv_window param. req_timestamp[{sent}],server_timestamp"
                f"[{now}],recv_window[{window}]",
            )
        query = request.rel_url.raw_query_string  # exactly as sent: Bybit signs that text
        if not signing.verify(secret, headers, request.method, query, body):
            signed = query if request.method == "GET" else body
            return envelope(
                None,
                codes.SIGN_ERROR,
                "Error sign, please check your signature "
                f"generation algorithm: origin_string[***{signed}]",
            )
        return api_key

    async def create_order(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        api_key = self.authenticate(request, body)
        if isinstance(api_key, web.Response):
            return api_key
        fields = _json_object(body)
        if fields is None:
            return envelope(None, codes.PARAMETER_ERROR, "params error: body is not a JSON object")
        problem = _check_order(fields)
        if problem is not None:
            return envelope(None, *problem)
        instrument = self.by_venue_symbol.get(VenueSymbol(str(fields["symbol"])))
        if instrument is None:
            return envelope(None, codes.INVALID_SYMBOL, "Invalid symbol.")
        side = Side.BUY if fields["side"] == "Buy" else Side.SELL
        price, size = Decimal(str(fields["price"])), Decimal(str(fields["qty"]))
        link_id = str(fields.get("orderLinkId") or "")
        try:
            order = self.market.place_order(
                api_key, instrument.symbol, side, price, size, str(fields["timeInForce"]), link_id
            )
        except SimOrderError as exc:
            code, message = ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"])
            return envelope(None, code, message)
        if self.market.faults.take("lose_response", instrument.symbol):
            if request.transport is not None:
                request.transport.close()  # executed, never answered
            return web.Response(status=200)
        return envelope({"orderId": order.order_id, "orderLinkId": order.client_order_id})

    async def cancel_order(self, request: web.Request) -> web.Response:
        body = await request.text()
        api_key = self.authenticate(request, body)
        if isinstance(api_key, web.Response):
            return api_key
        fields = _json_object(body)
        if fields is None or fields.get("category") != "spot":
            return envelope(None, codes.PARAMETER_ERROR, "params error: category only spot")
        instrument = self.by_venue_symbol.get(VenueSymbol(str(fields.get("symbol", ""))))
        if instrument is None:
            return envelope(None, codes.INVALID_SYMBOL, "Invalid symbol.")
        link_id, order_id = fields.get("orderLinkId") or None, fields.get("orderId") or None
        if link_id is None and order_id is None:
            return envelope(None, codes.PARAMETER_ERROR, "params error: orderId or orderLinkId")
        existing = self.market.get_order(api_key, instrument.symbol, link_id, order_id)
        if existing is None or existing.status not in ("new", "partially_filled"):
            return envelope(None, codes.ORDER_NOT_EXISTS, "Order does not exist.")
        order = self.market.cancel_order(api_key, instrument.symbol, link_id, order_id)
        if order is None:
            return envelope(None, codes.ORDER_NOT_EXISTS, "Order does not exist.")
        return envelope({"orderId": order.order_id, "orderLinkId": order.client_order_id})

    async def orders(self, request: web.Request) -> web.Response:
        """GET /v5/order/realtime and /v5/order/history (by orderLinkId or orderId)."""
        api_key = self.authenticate(request, "")
        if isinstance(api_key, web.Response):
            return api_key
        query = request.query
        if query.get("category") != "spot":
            return envelope(None, codes.PARAMETER_ERROR, "params error: category only spot")
        link_id, order_id = query.get("orderLinkId") or None, query.get("orderId") or None
        orders: list[dict[str, Any]] = []
        instrument = self.by_venue_symbol.get(VenueSymbol(query.get("symbol", "")))
        if link_id or order_id:
            if instrument is not None:
                order = self.market.get_order(api_key, instrument.symbol, link_id, order_id)
                if order is not None:
                    orders.append(_order_json(order, instrument))
            return envelope({"list": orders, "nextPageCursor": "", "category": "spot"})
        return self._listing(api_key, query, instrument, request.path == "/v5/order/history")

    def _listing(self, api_key: str, query: Any, instrument: Instrument | None,
                 history: bool) -> web.Response:  # fmt: skip
        """Without an id: realtime lists open orders, history closed ones in [startTime,
        endTime] (default the last 7 days), newest first, ``limit`` (1-50, default 20) a page,
        ``cursor`` the next page (docs/v5/order/order-list)."""
        if query.get("symbol") and instrument is None:
            return envelope({"list": [], "nextPageCursor": "", "category": "spot"})
        now_ms = time.time_ns() // 1_000_000
        try:
            limit = min(50, max(1, int(query.get("limit") or 20)))
            offset = int(query.get("cursor") or 0)
            end = int(query.get("endTime") or 0) or now_ms
            start = int(query.get("startTime") or 0) or end - 7 * 86_400_000
        except ValueError:
            return envelope(None, codes.PARAMETER_ERROR, "params error: limit/cursor/time")
        symbol = instrument.symbol if instrument is not None else None
        rows = [
            o for o in reversed(self.market.orders(api_key, symbol))
            if (o.status not in ("new", "partially_filled")) == history
            and (not history or start <= o.ts_created_ns // 1_000_000 <= end)
        ]  # fmt: skip
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        listed = [_order_json(o, self.market.instruments[o.symbol]) for o in page]
        return envelope({"list": listed, "nextPageCursor": str(offset + limit) if more else "",
                         "category": "spot"})  # fmt: skip

    async def wallet_balance(self, request: web.Request) -> web.Response:
        api_key = self.authenticate(request, "")
        if isinstance(api_key, web.Response):
            return api_key
        if request.query.get("accountType") != "UNIFIED":
            return envelope(None, codes.PARAMETER_ERROR, "accountType only support UNIFIED.")
        wanted = set(filter(None, request.query.get("coin", "").split(",")))
        coins = [
            _coin_json(asset, free, locked)
            for asset, (free, locked) in sorted(self.market.balances(api_key).items())
            if (asset in wanted if wanted else bool(free or locked))
        ]
        return envelope(
            {
                "list": [
                    {
                        "totalEquity": "0",
                        "accountIMRate": "0",
                        "totalMarginBalance": "0",
                        "totalInitialMargin": "0",
                        "accountType": "UNIFIED",
                        "totalAvailableBalance": "0",
                        "accountMMRate": "0",
                        "totalPerpUPL": "0",
                        "totalWalletBalance": "0",
                        "accountLTV": "0",
                        "totalMaintenanceMargin": "0",
                        "coin": coins,
                    }
                ]
            }
        )


def create_app(market: SimMarket) -> web.Application:
    """Bybit's paths: WS /v5/public/spot, public and private REST under /v5."""
    sim, stream = BybitSim(market), SpotStream(market)
    app = web.Application()
    app[ERROR_RESPONSE] = error_response
    app[STREAM] = stream
    app.router.add_get("/v5/public/spot", stream.handle)
    app.router.add_get("/v5/market/orderbook", sim.orderbook)
    app.router.add_get("/v5/market/instruments-info", sim.instruments)
    app.router.add_get("/v5/market/time", sim.server_time)
    app.router.add_post("/v5/order/create", sim.create_order)
    app.router.add_post("/v5/order/cancel", sim.cancel_order)
    app.router.add_get("/v5/order/realtime", sim.orders)
    app.router.add_get("/v5/order/history", sim.orders)
    app.router.add_get("/v5/account/wallet-balance", sim.wallet_balance)

    async def on_startup(_app: web.Application) -> None:
        await stream.start()

    async def on_shutdown(_app: web.Application) -> None:
        await stream.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get(BybitMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"retCode": 10001, "retMsg": "params error: Symbol Is Invalid",
                                   "result": {}, "retExtInfo": {},
                                   "time": time.time_ns() // 1_000_000}),
        default_limit=60, max_limit=60))  # fmt: skip
    return app


# -- bodies ----------------------------------------------------------------------------------


def _json_object(body: str) -> dict[str, Any] | None:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None


def _check_order(fields: dict[str, Any]) -> tuple[int, str] | None:
    """Bybit's answer to a malformed create-order body; None when it is well formed."""
    if fields.get("category") != "spot":
        return codes.PARAMETER_ERROR, "params error: category only spot"
    for name in ("symbol", "side", "orderType", "qty"):
        if not fields.get(name):
            return 170105, f"Parameter '{name}' was empty."
    if fields["side"] not in ("Buy", "Sell"):
        return 170117, "Invalid side."
    if fields["orderType"] != "Limit":
        return 170116, "Invalid orderType."
    if fields.get("timeInForce", "GTC") not in TIME_IN_FORCE:
        return 170115, "Invalid timeInForce."
    fields.setdefault("timeInForce", "GTC")
    for name in ("qty", "price"):
        try:
            value = Decimal(str(fields.get(name)))
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            return 170130, f"Data sent for paramter '{name}' is not valid."
    link_id = fields.get("orderLinkId")
    if link_id is not None and not ORDER_LINK_ID.match(str(link_id)):
        return 170130, "Data sent for paramter 'orderLinkId' is not valid."
    return None


def _instrument_json(i: Instrument) -> dict[str, Any]:
    return {
        "symbol": i.venue_symbol,
        "baseCoin": i.base,
        "quoteCoin": i.quote,
        "innovation": "0",
        "status": "Trading" if i.status == "trading" else i.status.capitalize(),
        "marginTrading": "none",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": i.lot_size,
            "quotePrecision": "0.00000001",
            "minOrderQty": i.min_size,
            "maxOrderQty": "1000000",
            "minOrderAmt": i.min_notional,
            "maxOrderAmt": "10000000",
        },
        "priceFilter": {"tickSize": i.tick_size},
        "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.1"},
        "symbolType": "",
    }


ORDER_STATUS = {
    "new": "New",
    "partially_filled": "PartiallyFilled",
    "filled": "Filled",
    "rejected": "Rejected",
}


def _plain(value: Decimal) -> str:
    return "0" if not value else format(value.normalize(), "f")


def _order_json(order: SimOrder, instrument: Instrument) -> dict[str, Any]:
    status = ORDER_STATUS.get(order.status)
    if status is None:  # canceled / expired: an IOC remainder, with or without fills
        status = "PartiallyFilledCanceled" if order.filled else "Cancelled"
    pd, sd = instrument.price_decimals, instrument.size_decimals
    leaves = Decimal(0) if status not in ("New", "PartiallyFilled") else order.size - order.filled
    return {
        "orderId": order.order_id,
        "orderLinkId": order.client_order_id,
        "blockTradeId": "",
        "symbol": instrument.venue_symbol,
        "price": format_decimal(order.price, pd),
        "qty": format_decimal(order.size, sd),
        "side": "Buy" if order.side == Side.BUY else "Sell",
        "isLeverage": "0",
        "positionIdx": 0,
        "orderStatus": status,
        "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": _plain(order.avg_price) if order.filled else "",
        "leavesQty": format_decimal(leaves, sd),
        "leavesValue": _plain(leaves * order.price),
        "cumExecQty": format_decimal(order.filled, sd),
        "cumExecValue": _plain(order.quote_filled),
        "cumExecFee": _plain(order.fee),
        "timeInForce": order.time_in_force,
        "orderType": "Limit",
        "stopOrderType": "",
        "orderIv": "",
        "triggerPrice": "0",
        "takeProfit": "0",
        "stopLoss": "0",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": "",
        "reduceOnly": False,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "placeType": "",
        "createdTime": str(order.ts_created_ns // 1_000_000),
        "updatedTime": str(order.ts_updated_ns // 1_000_000),
        "cumFeeDetail": {order.fee_asset: _plain(order.fee)} if order.fee_asset else {},
    }


def _coin_json(asset: str, free: Decimal, locked: Decimal) -> dict[str, Any]:
    wallet = _plain(free + locked)
    return {
        "availableToBorrow": "",
        "bonus": "0",
        "accruedInterest": "0",
        "availableToWithdraw": "",
        "totalOrderIM": "0",
        "equity": wallet,
        "totalPositionMM": "0",
        "usdValue": "0",
        "spotHedgingQty": "0",
        "unrealisedPnl": "0",
        "collateralSwitch": True,
        "borrowAmount": "0",
        "totalPositionIM": "0",
        "walletBalance": wallet,
        "cumRealisedPnl": "0",
        "locked": _plain(locked),
        "marginCollateral": True,
        "coin": asset,
        "spotBorrow": "0",
    }


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /v5/market/recent-trade (category=spot): newest first, ``side`` the taker's."""
    return {"retCode": 0, "retMsg": "OK", "result": {"category": "spot", "list": [
        {"execId": str(t.trade_id), "symbol": instrument.venue_symbol, "price": _num(t.price),
         "size": _num(t.size), "side": t.side.value.capitalize(),
         "time": str(t.ts_ns // 1_000_000), "isBlockTrade": False, "isRPITrade": False}
        for t in trades]}, "retExtInfo": {}, "time": time.time_ns() // 1_000_000}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
