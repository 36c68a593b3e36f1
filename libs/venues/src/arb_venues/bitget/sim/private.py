"""The simulator's Bitget private REST: signed requests checked like Bitget checks them.

Auth failures answer HTTP 400 with Bitget's codes (40001 no key, 40006 unknown key, 40011 /
40012 missing or wrong passphrase, 40005 bad timestamp, 40008 expired, 40009 bad
signature); order failures answer 400 with their code (43012 insufficient balance, 40034
unknown symbol, 40808 bad parameters or a duplicate clientOid, 43001 no such order).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.bitget import errors as codes
from arb_venues.bitget.signing import EXPIRY_S, verify
from arb_venues.bitget.sim import bodies as simformat
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

CLIENT_ID = re.compile(r"^[A-Za-z0-9_#:-]{1,40}$")
FORCES = {"ioc": "IOC", "fok": "FOK", "gtc": "GTC", "post_only": "GTC"}
ORDER_ERRORS = {
    "insufficient_balance": codes.INSUFFICIENT_BALANCE,
    "unknown_symbol": codes.SYMBOL_MISSING,
    "duplicate_client_order_id": codes.DUPLICATE_CLIENT_ID,
    "invalid_quantity": codes.PRICE_OR_SIZE,
    "invalid_price": codes.PRICE_OR_SIZE,
    "rejected": ("43011", 400, "The parameter does not meet the specification"),
}
HISTORY_LIMIT = 100


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def add_private_routes(app: web.Application, market: SimMarket) -> None:
    routes = (
        ("POST", "/api/v2/spot/trade/place-order", _place),
        ("GET", "/api/v2/spot/trade/orderInfo", _query),
        ("POST", "/api/v2/spot/trade/cancel-order", _cancel),
        ("GET", "/api/v2/spot/account/assets", _assets),
        ("GET", "/api/v2/spot/trade/history-orders", _history),
        ("GET", "/api/v2/spot/trade/unfilled-orders", _unfilled),
    )
    for method, path, handler in routes:
        app.router.add_route(method, path, _signed(market, handler))


def _signed(market: SimMarket, handler: Any) -> Any:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        try:
            api_key = _authenticate(market, request, body)
            response: web.StreamResponse = await handler(market, api_key, request, body)
        except _Refused as refused:
            return refused.response
        return response

    return endpoint


def _authenticate(market: SimMarket, request: web.Request, body: str) -> str:
    headers = request.headers
    api_key = headers.get("ACCESS-KEY", "")
    given = headers.get("ACCESS-SIGN", "")
    timestamp = headers.get("ACCESS-TIMESTAMP", "")
    passphrase = headers.get("ACCESS-PASSPHRASE", "")
    if not api_key:
        raise _Refused(simformat.error(codes.ACCESS_KEY_EMPTY))
    if not given:
        raise _Refused(simformat.error(codes.SIGN_EMPTY))
    secret = market.secret_for(api_key)
    if secret is None:
        raise _Refused(simformat.error(codes.INVALID_KEY))
    if not passphrase:
        raise _Refused(simformat.error(codes.PASSPHRASE_EMPTY))
    expected = market.passphrase_for(api_key)
    if expected is not None and passphrase != expected:
        raise _Refused(simformat.error(codes.PASSPHRASE_INCORRECT))
    if not timestamp.isdigit():
        raise _Refused(simformat.error(codes.INVALID_TIMESTAMP))
    if abs(venue_now_ns(market) / 1e9 - int(timestamp) / 1000) > EXPIRY_S:
        raise _Refused(simformat.error(codes.TIMESTAMP_EXPIRED))
    path, _, query = request.raw_path.partition("?")
    if not verify(secret, timestamp, request.method, path, query, body, given):
        raise _Refused(simformat.error(codes.INVALID_SIGNATURE))
    return api_key


def _symbol(market: SimMarket, name: str) -> str | None:
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == name:
            return symbol
    return None


def _venue_symbol(market: SimMarket, order: SimOrder) -> str:
    return market.instruments[order.symbol].venue_symbol


def _json(body: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise _Refused(simformat.error(codes.PARAMETER_ERROR, param="body")) from None
    if not isinstance(value, dict):
        raise _Refused(simformat.error(codes.PARAMETER_ERROR, param="body"))
    return value


async def _place(market: SimMarket, api_key: str, request: web.Request, body: str
                 ) -> web.StreamResponse:  # fmt: skip
    order = _json(body)
    for field in ("symbol", "side", "orderType", "force", "size"):
        if not order.get(field):
            return simformat.error(codes.PARAMETER_EMPTY, param=field)
    client_id = str(order.get("clientOid", ""))
    if client_id and not CLIENT_ID.match(client_id):
        return simformat.error(("40305", 400, "client_oid exceeds 40 characters or is invalid"))
    symbol = _symbol(market, str(order["symbol"]))
    if symbol is None:
        return simformat.error(codes.SYMBOL_MISSING, param=str(order["symbol"]))
    tif = FORCES.get(str(order["force"]))
    side = str(order["side"])
    if tif is None or side not in ("buy", "sell") or order["orderType"] != "limit":
        return simformat.error(codes.PARAMETER_ERROR, param="orderType/force/side")
    try:
        price, size = Decimal(str(order.get("price", ""))), Decimal(str(order["size"]))
    except InvalidOperation:
        return simformat.error(codes.PRICE_OR_SIZE, param="price/size")
    try:
        placed = market.place_order(api_key, symbol, Side(side), price, size, tif, client_id)
    except SimOrderError as exc:
        entry = ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"])
        return simformat.error(entry, param=str(exc)) if "{param}" in entry[2] else (
            simformat.error(entry))  # fmt: skip
    if market.faults.take("lose_response", symbol) and request.transport is not None:
        request.transport.close()  # executed, but the answer never arrives
        return web.Response(status=500)
    return simformat.body(data={"orderId": placed.order_id, "clientOid": placed.client_order_id})


def _find(market: SimMarket, api_key: str, client_id: str | None, order_id: str | None
          ) -> SimOrder | None:  # fmt: skip
    for order in market.orders(api_key):
        if (client_id and order.client_order_id == client_id) or (
            order_id and order.order_id == order_id
        ):
            return order
    return None


async def _query(market: SimMarket, api_key: str, request: web.Request, body: str
                 ) -> web.StreamResponse:  # fmt: skip
    client_id, order_id = request.query.get("clientOid"), request.query.get("orderId")
    if not client_id and not order_id:
        return simformat.error(codes.PARAMETER_EMPTY, param="orderId or clientOid")
    order = _find(market, api_key, client_id, order_id)
    if order is None:
        return simformat.body(data=[])
    return simformat.body(data=[simformat.order_info(order, _venue_symbol(market, order))])


async def _cancel(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    fields = _json(body)
    symbol = _symbol(market, str(fields.get("symbol", "")))
    if symbol is None:
        return simformat.error(codes.SYMBOL_MISSING, param="symbol")
    client_id, order_id = fields.get("clientOid"), fields.get("orderId")
    order = market.get_order(api_key, symbol, client_id or None, order_id or None)
    if order is None or order.status not in ("new", "partially_filled"):
        return simformat.error(codes.ORDER_MISSING)
    market.cancel_order(api_key, symbol, client_id or None, order_id or None)
    return simformat.body(data={"orderId": order.order_id, "clientOid": order.client_order_id})


def _listed(market: SimMarket, api_key: str, request: web.Request, closed: bool
            ) -> web.Response:  # fmt: skip
    """history-orders (closed) or unfilled-orders (open), newest first, paged with
    ``idLessThan`` (older than that orderId) and ``limit`` (<= 100)."""
    query = request.query
    try:
        start = int(query.get("startTime", "0") or 0) * 1_000_000
        limit = min(HISTORY_LIMIT, max(1, int(query.get("limit", "100") or 100)))
    except ValueError:
        return simformat.error(codes.PARAMETER_ERROR, param="startTime/limit")
    wanted = query.get("symbol")
    rows = [
        o for o in reversed(market.orders(api_key, since_ns=start))
        if (o.status not in ("new", "partially_filled")) == closed
        and (wanted is None or _venue_symbol(market, o) == wanted)
    ]  # fmt: skip
    before = query.get("idLessThan")
    if before:
        ids = [o.order_id for o in rows]
        rows = rows[ids.index(before) + 1 :] if before in ids else []
    page = [simformat.order_info(o, _venue_symbol(market, o)) for o in rows[:limit]]
    return simformat.body(data=page)


async def _history(market: SimMarket, api_key: str, request: web.Request, body: str
                   ) -> web.StreamResponse:  # fmt: skip
    return _listed(market, api_key, request, closed=True)


async def _unfilled(market: SimMarket, api_key: str, request: web.Request, body: str
                    ) -> web.StreamResponse:  # fmt: skip
    return _listed(market, api_key, request, closed=False)


async def _assets(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    now = simformat.millis(time.time_ns())
    rows = [
        {"coin": asset, "available": simformat.plain(free), "frozen": "0",
         "locked": simformat.plain(locked), "limitAvailable": "0", "uTime": now}
        for asset, (free, locked) in sorted(market.balances(api_key).items())
    ]  # fmt: skip
    return simformat.body(data=rows)
