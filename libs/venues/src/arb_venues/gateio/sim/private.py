"""The simulator's Gate private REST: signed requests checked the way Gate checks them.

Every request carries ``KEY``, ``Timestamp`` (Unix seconds, at most 60 s off) and ``SIGN``
(HMAC-SHA512 over method, path, raw query, SHA-512 of the body and the Timestamp:
signing.py), verified over the path and query exactly as they arrived. Refusals are Gate's
``{"label", "message"}`` bodies with their 4xx status: ``INVALID_KEY``,
``INVALID_SIGNATURE``, ``REQUEST_EXPIRED``, ``BALANCE_NOT_ENOUGH``, ``ORDER_NOT_FOUND``,
``ORDER_CLOSED``... An order's ``text`` must be ``t-`` + at most 28 of [0-9A-Za-z_.-]; the
core's ledger holds the id without the prefix. Fault "lose_response": the order is executed,
then the connection is closed without an answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.gateio.signing import EXPIRY_S, KEY_HEADER, SIGN_HEADER, TIMESTAMP_HEADER, verify
from arb_venues.gateio.sim import bodies
from arb_venues.gateio.trading import client_id_of
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

TEXT = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")
TIME_IN_FORCE = {"ioc": "IOC", "gtc": "GTC", "fok": "FOK"}
ORDER_ERRORS = {
    "insufficient_balance": bodies.BALANCE,
    "unknown_symbol": bodies.INVALID_PAIR,
    "duplicate_client_order_id": bodies.EXISTS,
    "invalid_quantity": bodies.PRECISION,
    "invalid_price": bodies.PRECISION,
    "rejected": bodies.INVALID_PARAM,
}
Handler = Callable[[SimMarket, str, web.Request, str], Awaitable[web.StreamResponse]]


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def add_private_routes(app: web.Application, market: SimMarket) -> None:
    routes: tuple[tuple[str, str, Handler], ...] = (
        ("POST", "/api/v4/spot/orders", _place),
        ("GET", "/api/v4/spot/orders", _list),
        ("GET", "/api/v4/spot/orders/{order_id}", _get),
        ("DELETE", "/api/v4/spot/orders/{order_id}", _cancel),
        ("GET", "/api/v4/spot/accounts", _accounts),
    )
    for method, path, handler in routes:
        app.router.add_route(method, path, _signed(market, handler))


def _signed(market: SimMarket, handler: Handler) -> Callable[[web.Request], Awaitable[
        web.StreamResponse]]:  # fmt: skip
    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        try:
            api_key = _authenticate(market, request, body)
            return await handler(market, api_key, request, body)
        except _Refused as refused:
            return refused.response

    return endpoint


def _authenticate(market: SimMarket, request: web.Request, body: str) -> str:
    headers = request.headers
    if any(name not in headers for name in (KEY_HEADER, TIMESTAMP_HEADER, SIGN_HEADER)):
        raise _Refused(bodies.error(bodies.MISSING_HEADER))
    api_key = headers[KEY_HEADER]
    secret = market.secret_for(api_key)
    if secret is None:
        raise _Refused(bodies.error(bodies.INVALID_KEY))
    timestamp = headers[TIMESTAMP_HEADER]
    try:
        sent_at = float(timestamp)
    except ValueError:
        raise _Refused(bodies.error(bodies.REQUEST_EXPIRED)) from None
    if abs(venue_now_ns(market) / 1e9 - sent_at) > EXPIRY_S:
        raise _Refused(bodies.error(bodies.REQUEST_EXPIRED))
    path, _, query = request.raw_path.partition("?")
    if not verify(secret, request.method, path, query, body, timestamp, headers[SIGN_HEADER]):
        raise _Refused(bodies.error(bodies.INVALID_SIGNATURE))
    return api_key


def _pair(market: SimMarket, request: web.Request, value: str | None = None) -> tuple[str, str]:
    """(normalised symbol, Gate pair) of the request's ``currency_pair``."""
    pair = value if value is not None else request.query.get("currency_pair", "")
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == pair:
            return symbol, pair
    raise _Refused(bodies.error(bodies.INVALID_PAIR))


def _body(market: SimMarket, order: SimOrder) -> dict[str, Any]:
    return bodies.order_body(order, market.instruments[order.symbol].venue_symbol,
                             _number(order))  # fmt: skip


def _number(order: SimOrder) -> int:
    digits = "".join(c for c in order.order_id if c.isdigit())
    return int(digits) if digits else abs(hash(order.order_id)) % 10**12


def _find(market: SimMarket, api_key: str, symbol: str, order_id: str) -> SimOrder | None:
    if order_id.startswith("t-"):
        return market.get_order(api_key, symbol, client_order_id=client_id_of(order_id))
    for order in market.orders(api_key, symbol):
        if str(_number(order)) == order_id:
            return order
    return None


async def _place(market: SimMarket, api_key: str, request: web.Request, body: str
                 ) -> web.StreamResponse:  # fmt: skip
    try:
        order = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return bodies.error(bodies.INVALID_BODY)
    if not isinstance(order, dict):
        return bodies.error(bodies.INVALID_BODY)
    symbol, _ = _pair(market, request, str(order.get("currency_pair", "")))
    text = str(order.get("text", ""))
    if text and not TEXT.match(text):
        return bodies.error(bodies.INVALID_TEXT)
    side = order.get("side")
    tif = TIME_IN_FORCE.get(str(order.get("time_in_force", "gtc")))
    if side not in ("buy", "sell") or tif is None or order.get("type", "limit") != "limit":
        return bodies.error(bodies.INVALID_PARAM)
    if order.get("account", "spot") != "spot":
        return bodies.error(bodies.INVALID_PARAM)
    try:
        price, size = Decimal(str(order.get("price", ""))), Decimal(str(order.get("amount", "")))
    except InvalidOperation:
        return bodies.error(bodies.INVALID_PARAM)
    try:
        placed = market.place_order(api_key, symbol, Side(side), price, size, tif,
                                    client_id_of(text))  # fmt: skip
    except SimOrderError as exc:
        return bodies.error(ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"]))
    if market.faults.take("lose_response", symbol) and request.transport is not None:
        request.transport.close()  # executed, but the answer never arrives
        return web.Response(status=500)
    return bodies.json_response(_body(market, placed), 201)


async def _get(market: SimMarket, api_key: str, request: web.Request, body: str
               ) -> web.StreamResponse:  # fmt: skip
    symbol, _ = _pair(market, request)
    order = _find(market, api_key, symbol, request.match_info["order_id"])
    if order is None:
        return bodies.error(bodies.NOT_FOUND)
    return bodies.json_response(_body(market, order))


async def _cancel(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    symbol, _ = _pair(market, request)
    order = _find(market, api_key, symbol, request.match_info["order_id"])
    if order is None:
        return bodies.error(bodies.NOT_FOUND)
    if order.status not in ("new", "partially_filled"):
        return bodies.error(bodies.CLOSED)
    cancelled = market.cancel_order(api_key, symbol, order_id=order.order_id)
    return bodies.json_response(_body(market, cancelled or order))


async def _list(market: SimMarket, api_key: str, request: web.Request, body: str
                ) -> web.StreamResponse:  # fmt: skip
    """GET /api/v4/spot/orders: one pair's open or finished orders, newest first, ``page`` by
    ``page`` of ``limit`` (<= 100); finished ones within ``from``..``to`` (seconds)."""
    symbol, _ = _pair(market, request)
    query = request.query
    status = query.get("status", "")
    if status not in ("open", "finished"):
        return bodies.error(bodies.INVALID_PARAM)
    try:
        page = max(1, int(query.get("page", "1")))
        limit = min(100, max(1, int(query.get("limit", "100"))))
        start = int(query["from"]) if "from" in query else None
        end = int(query["to"]) if "to" in query else None
    except ValueError:
        return bodies.error(bodies.INVALID_PARAM)
    live = ("new", "partially_filled")
    orders = [o for o in market.orders(api_key, symbol)
              if (o.status in live) == (status == "open")]  # fmt: skip
    if status == "finished":
        orders = [o for o in orders if (start is None or o.ts_created_ns // 10**9 >= start)
                  and (end is None or o.ts_created_ns // 10**9 <= end)]  # fmt: skip
    orders.sort(key=lambda o: o.ts_created_ns, reverse=True)
    chosen = orders[(page - 1) * limit : page * limit]
    return bodies.json_response([_body(market, o) for o in chosen])


async def _accounts(market: SimMarket, api_key: str, request: web.Request, body: str
                    ) -> web.StreamResponse:  # fmt: skip
    rows = [
        {
            "currency": asset,
            "available": bodies.text(free),
            "locked": bodies.text(locked),
            "update_id": 1,
        }
        for asset, (free, locked) in sorted(market.balances(api_key).items())
    ]
    return bodies.json_response(rows)
