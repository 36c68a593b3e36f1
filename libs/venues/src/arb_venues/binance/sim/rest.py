"""The simulator's Binance REST: public depth/exchangeInfo/bookTicker/time, the futures
hosts' exchangeInfo (empty), private orders and account.

Same paths, parameters, signing check (signing.verify), timing check (rest-api.md "Timing
security") and error bodies as api.binance.com. Every answer carries the
``X-MBX-USED-WEIGHT-1M`` header with this minute's used weight.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web
from arb_structs import Side, VenueSymbol

from arb_venues.binance.numbers import wire8
from arb_venues.binance.signing import API_KEY_HEADER, verify
from arb_venues.binance.sim import bodies
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_ORDER_ERRORS = {
    "insufficient_balance": bodies.INSUFFICIENT_BALANCE,
    "unknown_symbol": bodies.INVALID_SYMBOL,
    "duplicate_client_order_id": bodies.DUPLICATE_ORDER,
    "invalid_quantity": (-1013, "Filter failure: LOT_SIZE"),
    "invalid_price": (-1013, "Filter failure: PRICE_FILTER"),
}


class _Refused(Exception):
    def __init__(self, code_msg: tuple[int, str], status: int = 400) -> None:
        self.response = bodies.error(code_msg, status)


@dataclass
class SimRest:
    market: SimMarket
    order_ids: dict[str, int] = field(default_factory=dict)  # sim order id -> Binance orderId
    sim_ids: dict[int, str] = field(default_factory=dict)
    trade_ids: dict[str, list[int]] = field(default_factory=dict)
    next_trade_id: int = 1
    minute: int = 0
    used_weight: int = 0

    # -- helpers ---------------------------------------------------------------------------

    def _charge(self, weight: int) -> dict[str, str]:
        minute = bodies.now_ms() // 60_000
        if minute != self.minute:
            self.minute, self.used_weight = minute, 0
        self.used_weight += weight
        return {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)}

    def _ok(self, payload: object, weight: int) -> web.Response:
        return bodies.json_response(payload, headers=self._charge(weight))

    def _normalised(self, venue_symbol: str | None) -> tuple[str, str]:
        if not venue_symbol:
            raise _Refused(bodies.mandatory("symbol"))
        for symbol, instrument in self.market.instruments.items():
            if instrument.venue_symbol == venue_symbol:
                return symbol, venue_symbol
        raise _Refused(bodies.INVALID_SYMBOL)

    def _binance_id(self, order: SimOrder) -> int:
        if order.order_id not in self.order_ids:
            number = int(order.order_id) if order.order_id.isdigit() else len(self.order_ids) + 1
            self.order_ids[order.order_id] = number
            self.sim_ids[number] = order.order_id
        return self.order_ids[order.order_id]

    async def _authenticate(self, request: web.Request) -> tuple[str, dict[str, str]]:
        """(api key, params) of a SIGNED request, or _Refused with Binance's error."""
        api_key = request.headers.get(API_KEY_HEADER, "")
        if not api_key:
            raise _Refused(bodies.BAD_API_KEY_FORMAT, 401)
        secret = self.market.secret_for(api_key)
        if secret is None:
            raise _Refused(bodies.REJECTED_API_KEY, 401)
        query, body = request.query_string, await request.text()
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(query, keep_blank_values=True))  # the query wins (docs)
        for name in ("timestamp", "signature"):
            if not params.get(name):
                raise _Refused(bodies.mandatory(name))
        if not verify(secret, query, body):
            raise _Refused(bodies.BAD_SIGNATURE)
        try:
            timestamp = int(params["timestamp"])
            recv_window = float(params.get("recvWindow", "5000"))
        except ValueError:
            raise _Refused(bodies.illegal("timestamp", "^[0-9]{1,20}$")) from None
        if recv_window > 60000:
            raise _Refused((-1102, "'recvWindow' contains unexpected value. "
                                   "Cannot be greater than 60000."))  # fmt: skip
        server = venue_now_ns(self.market) // 1_000_000
        if timestamp >= server + 1000:
            raise _Refused(bodies.AHEAD_OF_SERVER)
        if server - timestamp > recv_window:
            raise _Refused(bodies.OUTSIDE_RECV_WINDOW)
        return api_key, params

    # -- public ----------------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        return self._ok({}, 1)

    async def server_time(self, request: web.Request) -> web.Response:
        return self._ok({"serverTime": venue_now_ns(self.market) // 1_000_000}, 1)

    async def depth(self, request: web.Request) -> web.Response:
        try:
            symbol, _ = self._normalised(request.query.get("symbol"))
            limit_text = request.query.get("limit", "100")
            if not limit_text.isdigit():
                raise _Refused(bodies.illegal("limit", "^[0-9]{1,20}$"))
        except _Refused as refused:
            return refused.response
        limit = min(int(limit_text), 5000) or 100
        book = self.market.book(symbol)
        weight = 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
        payload = {
            "lastUpdateId": book.seq,
            "bids": bodies.levels(book.bids, limit),
            "asks": bodies.levels(book.asks, limit),
        }
        return self._ok(payload, weight)

    async def exchange_info(self, request: web.Request) -> web.Response:
        instruments = list(self.market.instruments.values())
        wanted = request.query.get("symbol")
        if wanted is not None:
            instruments = [i for i in instruments if i.venue_symbol == wanted]
            if not instruments:
                return bodies.error(bodies.INVALID_SYMBOL)
        return self._ok(bodies.exchange_info(instruments), 20)

    async def book_ticker(self, request: web.Request) -> web.Response:
        """GET /api/v3/ticker/bookTicker: best bid and ask with their sizes, of ``symbol``,
        of the JSON list ``symbols``, or of every symbol; weight 2 for one, 4 for several
        (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
        "Symbol order book ticker")."""
        one = request.query.get("symbol")
        many = request.query.get("symbols")
        try:
            if one is not None and many is not None:
                raise _Refused(bodies.BOTH_SYMBOL_AND_SYMBOLS)
            if one is not None:
                return self._ok(self._book_ticker(self._normalised(one)), 2)
            names = [i.venue_symbol for i in self.market.instruments.values()]
            if many is not None:
                try:
                    names = [VenueSymbol(str(n)) for n in msgspec.json.decode(many)]
                except msgspec.DecodeError:
                    raise _Refused(bodies.illegal("symbols", "^\\[.*\\]$")) from None
            rows = [self._book_ticker(self._normalised(n)) for n in names]
        except _Refused as refused:
            return refused.response
        return self._ok(rows, 4)

    def _book_ticker(self, symbol: tuple[str, str]) -> dict[str, str]:
        book = self.market.book(symbol[0])
        (bid, bid_size), (ask, ask_size) = book.bids[0], book.asks[0]
        return {"symbol": symbol[1], "bidPrice": wire8(bid), "bidQty": wire8(bid_size),
                "askPrice": wire8(ask), "askQty": wire8(ask_size)}  # fmt: skip

    async def futures_exchange_info(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/exchangeInfo and /dapi/v1/exchangeInfo (USD-M and COIN-M futures,
        other hosts on Binance; clients such as ccxt load them with the spot markets): the
        documented shape with no symbols, since the simulator has spot markets only
        (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information)."""
        return self._ok(bodies.futures_exchange_info(), 1)

    # -- private ---------------------------------------------------------------------------

    async def new_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            side, tif, price, size, client_id, resp_type = _order_params(params)
        except _Refused as refused:
            return refused.response
        try:
            order = self.market.place_order(api_key, symbol, side, price, size, tif, client_id)
        except SimOrderError as exc:
            return bodies.error(_ORDER_ERRORS.get(exc.kind, (-2010, str(exc))))
        trade_ids = list(range(self.next_trade_id, self.next_trade_id + len(order.fills)))
        self.next_trade_id += len(order.fills)
        self.trade_ids[order.order_id] = trade_ids
        if self.market.faults.take("lose_response", symbol):
            # The order is executed, the answer is lost: close the connection unanswered.
            request.protocol.force_close()
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client
        body = bodies.order_body(order, venue_symbol, self._binance_id(order), resp_type,
                                 trade_ids)  # fmt: skip
        return self._ok(body, 1)

    async def query_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            client_id, order_id = self._order_ref(params)
        except _Refused as refused:
            return refused.response
        order = self.market.get_order(api_key, symbol, client_id, order_id)
        if order is None:
            return bodies.error(bodies.NO_SUCH_ORDER)
        body = bodies.order_body(order, venue_symbol, self._binance_id(order), "QUERY", [])
        return self._ok(body, 4)

    async def cancel_order(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            client_id, order_id = self._order_ref(params)
        except _Refused as refused:
            return refused.response
        order = self.market.get_order(api_key, symbol, client_id, order_id)
        if order is None or order.status not in ("new", "partially_filled"):
            return bodies.error(bodies.UNKNOWN_ORDER_SENT)  # closed orders cannot be cancelled
        order = self.market.cancel_order(api_key, symbol, client_id, order_id) or order
        cancel_id = params.get("newClientOrderId") or secrets.token_urlsafe(16)[:22]
        body = bodies.order_body(order, venue_symbol, self._binance_id(order), "CANCEL", [],
                                 cancel_client_id=cancel_id)  # fmt: skip
        return self._ok(body, 1)

    async def account(self, request: web.Request) -> web.Response:
        try:
            api_key, params = await self._authenticate(request)
        except _Refused as refused:
            return refused.response
        omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
        balances = [
            {"asset": asset, "free": wire8(free), "locked": wire8(locked)}
            for asset, (free, locked) in sorted(self.market.balances(api_key).items())
            if not (omit_zero and free == 0 and locked == 0)
        ]
        fees = next(iter(self.market.instruments.values()), None)
        maker = wire8(Decimal(fees.maker_fee if fees else "0.001"))
        taker = wire8(Decimal(fees.taker_fee if fees else "0.001"))
        payload = {
            "makerCommission": int(Decimal(maker) * 10000),
            "takerCommission": int(Decimal(taker) * 10000),
            "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": maker, "taker": taker, "buyer": bodies.ZERO8,
                                "seller": bodies.ZERO8},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": bodies.now_ms(), "accountType": "SPOT", "balances": balances,
            "permissions": ["SPOT"], "uid": 1,
        }  # fmt: skip
        return self._ok(payload, 20)

    async def all_orders(self, request: web.Request) -> web.Response:
        """GET /api/v3/allOrders: the symbol's orders from orderId, or in [startTime,
        endTime] (at most 24 hours), oldest first, at most ``limit``."""
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            start, end, limit = _window(params)
            from_id = _number(params, "orderId")
        except _Refused as refused:
            return refused.response
        rows = []
        for order in self.market.orders(api_key, symbol):
            number = self._binance_id(order)
            created = order.ts_created_ns // 1_000_000
            if from_id is not None and number < from_id:
                continue
            if from_id is None and not start <= created <= end:
                continue
            rows.append(bodies.order_body(order, venue_symbol, number, "QUERY", []))
        return self._ok(rows[:limit], 20)

    async def my_trades(self, request: web.Request) -> web.Response:
        """GET /api/v3/myTrades: the symbol's fills (by orderId, from fromId, or in a window),
        each with its share of the order's commission."""
        try:
            api_key, params = await self._authenticate(request)
            symbol, venue_symbol = self._normalised(params.get("symbol"))
            start, end, limit = _window(params)
            order_id, from_id = _number(params, "orderId"), _number(params, "fromId")
        except _Refused as refused:
            return refused.response
        rows = []
        for order in self.market.orders(api_key, symbol):
            number = self._binance_id(order)
            if order_id is not None and number != order_id:
                continue
            trade_ids = self.trade_ids.get(order.order_id)
            if trade_ids is None:  # placed through another door: number its fills now
                trade_ids = list(range(self.next_trade_id, self.next_trade_id + len(order.fills)))
                self.next_trade_id += len(order.fills)
                self.trade_ids[order.order_id] = trade_ids
            for fill in bodies.account_trades(order, venue_symbol, number, trade_ids):
                if from_id is not None and fill["id"] < from_id:
                    continue
                if order_id is None and from_id is None and not start <= fill["time"] <= end:
                    continue
                rows.append(fill)
        weight = 5 if order_id is not None else 20
        return self._ok(sorted(rows, key=lambda r: r["id"])[:limit], weight)

    def _order_ref(self, params: dict[str, str]) -> tuple[str | None, str | None]:
        client_id = params.get("origClientOrderId") or None
        order_id_text = params.get("orderId") or None
        if client_id is None and order_id_text is None:
            raise _Refused((-1102, "Param 'origClientOrderId' or 'orderId' must be sent, "
                                   "but both were empty/null!"))  # fmt: skip
        order_id = None
        if order_id_text is not None:
            if not order_id_text.isdigit():
                raise _Refused(bodies.illegal("orderId", "^[0-9]{1,20}$"))
            order_id = self.sim_ids.get(int(order_id_text), order_id_text)
        return client_id, order_id


def _number(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    if not text.isdigit():
        raise _Refused(bodies.illegal(name, "^[0-9]{1,20}$"))
    return int(text)


def _window(params: dict[str, str]) -> tuple[int, int, int]:
    """(startTime, endTime, limit) of a list request; a span over 24 hours is refused."""
    now = bodies.now_ms()
    start, end = _number(params, "startTime"), _number(params, "endTime")
    limit = _number(params, "limit") or 500
    if limit > 1000:
        raise _Refused((-1100, "Illegal characters found in parameter 'limit'; legal range "
                               "is '1000'."))  # fmt: skip
    if start is not None and end is None:
        end = start + 24 * 3_600_000 - 1
    if end is not None and start is None:
        start = end - 24 * 3_600_000 + 1
    if start is None or end is None:  # neither: the most recent ones, no span to check
        return 0, now + 3_600_000, limit
    if end - start >= 24 * 3_600_000:
        raise _Refused((-1127, "More than 24 hours between startTime and endTime."))
    return start, end, limit


def _order_params(params: dict[str, str]) -> tuple[Side, str, Decimal, Decimal, str, str]:
    """(side, timeInForce, price, quantity, client id, response type) of a LIMIT order."""
    sides = {"BUY": Side.BUY, "SELL": Side.SELL}
    if params.get("side") not in sides:
        raise _Refused(bodies.INVALID_SIDE if params.get("side") else bodies.mandatory("side"))
    if params.get("type") != "LIMIT":  # the only type the simulated venue takes
        raise _Refused(bodies.INVALID_ORDER_TYPE)
    tif = params.get("timeInForce")
    if not tif:
        raise _Refused(bodies.mandatory("timeInForce"))
    if tif not in ("GTC", "IOC", "FOK"):
        raise _Refused(bodies.INVALID_TIF)
    numbers = []
    for name in ("price", "quantity"):
        text = params.get(name)
        if not text:
            raise _Refused(bodies.mandatory(name))
        if not _DECIMAL.match(text):
            raise _Refused(bodies.illegal(name, bodies.DECIMAL_RANGE))
        try:
            numbers.append(Decimal(text))
        except InvalidOperation:
            raise _Refused(bodies.illegal(name, bodies.DECIMAL_RANGE)) from None
    client_id = params.get("newClientOrderId") or secrets.token_urlsafe(16)[:22]
    if not _CLIENT_ID.match(client_id):
        raise _Refused(bodies.illegal("newClientOrderId", bodies.CLIENT_ID_RANGE))
    resp_type = params.get("newOrderRespType", "FULL")
    if resp_type not in ("ACK", "RESULT", "FULL"):
        raise _Refused((-1130, "Data sent for parameter 'newOrderRespType' is not valid."))
    return sides[params["side"]], tif, numbers[0], numbers[1], client_id, resp_type


def add_routes(app: web.Application, rest: SimRest) -> None:
    app.router.add_get("/api/v3/ping", rest.ping)
    app.router.add_get("/api/v3/time", rest.server_time)
    app.router.add_get("/api/v3/depth", rest.depth)
    app.router.add_get("/api/v3/exchangeInfo", rest.exchange_info)
    app.router.add_get("/api/v3/ticker/bookTicker", rest.book_ticker)
    app.router.add_get("/fapi/v1/exchangeInfo", rest.futures_exchange_info)
    app.router.add_get("/dapi/v1/exchangeInfo", rest.futures_exchange_info)
    app.router.add_post("/api/v3/order", rest.new_order)
    app.router.add_get("/api/v3/order", rest.query_order)
    app.router.add_delete("/api/v3/order", rest.cancel_order)
    app.router.add_get("/api/v3/account", rest.account)
    app.router.add_get("/api/v3/allOrders", rest.all_orders)
    app.router.add_get("/api/v3/myTrades", rest.my_trades)
