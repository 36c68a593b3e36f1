"""The simulator's KuCoin private REST: signed requests checked the way KuCoin checks them.

Every request carries ``KC-API-KEY``, ``KC-API-SIGN``, ``KC-API-TIMESTAMP``,
``KC-API-PASSPHRASE`` and ``KC-API-KEY-VERSION``; the signature is verified over timestamp +
method + path (+ ``?query``) + body, the passphrase as HMAC-SHA256 of the account's passphrase
by its secret (versions 2 and 3). Refusals: 400001 (a header missing), 400002 (timestamp more
than 5 s off), 400003 (unknown key), 400004 (passphrase), 400005 (signature), 400009 (key
version), 200004 (balance insufficient), 400100 (parameters, and
``order_not_exist_or_not_allow_to_cancel``), 900001 (symbol). Fault "lose_response": the
order is executed, then the connection is closed without an answer.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.kucoin import errors as codes
from arb_venues.kucoin.signing import EXPIRY_S, KEY_VERSIONS, verify, verify_passphrase
from arb_venues.kucoin.sim import bodies
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

HEADERS = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")
CLIENT_OID_MAX = 40
ORDER_ERRORS = {
    "insufficient_balance": codes.BALANCE_INSUFFICIENT,
    "unknown_symbol": codes.SYMBOL_INVALID,
    "duplicate_client_order_id": codes.DUPLICATE_CLIENT_OID,
    "invalid_quantity": ("400100", "Size must be a multiple of the base increment."),
    "invalid_price": ("400100", "Price must be a multiple of the price increment."),
    "rejected": ("400100", "order rejected"),
}


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def add_private_routes(app: web.Application, market: SimMarket) -> None:
    routes = (
        ("POST", "/api/v1/orders", _place),
        ("GET", "/api/v1/orders", _list),
        ("GET", "/api/v1/order/client-order/{client_oid}", _client_order),
        ("DELETE", "/api/v1/order/client-order/{client_oid}", _cancel),
        ("GET", "/api/v1/accounts", _accounts),
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
    if any(not headers.get(name) for name in HEADERS):
        raise _Refused(bodies.error(codes.HEADER_MISSING, status=401))
    if headers.get("KC-API-KEY-VERSION", "1") not in KEY_VERSIONS:
        raise _Refused(bodies.error(codes.VERSION_INVALID, status=401))
    api_key = headers["KC-API-KEY"]
    secret = market.secret_for(api_key)
    passphrase = market.passphrase_for(api_key)
    if secret is None or passphrase is None:
        raise _Refused(bodies.error(codes.KEY_INVALID, status=401))
    timestamp = headers["KC-API-TIMESTAMP"]
    try:
        sent_at = int(timestamp) / 1000
    except ValueError:
        raise _Refused(bodies.error(codes.TIMESTAMP_INVALID, status=401)) from None
    if abs(venue_now_ns(market) / 1e9 - sent_at) > EXPIRY_S:
        raise _Refused(bodies.error(codes.TIMESTAMP_INVALID, status=401))
    query = request.rel_url.raw_query_string
    if not verify(secret, timestamp, request.method, request.path, query, body,
                  headers["KC-API-SIGN"]):  # fmt: skip
        raise _Refused(bodies.error(codes.SIGNATURE_INVALID, status=401))
    if not verify_passphrase(secret, passphrase, headers["KC-API-PASSPHRASE"]):
        raise _Refused(bodies.error(codes.PASSPHRASE_INVALID, status=401))
    return api_key


def _symbol(market: SimMarket, venue_symbol: str) -> str | None:
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == venue_symbol:
            return symbol
    return None


def _row(market: SimMarket, order: SimOrder) -> dict[str, object]:
    instrument = market.instruments[order.symbol]
    return bodies.order_row(order, instrument.venue_symbol, instrument.quote)


def _by_client_oid(market: SimMarket, api_key: str, client_oid: str) -> SimOrder | None:
    found = [o for o in market.orders(api_key) if o.client_order_id == client_oid]
    return found[-1] if found else None


async def _place(market: SimMarket, api_key: str, request: web.Request, body: str
                 ) -> web.StreamResponse:  # fmt: skip
    try:
        order = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return bodies.error(codes.PARAMETER_ERROR)
    if not isinstance(order, dict):
        return bodies.error(codes.PARAMETER_ERROR)
    client_oid = str(order.get("clientOid", ""))
    if not client_oid or len(client_oid) > CLIENT_OID_MAX:
        return bodies.error(("400100", "clientOid: length must be 1 to 40"))
    if _by_client_oid(market, api_key, client_oid) is not None:
        return bodies.error(codes.DUPLICATE_CLIENT_OID)
    symbol = _symbol(market, str(order.get("symbol", "")))
    if symbol is None:
        return bodies.error(codes.SYMBOL_INVALID)
    side = order.get("side")
    tif = str(order.get("timeInForce", "GTC"))
    if side not in ("buy", "sell") or order.get("type", "limit") != "limit" or tif not in (
        "GTC", "IOC", "FOK"
    ):  # fmt: skip
        return bodies.error(codes.PARAMETER_ERROR)
    try:
        price, size = Decimal(str(order["price"])), Decimal(str(order["size"]))
    except (KeyError, InvalidOperation):
        return bodies.error(codes.PARAMETER_ERROR)
    try:
        placed = market.place_order(api_key, symbol, Side(side), price, size, tif, client_oid)
    except SimOrderError as exc:
        return bodies.error(ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"]))
    if market.faults.take("lose_response", symbol) and request.transport is not None:
        request.transport.close()  # executed, but the answer never arrives
        return web.Response(status=500)
    return bodies.ok({"orderId": placed.order_id})


async def _client_order(market: SimMarket, api_key: str, request: web.Request, body: str
                        ) -> web.StreamResponse:  # fmt: skip
    order = _by_client_oid(market, api_key, request.match_info["client_oid"])
    return bodies.ok(_row(market, order) if order is not None else None)


async def _cancel(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    client_oid = request.match_info["client_oid"]
    order = _by_client_oid(market, api_key, client_oid)
    if order is None or order.status not in ("new", "partially_filled"):
        return bodies.error(codes.ORDER_NOT_EXIST)
    market.cancel_order(api_key, order.symbol, client_order_id=client_oid)
    return bodies.ok({"cancelledOrderId": order.order_id, "clientOid": client_oid})


async def _accounts(market: SimMarket, api_key: str, request: web.Request, body: str
                    ) -> web.StreamResponse:  # fmt: skip
    wanted = request.query.get("type")
    rows = []
    for index, (asset, (free, locked)) in enumerate(sorted(market.balances(api_key).items())):
        if wanted not in (None, "trade"):
            continue
        rows.append({"id": f"{index + 1:024x}", "currency": asset, "type": "trade",
                     "balance": bodies.text(free + locked), "available": bodies.text(free),
                     "holds": bodies.text(locked)})  # fmt: skip
    return bodies.ok(rows)


async def _list(market: SimMarket, api_key: str, request: web.Request, body: str
                ) -> web.StreamResponse:  # fmt: skip
    """GET /api/v1/orders: the account's orders of one status (active or done, done by
    default) created in [startAt, endAt] (at most 7 days), newest first, paged."""
    query = request.query
    status = query.get("status", "done")
    symbol = _symbol(market, query["symbol"]) if "symbol" in query else None
    if "symbol" in query and symbol is None:
        return bodies.error(codes.SYMBOL_INVALID)
    try:
        end = int(query.get("endAt") or bodies.now_ms())
        start = int(query.get("startAt") or end - 7 * 24 * 3_600_000)
        page = max(1, int(query.get("currentPage", "1")))
        size = min(500, max(10, int(query.get("pageSize", "50"))))
    except ValueError:
        return bodies.error(codes.PARAMETER_ERROR)
    if end - start > 7 * 24 * 3_600_000 or end < start:
        return bodies.error(("400100", "The query time range cannot exceed 7 days"))
    rows = [_row(market, o) for o in market.orders(api_key, symbol)]
    rows = [r for r in rows if start <= int(str(r["createdAt"])) <= end
            and bool(r["isActive"]) == (status == "active")]  # fmt: skip
    rows.sort(key=lambda r: int(str(r["createdAt"])), reverse=True)
    total = len(rows)
    pages = (total + size - 1) // size
    items = rows[(page - 1) * size : page * size]
    return bodies.ok({"currentPage": page, "pageSize": size, "totalNum": total,
                      "totalPage": pages, "items": items})  # fmt: skip
