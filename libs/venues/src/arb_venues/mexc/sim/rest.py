"""The simulator's MEXC REST: public depth/exchangeInfo/ping/time, private orders and account.

Same paths, parameters, signing check (signing.verify over query + body), timing check
("Timing security": ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <=
recvWindow``, recvWindow at most 60000) and error bodies as api.mexc.com. Orders are limit
orders whose ``type`` says the time in force (IMMEDIATE_OR_CANCEL, FILL_OR_KILL, LIMIT).
Fault "lose_response": the order is executed, then the connection closes unanswered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from aiohttp import web
from arb_structs import Side

from arb_venues.mexc import errors as codes
from arb_venues.mexc.signing import API_KEY_HEADER, verify
from arb_venues.mexc.sim import bodies
from arb_venues.simapi import SimMarket, SimOrderError, venue_now_ns

_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TIME_IN_FORCE = {"IMMEDIATE_OR_CANCEL": "IOC", "FILL_OR_KILL": "FOK", "LIMIT": "GTC"}
_ORDER_ERRORS = {
    "insufficient_balance": codes.BALANCE,
    "unknown_symbol": codes.BAD_SYMBOL,
    "duplicate_client_order_id": (30041, "current order type can not place order"),
    "invalid_quantity": codes.MIN_VOLUME,
    "invalid_price": (30087, "Order price exceeds allowed range"),
}
MAX_DEPTH = 5000
DAY_MS = 24 * 3_600_000


class _Refused(Exception):
    def __init__(self, code_msg: tuple[int, str], status: int = 400) -> None:
        self.response = bodies.error(code_msg, status)


@dataclass
class SimRest:
    market: SimMarket

    def _normalised(self, venue_symbol: str | None) -> tuple[str, str]:
        if not venue_symbol:
            raise _Refused(codes.PARAM_MISSING)
        for symbol, instrument in self.market.instruments.items():
            if instrument.venue_symbol == venue_symbol:
                return symbol, venue_symbol
        raise _Refused(codes.BAD_SYMBOL)

    async def _authenticate(self, request: web.Request) -> tuple[str, dict[str, str]]:
        """(api key, params) of a SIGNED request, or _Refused with MEXC's error."""
        api_key = request.headers.get(API_KEY_HEADER, "")
        if not api_key:
            raise _Refused(codes.API_KEY_REQUIRED)
        secret = self.market.secret_for(api_key)
        if secret is None:
            raise _Refused(codes.API_KEY_INVALID)
        query, body = request.query_string, await request.text()
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(query, keep_blank_values=True))  # the query wins (docs)
        if not params.get("timestamp") or not params.get("signature"):
            raise _Refused(codes.PARAM_MISSING)
        if not verify(secret, query, body):
            raise _Refused(codes.SIGNATURE_INVALID)
        try:
            timestamp = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except ValueError:
            raise _Refused(codes.PARAM_ERROR) from None
        if recv_window > 60000:
            raise _Refused(codes.RECV_WINDOW_TOO_LONG)
        server = venue_now_ns(self.market) // 1_000_000
        if not (timestamp < server + 1000 and server - timestamp <= recv_window):
            raise _Refused(codes.OUTSIDE_RECV_WINDOW)
        return api_key, params

    # -- public ----------------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        return bodies.json_response({})

    async def server_time(self, request: web.Request) -> web.Response:
        return bodies.json_response({"serverTime": venue_now_ns(self.market) // 1_000_000})

    async def depth(self, request: web.Request) -> web.Response:
        try:
            symbol, _ = self._normalised(request.query.get("symbol"))
            limit_text = request.query.get("limit", "100")
            if not limit_text.isdigit():
                raise _Refused(codes.PARAM_ERROR)
        except _Refused as refused:
            return refused.response
        limit = min(int(limit_text), MAX_DEPTH) or 100
        book = self.market.book(symbol)
        return bodies.json_response({
            "lastUpdateId": book.seq,
            "bids": bodies.levels(book.bids, limit),
            "asks": bodies.levels(book.asks, limit),
            "timestamp": bodies.now_ms(),
        })  # fmt: skip

    async def exchange_info(self, request: web.Request) -> web.Response:
        instruments = list(self.market.instruments.values())
        wanted = request.query.get("symbol") or request.query.get("symbols")
        if wanted:
            names = set(wanted.split(","))
            instruments = [i for i in instruments if i.venue_symbol in names]
            if not instruments:
                return bodies.error(codes.BAD_SYMBOL)
        return bodies.json_response(bodies.exchange_info(instruments))

    # -- private ---------------------------------------------------------------------------

    async def new_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            side, tif, price, size, client_id = _order_params(params)
        except _Refused as refused:
            return refused.response
        try:
            order = self.market.place_order(api_key, symbol, side, price, size, tif, client_id)
        except SimOrderError as exc:
            return bodies.error(_ORDER_ERRORS.get(exc.kind, (30041, str(exc))))
        if self.market.faults.take("lose_response", symbol):
            # The order is executed, the answer is lost: close the connection unanswered.
            request.protocol.force_close()
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client
        return bodies.json_response(bodies.new_order_body(order, venue_symbol))

    async def query_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            client_id, order_id = _order_ref(params)
        except _Refused as refused:
            return refused.response
        order = self.market.get_order(api_key, symbol, client_id, order_id)
        if order is None:
            return bodies.error(codes.UNKNOWN_ORDER_SENT)
        return bodies.json_response(bodies.order_row(order, venue_symbol))

    async def cancel_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            client_id, order_id = _order_ref(params)
        except _Refused as refused:
            return refused.response
        order = self.market.get_order(api_key, symbol, client_id, order_id)
        if order is None or order.status not in ("new", "partially_filled"):
            return bodies.error(codes.UNKNOWN_ORDER_SENT)  # closed orders cannot be cancelled
        order = self.market.cancel_order(api_key, symbol, client_id, order_id) or order
        return bodies.json_response(bodies.order_row(order, venue_symbol, cancel=True))

    async def account(self, request: web.Request) -> web.Response:
        try:
            api_key, _ = await self._authenticate(request)
        except _Refused as refused:
            return refused.response
        balances = [
            {"asset": asset, "free": bodies.text(free), "locked": bodies.text(locked)}
            for asset, (free, locked) in sorted(self.market.balances(api_key).items())
            if free or locked
        ]
        return bodies.json_response({
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "updateTime": None,
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"],
        })  # fmt: skip

    async def all_orders(self, request: web.Request) -> web.Response:
        """GET /api/v3/allOrders: the symbol's orders in [startTime, endTime] (default: the
        last 24 hours), oldest first, at most ``limit`` (default 500, max 1000)."""
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            start, end, limit = _window(params, 500, 1000)
        except _Refused as refused:
            return refused.response
        rows = [
            bodies.order_row(order, venue_symbol)
            for order in self.market.orders(api_key, symbol)
            if start <= order.ts_created_ns // 1_000_000 <= end
        ]
        return bodies.json_response(rows[:limit])

    async def my_trades(self, request: web.Request) -> web.Response:
        """GET /api/v3/myTrades: the symbol's fills (of ``orderId``, or in a window), each
        with its share of the order's commission; limit default 100, max 100."""
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            start, end, limit = _window(params, 100, 100)
        except _Refused as refused:
            return refused.response
        order_id = params.get("orderId") or None
        rows = []
        for order in self.market.orders(api_key, symbol):
            if order_id is not None and order.order_id != order_id:
                continue
            for fill in bodies.account_trades(order, venue_symbol):
                if order_id is None and not start <= fill["time"] <= end:
                    continue
                rows.append(fill)
        rows.sort(key=lambda r: r["time"])
        return bodies.json_response(rows[:limit])


def _order_ref(params: dict[str, str]) -> tuple[str | None, str | None]:
    client_id = params.get("origClientOrderId") or None
    order_id = params.get("orderId") or None
    if client_id is None and order_id is None:
        raise _Refused(codes.ORDER_REF_MISSING)
    return client_id, order_id


def _window(params: dict[str, str], default_limit: int, max_limit: int) -> tuple[int, int, int]:
    now = bodies.now_ms()
    try:
        start = int(params["startTime"]) if params.get("startTime") else None
        end = int(params["endTime"]) if params.get("endTime") else None
        limit = int(params.get("limit") or default_limit)
    except ValueError:
        raise _Refused(codes.PARAM_ERROR) from None
    if not 0 < limit <= max_limit:
        raise _Refused(codes.PARAM_ERROR)
    if start is None and end is None:
        return now - DAY_MS, now + 60_000, limit
    return start or 0, end or now + 60_000, limit


def _order_params(params: dict[str, str]) -> tuple[Side, str, Decimal, Decimal, str]:
    """(side, time in force, price, quantity, client id) of a limit order."""
    sides = {"BUY": Side.BUY, "SELL": Side.SELL}
    if params.get("side") not in sides:
        raise _Refused(codes.PARAM_ERROR if params.get("side") else codes.PARAM_MISSING)
    tif = _TIME_IN_FORCE.get(params.get("type", ""))
    if tif is None:  # MARKET and LIMIT_MAKER are not simulated
        raise _Refused((30041, "current order type can not place order"))
    numbers = []
    for name in ("price", "quantity"):
        text = params.get(name)
        if not text:
            raise _Refused(codes.PARAM_MISSING)
        if not _DECIMAL.match(text):
            raise _Refused(codes.PARAM_ERROR)
        try:
            numbers.append(Decimal(text))
        except InvalidOperation:
            raise _Refused(codes.PARAM_ERROR) from None
    client_id = params.get("newClientOrderId", "")
    if client_id and not _CLIENT_ID.match(client_id):
        raise _Refused((700008, "Illegal characters found in parameter 'newClientOrderId'"))
    return sides[params["side"]], tif, numbers[0], numbers[1], client_id


def add_routes(app: web.Application, rest: SimRest) -> None:
    app.router.add_get("/api/v3/ping", rest.ping)
    app.router.add_get("/api/v3/time", rest.server_time)
    app.router.add_get("/api/v3/depth", rest.depth)
    app.router.add_get("/api/v3/exchangeInfo", rest.exchange_info)
    app.router.add_post("/api/v3/order", rest.new_order)
    app.router.add_get("/api/v3/order", rest.query_order)
    app.router.add_delete("/api/v3/order", rest.cancel_order)
    app.router.add_get("/api/v3/account", rest.account)
    app.router.add_get("/api/v3/allOrders", rest.all_orders)
    app.router.add_get("/api/v3/myTrades", rest.my_trades)
