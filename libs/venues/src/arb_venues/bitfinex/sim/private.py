"""The simulator's Bitfinex private REST v2: signed POSTs checked as Bitfinex checks them.

Every ``/v2/auth/...`` call needs ``bfx-apikey`` (unknown: 10100 "apikey: invalid"), a
``bfx-nonce`` above the key's last one (10114 "nonce: small") and ``bfx-signature`` = hex
HMAC-SHA384 of ``/api`` + path + nonce + body (10100 "apikey: digest invalid"); failures are
``["error", CODE, "TEXT"]`` with HTTP 500, as Bitfinex answers them (errors.py). Orders are the
core's; their arrays and trades have the layout trading.py reads (the docs linked there).
The ``lose_response`` fault executes an order and closes the connection unanswered.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.bitfinex import errors as codes
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.bitfinex.signing import verify
from arb_venues.bitfinex.sim.rest import error_body, json_body
from arb_venues.bitfinex.sim.stream import BitfinexStream, spelled
from arb_venues.bitfinex.trading import ORDER_TYPES, from_cid, to_cid
from arb_venues.errors import BadRequest
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError

TIME_IN_FORCE = {venue_type: tif for tif, venue_type in ORDER_TYPES.items()}
ORDER_ERRORS = {
    "insufficient_balance": codes.INSUFFICIENT,
    "unknown_symbol": codes.UNKNOWN_PAIR,
    "invalid_quantity": codes.MINIMUM_SIZE,
    "invalid_price": codes.INVALID_PRICE,
    "duplicate_client_order_id": (codes.GENERIC, 500, "Invalid order: duplicate cid"),
    "rejected": codes.REJECTED,
}
OPEN = ("new", "partially_filled")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _ms(ns: int) -> int:
    return ns // 1_000_000


def status_text(order: SimOrder) -> str:
    """ORDER_STATUS as Bitfinex writes it."""
    fill = f"{order.avg_price.normalize():f}({order.filled.normalize():f})"
    if order.status == "filled":
        return f"EXECUTED @ {fill}"
    if order.status == "partially_filled":
        return f"PARTIALLY FILLED @ {fill}"
    if order.status == "new":
        return "ACTIVE"
    prefix = "IOC CANCELED" if order.time_in_force == "IOC" else "CANCELED"
    return f"{prefix} was: PARTIALLY FILLED @ {fill}" if order.filled else prefix


def order_number(order: SimOrder) -> int:
    """The simulator's order id (``BI0000000042``) as Bitfinex's integer order id (42)."""
    digits = "".join(ch for ch in order.order_id if ch.isdigit())
    return int(digits) if digits else 0


def _cid(order: SimOrder) -> int | None:
    try:
        return to_cid(order.client_order_id) if order.client_order_id else None
    except BadRequest:
        return None


class BitfinexPrivate:
    def __init__(self, market: SimMarket, stream: BitfinexStream) -> None:
        self.market = market
        self.stream = stream
        self._nonces: dict[str, int] = {}

    def add_routes(self, app: web.Application) -> None:
        routes = (
            ("/v2/auth/w/order/submit", self.submit),
            ("/v2/auth/w/order/cancel", self.cancel),
            ("/v2/auth/r/orders", self.active),
            ("/v2/auth/r/orders/hist", self.history),
            ("/v2/auth/r/orders/{symbol}", self.active),
            ("/v2/auth/r/orders/{symbol}/hist", self.history),
            ("/v2/auth/r/order/{symbol}:{id}/trades", self.order_trades),
            ("/v2/auth/r/trades/hist", self.trades),
            ("/v2/auth/r/trades/{symbol}/hist", self.trades),
            ("/v2/auth/r/wallets", self.wallets),
        )
        for path, handler in routes:
            app.router.add_post(path, self._signed(handler))

    def _signed(self, handler: Any) -> Any:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            body = await request.text()
            try:
                api_key = self._authenticate(request, body)
                fields = _DECODER.decode(body or "{}")
                if not isinstance(fields, dict):
                    raise _Refused(error_body(codes.PARAMETERS))
                response: web.StreamResponse = await handler(api_key, request, fields)
            except _Refused as refused:
                return refused.response
            except msgspec.DecodeError:
                return error_body(codes.PARAMETERS)
            return response

        return endpoint

    def _authenticate(self, request: web.Request, body: str) -> str:
        headers = request.headers
        api_key = headers.get("bfx-apikey", "")
        nonce = headers.get("bfx-nonce", "")
        secret = self.market.secret_for(api_key) if api_key else None
        if secret is None:
            raise _Refused(error_body(codes.AUTH_FAILED))
        if not nonce.isdigit() or int(nonce) <= self._nonces.get(api_key, 0):
            raise _Refused(error_body(codes.NONCE_SMALL))
        if not verify(secret, request.path, nonce, body, headers.get("bfx-signature", "")):
            raise _Refused(error_body(codes.BAD_SIGNATURE))
        self._nonces[api_key] = int(nonce)
        return api_key

    # -- rows ---------------------------------------------------------------------------------

    def _symbol(self, venue_symbol: str) -> str | None:
        instrument = self.stream.instrument(venue_symbol)
        return instrument.symbol if instrument is not None else None

    def order_row(self, order: SimOrder) -> list[object]:
        instrument = self.market.instruments[order.symbol]
        sign = -1 if order.side is Side.SELL else 1
        remaining = order.size - order.filled  # what never filled, cancelled orders too
        venue_type = ORDER_TYPES.get(order.time_in_force, "EXCHANGE LIMIT")
        return [
            order_number(order), None, _cid(order), spelled(instrument),
            _ms(order.ts_created_ns), _ms(order.ts_updated_ns or order.ts_created_ns),
            sign * remaining, sign * order.size, venue_type, None, None, None, 0,
            status_text(order), None, None, order.price, order.avg_price, 0, 0, None, None,
            None, 0, 0, None, None, None, "API>BFX", None, None, {},
        ]  # fmt: skip

    def trade_rows(self, order: SimOrder) -> list[list[object]]:
        """One trade per fill; the order's fee spread over them, exact in the sum."""
        instrument = self.market.instruments[order.symbol]
        sign = -1 if order.side is Side.SELL else 1
        rows: list[list[object]] = []
        left = order.fee
        for index, (price, size) in enumerate(order.fills):
            last = index == len(order.fills) - 1
            share = left if last else (order.fee * size / order.filled).quantize(Decimal("1e-12"))
            left -= share
            number = order_number(order)
            rows.append([
                number * 1000 + index, spelled(instrument), _ms(order.ts_created_ns), number,
                sign * size, price, ORDER_TYPES.get(order.time_in_force), order.price, -1,
                -share, bitfinex_symbols.currency_code(order.fee_asset), _cid(order),
            ])  # fmt: skip
        return rows

    def _orders(self, api_key: str, request: web.Request) -> list[SimOrder]:
        venue_symbol = request.match_info.get("symbol")
        if venue_symbol is None:
            return self.market.orders(api_key)
        symbol = self._symbol(venue_symbol)
        if symbol is None:
            raise _Refused(error_body(codes.UNKNOWN_PAIR))
        return self.market.orders(api_key, symbol)

    # -- handlers -----------------------------------------------------------------------------

    async def submit(self, api_key: str, request: web.Request, fields: dict[str, Any]
                     ) -> web.StreamResponse:  # fmt: skip
        tif = TIME_IN_FORCE.get(str(fields.get("type", "")))
        symbol = self._symbol(str(fields.get("symbol", "")))
        if tif is None:
            return error_body((10020, 500, "type: invalid"))
        if symbol is None:
            return error_body(codes.UNKNOWN_PAIR)
        cid = fields.get("cid")
        if cid is not None and (not isinstance(cid, int) or not 0 < cid < 1 << 45):
            return error_body((10020, 500, "cid: invalid"))
        try:
            amount, price = Decimal(str(fields["amount"])), Decimal(str(fields["price"]))
        except (KeyError, InvalidOperation):
            return error_body((10020, 500, "amount/price: invalid"))
        if not amount.is_finite() or amount == 0:
            return error_body((10020, 500, "amount: invalid"))
        side = Side.BUY if amount > 0 else Side.SELL
        instrument = self.market.instruments[symbol]
        try:
            order = self.market.place_order(
                api_key, symbol, side, price, abs(amount), tif, from_cid(cid)
            )
        except SimOrderError as exc:
            code, status, text = ORDER_ERRORS.get(exc.kind, codes.REJECTED)
            return error_body((code, status, text), amount=abs(amount), pair=spelled(instrument),
                              price=price, minimum=instrument.min_size,
                              lot=instrument.lot_size)  # fmt: skip
        if self.market.faults.take("lose_response", symbol) and request.transport is not None:
            request.transport.close()  # executed, but the answer never arrives
            return web.Response(status=500)
        text = f"Submitting 1 orders. ({tif} {side.value} {abs(amount)} {spelled(instrument)})"
        return json_body([_ms(time.time_ns()), "on-req", None, None, [self.order_row(order)],
                          None, "SUCCESS", text])  # fmt: skip

    async def cancel(self, api_key: str, request: web.Request, fields: dict[str, Any]
                     ) -> web.StreamResponse:  # fmt: skip
        order_id = fields.get("id")
        cid = fields.get("cid")
        found = None
        for order in self.market.orders(api_key):
            if (isinstance(order_id, int) and order_number(order) == order_id) or (
                isinstance(cid, int) and _cid(order) == cid
            ):
                found = order
        if found is None or found.status not in OPEN:
            return error_body(codes.ORDER_NOT_FOUND)
        cancelled = self.market.cancel_order(api_key, found.symbol, order_id=found.order_id)
        assert cancelled is not None
        text = f"Submitted for cancellation; waiting for confirmation (ID: {order_number(found)})."
        return json_body([_ms(time.time_ns()), "oc-req", None, None, self.order_row(cancelled),
                          None, "SUCCESS", text])  # fmt: skip

    async def active(self, api_key: str, request: web.Request, fields: dict[str, Any]
                     ) -> web.StreamResponse:  # fmt: skip
        ids = fields.get("id")
        rows = [self.order_row(o) for o in self._orders(api_key, request) if o.status in OPEN
                and (not isinstance(ids, list) or order_number(o) in ids)]  # fmt: skip
        return json_body(rows)

    async def history(self, api_key: str, request: web.Request, fields: dict[str, Any]
                      ) -> web.StreamResponse:  # fmt: skip
        ids = fields.get("id")
        start = fields.get("start") or 0
        end = fields.get("end") or 1 << 62
        limit = min(int(fields.get("limit") or 25), 2500)
        closed = [o for o in self._orders(api_key, request) if o.status not in OPEN
                  and start <= _ms(o.ts_created_ns) <= end
                  and (not isinstance(ids, list) or order_number(o) in ids)]  # fmt: skip
        closed.sort(key=lambda o: o.ts_created_ns, reverse=True)
        return json_body([self.order_row(o) for o in closed[:limit]])

    async def order_trades(self, api_key: str, request: web.Request, fields: dict[str, Any]
                           ) -> web.StreamResponse:  # fmt: skip
        wanted = request.match_info["id"]
        rows = [row for o in self._orders(api_key, request) if str(order_number(o)) == wanted
                for row in self.trade_rows(o)]  # fmt: skip
        return json_body(rows)

    async def trades(self, api_key: str, request: web.Request, fields: dict[str, Any]
                     ) -> web.StreamResponse:  # fmt: skip
        start = fields.get("start") or 0
        limit = min(int(fields.get("limit") or 25), 2500)
        rows = [row for o in self._orders(api_key, request) if _ms(o.ts_created_ns) >= start
                for row in self.trade_rows(o)]  # fmt: skip
        rows.sort(key=lambda r: r[2] if isinstance(r[2], int) else 0, reverse=True)
        return json_body(rows[:limit])

    async def wallets(self, api_key: str, request: web.Request, fields: dict[str, Any]
                      ) -> web.StreamResponse:  # fmt: skip
        rows = [["exchange", bitfinex_symbols.currency_code(asset), free + locked, 0, free,
                 None, None] for asset, (free, locked) in
                sorted(self.market.balances(api_key).items())]  # fmt: skip
        return json_body(rows)
