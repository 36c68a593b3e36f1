"""The simulator's Crypto.com Exchange v1: market-data WS, public REST and private REST.

Paths as Crypto.com's: WS ``/exchange/v1/market``; ``GET /exchange/v1/public/get-book`` and
``/public/get-instruments``; ``POST /exchange/v1/private/{create-order, get-order-detail,
cancel-order, get-open-orders, get-order-history, user-balance}`` with the body
``{"id","method","api_key","params","nonce","sig"}``, the signature checked with
``signing.verify`` and the nonce within 60 s. Answers use Crypto.com's envelope and reason
codes with their HTTP statuses (docs "Response and Reason Codes"): 40101 (401) unknown key or
bad signature, 40102 (400) nonce, 40004 (400) missing argument, 209 (400) invalid instrument,
306 (500) insufficient balance, 204 (400) duplicate client order id, 40401 (200) unknown order,
316 (500) cancel of an order no longer open. Fault "lose_response": the order is executed,
then the connection is closed without an answer.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Instrument, Side, VenueSymbol

from arb_venues.cryptocom import errors as codes
from arb_venues.cryptocom import signing
from arb_venues.cryptocom.market import CryptocomMarket
from arb_venues.cryptocom.sim.stream import MarketStream, format_decimal
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
PREFIX = "/exchange/v1"
STREAM = web.AppKey("cryptocom_stream", MarketStream)
CLIENT_OID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
TIME_IN_FORCE = {"IMMEDIATE_OR_CANCEL": "IOC", "GOOD_TILL_CANCEL": "GTC", "FILL_OR_KILL": "FOK"}
ORDER_ERRORS = {  # SimOrderError.kind -> (code, message, http status)
    "insufficient_balance": (codes.INSUFFICIENT_AVAILABLE_BALANCE,
                             "INSUFFICIENT_AVAILABLE_BALANCE", 500),
    "unknown_symbol": (codes.INVALID_INSTRUMENT, "INVALID_INSTRUMENT", 400),
    "duplicate_client_order_id": (codes.DUPLICATE_CLORDID, "DUPLICATE_CLORDID", 400),
    "invalid_quantity": (codes.INVALID_ORDERQTY, "INVALID_ORDERQTY", 400),
    "invalid_price": (codes.INVALID_PRICE, "INVALID_PRICE", 400),
    "rejected": (224, "REJ_BY_MATCHING_ENGINE", 400),
}  # fmt: skip
STATUS = {"new": "ACTIVE", "partially_filled": "ACTIVE", "filled": "FILLED",
          "canceled": "CANCELED", "rejected": "REJECTED", "expired": "CANCELED"}  # fmt: skip


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def answer(
    request_id: Any, method: str, result: Any = None, code: int = 0, message: str = "",
    status: int = 200, headers: dict[str, str] | None = None,
) -> web.Response:  # fmt: skip
    body: dict[str, Any] = {"id": request_id, "method": method, "code": code}
    if message:
        body["message"] = message
    if result is not None:
        body["result"] = result
    return web.Response(body=msgspec.json.encode(body), status=status, content_type=JSON,
                        headers=headers)  # fmt: skip


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """Crypto.com answers for the simulator core's HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else {}
    if kind in ("http_429", "http_418"):  # no 418 at Crypto.com: its limit answer is 429
        return answer(-1, "ERROR", None, codes.TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", 429,
                      headers)  # fmt: skip
    return answer(-1, "ERROR", None, codes.ERR_INTERNAL, "ERR_INTERNAL", 500, headers)


class CryptocomSim:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.by_venue_symbol = {i.venue_symbol: i for i in market.instruments.values()}

    # -- public -----------------------------------------------------------------------------

    async def get_book(self, request: web.Request) -> web.Response:
        method = "public/get-book"
        instrument = self.by_venue_symbol.get(VenueSymbol(request.query.get("instrument_name", "")))
        if instrument is None:
            return answer(-1, method, None, codes.INVALID_INSTRUMENT, "INVALID_INSTRUMENT", 400)
        depth = request.query.get("depth", "50")
        if not depth.isdigit() or not 1 <= int(depth) <= 50:
            return answer(-1, method, None, codes.MISSING_OR_INVALID_ARGUMENT,
                          "depth must be 1 to 50", 400)  # fmt: skip
        book = self.market.book(instrument.symbol)
        pd, sd, n = instrument.price_decimals, instrument.size_decimals, int(depth)

        def side(levels: list[tuple[Decimal, Decimal]]) -> list[list[str]]:
            return [[format_decimal(p, pd), format_decimal(s, sd), "1"] for p, s in levels[:n]]

        ts = book.ts_ns // 1_000_000
        data = {"bids": side(book.bids), "asks": side(book.asks), "t": ts, "tt": ts}
        return answer(-1, method, {"depth": n, "data": [data],
                                   "instrument_name": instrument.venue_symbol})  # fmt: skip

    async def get_instruments(self, request: web.Request) -> web.Response:
        rows = [_instrument_json(i) for i in self.market.instruments.values()]
        return answer(-1, "public/get-instruments", {"data": rows})

    # -- private ----------------------------------------------------------------------------

    async def private(self, request: web.Request) -> web.StreamResponse:
        name = "private/" + request.match_info["name"]
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict):
            return answer(-1, "ERROR", None, codes.INVALID_REQUEST, "INVALID_REQUEST", 400)
        request_id = body.get("id", -1)
        if body.get("method") != name:
            return answer(request_id, name, None, codes.INVALID_REQUEST,
                          "method does not match the path", 400)  # fmt: skip
        api_key = str(body.get("api_key", ""))
        secret = self.market.secret_for(api_key) if api_key else None
        if secret is None or not signing.verify(secret, body):
            return answer(request_id, name, None, codes.UNAUTHORIZED, "UNAUTHORIZED", 401)
        if not signing.nonce_in_window(body.get("nonce"), venue_now_ns(self.market) // 1_000_000):
            return answer(request_id, name, None, codes.INVALID_NONCE, "INVALID_NONCE", 400)
        params = body.get("params") or {}
        if not isinstance(params, dict):
            return answer(request_id, name, None, codes.INVALID_REQUEST, "INVALID_REQUEST", 400)
        handler = {
            "private/create-order": self.create_order,
            "private/get-order-detail": self.order_detail,
            "private/cancel-order": self.cancel_order,
            "private/get-open-orders": self.open_orders,
            "private/get-order-history": self.order_history,
            "private/user-balance": self.user_balance,
        }.get(name)
        if handler is None:
            return answer(request_id, name, None, codes.METHOD_NOT_FOUND, "METHOD_NOT_FOUND", 400)
        return handler(request, request_id, name, api_key, params)

    def create_order(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.StreamResponse:  # fmt: skip
        missing = [k for k in ("instrument_name", "side", "type", "price", "quantity")
                   if not params.get(k)]  # fmt: skip
        if missing:
            return answer(request_id, name, None, codes.MISSING_OR_INVALID_ARGUMENT,
                          f"MISSING_OR_INVALID_ARGUMENT: {','.join(missing)}", 400)  # fmt: skip
        instrument = self.by_venue_symbol.get(VenueSymbol(str(params["instrument_name"])))
        if instrument is None:
            return answer(request_id, name, None, codes.INVALID_INSTRUMENT,
                          "INVALID_INSTRUMENT", 400)  # fmt: skip
        if params["side"] not in ("BUY", "SELL"):
            return answer(request_id, name, None, 220, "INVALID_SIDE", 400)
        if params["type"] != "LIMIT":
            return answer(request_id, name, None, 218, "INVALID_ORDTYPE", 400)
        tif = TIME_IN_FORCE.get(str(params.get("time_in_force", "GOOD_TILL_CANCEL")))
        if tif is None:
            return answer(request_id, name, None, codes.INVALID_TIF, "INVALID_TIF", 400)
        client_oid = str(params.get("client_oid") or "")
        if client_oid and not CLIENT_OID.match(client_oid):
            return answer(request_id, name, None, codes.MISSING_OR_INVALID_ARGUMENT,
                          "client_oid: at most 36 characters", 400)  # fmt: skip
        try:
            price, size = Decimal(str(params["price"])), Decimal(str(params["quantity"]))
        except InvalidOperation:
            price = size = Decimal(-1)
        if not (price.is_finite() and size.is_finite() and price > 0 and size > 0):
            return answer(request_id, name, None, codes.INVALID_PRICE, "INVALID_PRICE", 400)
        side = Side.BUY if params["side"] == "BUY" else Side.SELL
        try:
            order = self.market.place_order(api_key, instrument.symbol, side, price, size, tif,
                                            client_oid)  # fmt: skip
        except SimOrderError as exc:
            code, message, status = ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"])
            return answer(request_id, name, None, code, message, status)
        if self.market.faults.take("lose_response", instrument.symbol):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=200)
        return answer(request_id, name, {"client_oid": order.client_order_id,
                                         "order_id": order.order_id})  # fmt: skip

    def _find(self, api_key: str, params: dict[str, Any]) -> SimOrder | None:
        client_oid = str(params.get("client_oid") or "") or None
        order_id = str(params.get("order_id") or "") or None
        for instrument in self.market.instruments.values():
            order = self.market.get_order(api_key, instrument.symbol, client_oid, order_id)
            if order is not None:
                return order
        return None

    def order_detail(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.Response:  # fmt: skip
        if not params.get("client_oid") and not params.get("order_id"):
            return answer(request_id, name, None, codes.MISSING_OR_INVALID_ARGUMENT,
                          "order_id or client_oid", 400)  # fmt: skip
        order = self._find(api_key, params)
        if order is None:
            return answer(request_id, name, None, codes.NOT_FOUND, "NOT_FOUND", 200)
        return answer(request_id, name, _order_json(order, self.market.instruments[order.symbol]))

    def cancel_order(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.Response:  # fmt: skip
        order = self._find(api_key, params)
        if order is None:
            return answer(request_id, name, None, codes.NOT_FOUND, "NOT_FOUND", 200)
        if order.status not in ("new", "partially_filled"):
            return answer(request_id, name, None, codes.NO_ACTIVE_ORDER, "NO_ACTIVE_ORDER", 500)
        self.market.cancel_order(api_key, order.symbol, order.client_order_id or None,
                                 order.order_id)  # fmt: skip
        return answer(request_id, name, {"client_oid": order.client_order_id,
                                         "order_id": order.order_id})  # fmt: skip

    def open_orders(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.Response:  # fmt: skip
        rows = [o for o in self._orders(api_key, params) if o.status in ("new", "partially_filled")]
        return answer(request_id, name, {"data": [self._json(o) for o in reversed(rows)]})

    def order_history(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.Response:  # fmt: skip
        """Closed orders in [start_time, end_time] (ns; default the last day), newest first,
        ``limit`` at most 100."""
        try:
            end = int(params.get("end_time") or 0) or time.time_ns()
            start = int(params.get("start_time") or 0) or end - 86_400 * 10**9
            limit = min(100, max(1, int(params.get("limit") or 100)))
        except ValueError:
            return answer(request_id, name, None, codes.MISSING_OR_INVALID_ARGUMENT,
                          "start_time/end_time/limit", 400)  # fmt: skip
        rows = [
            o for o in reversed(self._orders(api_key, params))
            if o.status not in ("new", "partially_filled") and start <= o.ts_created_ns <= end
        ]  # fmt: skip
        return answer(request_id, name, {"data": [self._json(o) for o in rows[:limit]]})

    def _orders(self, api_key: str, params: dict[str, Any]) -> list[SimOrder]:
        wanted = params.get("instrument_name")
        if wanted:
            instrument = self.by_venue_symbol.get(VenueSymbol(str(wanted)))
            return [] if instrument is None else self.market.orders(api_key, instrument.symbol)
        return self.market.orders(api_key)

    def _json(self, order: SimOrder) -> dict[str, Any]:
        return _order_json(order, self.market.instruments[order.symbol])

    def user_balance(
        self, request: web.Request, request_id: Any, name: str, api_key: str,
        params: dict[str, Any],
    ) -> web.Response:  # fmt: skip
        positions = [
            {"instrument_name": asset, "quantity": _plain(free + locked),
             "reserved_qty": _plain(locked), "market_value": "0", "collateral_eligible": True,
             "haircut": "0", "collateral_amount": "0",
             "max_withdrawal_balance": _plain(free)}
            for asset, (free, locked) in sorted(self.market.balances(api_key).items())
            if free or locked
        ]  # fmt: skip
        return answer(request_id, name, {"data": [{"instrument_name": "USD",
                                                   "position_balances": positions}]})  # fmt: skip


def create_app(market: SimMarket) -> web.Application:
    sim, stream = CryptocomSim(market), MarketStream(market)
    app = web.Application()
    app[ERROR_RESPONSE] = error_response
    app[STREAM] = stream
    app.router.add_get(PREFIX + "/market", stream.handle)
    app.router.add_get(PREFIX + "/public/get-book", sim.get_book)
    app.router.add_get(PREFIX + "/public/get-instruments", sim.get_instruments)
    app.router.add_post(PREFIX + "/private/{name}", sim.private)

    async def on_startup(_app: web.Application) -> None:
        await stream.start()

    async def on_shutdown(_app: web.Application) -> None:
        await stream.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get(CryptocomMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("instrument_name", ""), _trades_body,
        lambda: web.json_response({"id": -1, "method": "public/get-trades", "code": 40004,
                                   "message": "MISSING_OR_INVALID_ARGUMENT"}, status=400),
        default_limit=25, max_limit=150, limit_param="count"))  # fmt: skip
    return app


def _plain(value: Decimal) -> str:
    return "0" if not value else format(value.normalize(), "f")


def _instrument_json(i: Instrument) -> dict[str, Any]:
    return {
        "symbol": i.venue_symbol, "inst_type": "CCY_PAIR",
        "display_name": f"{i.base}/{i.quote}", "base_ccy": i.base, "quote_ccy": i.quote,
        "quote_decimals": i.price_decimals, "quantity_decimals": i.size_decimals,
        "price_tick_size": i.tick_size, "qty_tick_size": i.lot_size, "max_leverage": "1",
        "tradable": i.status == "trading",
    }  # fmt: skip


def _order_json(order: SimOrder, instrument: Instrument) -> dict[str, Any]:
    pd, sd = instrument.price_decimals, instrument.size_decimals
    status = STATUS.get(order.status, "CANCELED")
    return {
        "account_id": "sim", "order_id": order.order_id, "client_oid": order.client_order_id,
        "order_type": "LIMIT",
        "time_in_force": {v: k for k, v in TIME_IN_FORCE.items()}.get(order.time_in_force, ""),
        "side": "BUY" if order.side == Side.BUY else "SELL", "exec_inst": [],
        "quantity": format_decimal(order.size, sd), "limit_price": format_decimal(order.price, pd),
        "order_value": _plain(order.size * order.price),
        "avg_price": _plain(order.avg_price) if order.filled else "0",
        "cumulative_quantity": format_decimal(order.filled, sd),
        "cumulative_value": _plain(order.quote_filled), "cumulative_fee": _plain(order.fee),
        "status": status, "instrument_name": instrument.venue_symbol,
        "fee_instrument_name": order.fee_asset,
        "reason": "43004" if status == "CANCELED" and order.time_in_force == "IOC" else "0",
        "create_time": order.ts_created_ns // 1_000_000,
        "create_time_ns": str(order.ts_created_ns),
        "update_time": order.ts_updated_ns // 1_000_000,
    }  # fmt: skip


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """public/get-trades: newest first, ``s`` the taker's side, ``tn`` ns as text."""
    return {"id": -1, "method": "public/get-trades", "code": 0, "result": {"data": [
        {"s": t.side.value.upper(), "p": _num(t.price), "q": _num(t.size),
         "t": t.ts_ns // 1_000_000, "tn": str(t.ts_ns), "d": str(t.trade_id),
         "i": instrument.venue_symbol, "m": str(t.trade_id)} for t in trades]}}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
