"""The simulator's HTX private REST: signed requests checked the way HTX checks them.

Every request carries ``AccessKeyId``, ``SignatureMethod=HmacSHA256``, ``SignatureVersion=2``,
``Timestamp`` and ``Signature`` in its query; the signature is verified over the method, the
host the request came to, the path and the sorted query (signing.py). Refusals answer HTTP 200
with ``{"status": "error", "err-code", "err-msg"}`` as HTX does: ``api-signature-not-valid``
for a wrong key, signature or a Timestamp outside 5 minutes, ``order-accountbalance-error``,
``base-record-invalid`` (no such order), ``order-user-cancel-forbidden`` (an IOC is never
cancellable)... Fault "lose_response": the order is executed, then the connection is closed
without an answer.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.htx import errors as codes
from arb_venues.htx.signing import AUTH_PARAMS, EXPIRY_S, METHOD, VERSION, parse_timestamp, verify
from arb_venues.htx.sim import bodies
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TIME_IN_FORCE = {"ioc": "IOC", "limit": "GTC", "limit-fok": "FOK"}
ACCOUNT_BASE = 10_000_000  # account ids are numbers: the default account's is this + 1
ORDER_ERRORS = {
    "insufficient_balance": codes.INSUFFICIENT_BALANCE,
    "unknown_symbol": codes.SYMBOL_INVALID,
    "duplicate_client_order_id": codes.DUPLICATE_CLIENT_ID,
    "invalid_quantity": codes.AMOUNT_PRECISION,
    "invalid_price": codes.PRICE_PRECISION,
    "rejected": ("order-update-error", "order update error"),
}


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def account_id(api_key: str) -> int:
    """A stable numeric spot account id per API key."""
    return ACCOUNT_BASE + 1 + sum(api_key.encode()) % 1000


def add_private_routes(app: web.Application, market: SimMarket) -> None:
    routes = (
        ("GET", "/v1/account/accounts", _accounts),
        ("GET", "/v1/account/accounts/{account}/balance", _balance),
        ("POST", "/v1/order/orders/place", _place),
        ("GET", "/v1/order/orders/getClientOrder", _client_order),
        ("POST", "/v1/order/orders/submitCancelClientOrder", _cancel),
        ("GET", "/v1/order/orders", _search),
    )
    for method, path, handler in routes:
        app.router.add_route(method, path, _signed(market, handler))


def _signed(market: SimMarket, handler: Any) -> Any:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        try:
            api_key = _authenticate(market, request)
            response: web.StreamResponse = await handler(market, api_key, request, body)
        except _Refused as refused:
            return refused.response
        return response

    return endpoint


def _authenticate(market: SimMarket, request: web.Request) -> str:
    query = request.query
    if any(name not in query for name in (*AUTH_PARAMS, "Signature")):
        raise _Refused(bodies.error(codes.LOGIN_REQUIRED))
    if query["SignatureMethod"] != METHOD or query["SignatureVersion"] != VERSION:
        raise _Refused(bodies.error(codes.SIGNATURE_INVALID))
    api_key = query["AccessKeyId"]
    secret = market.secret_for(api_key)
    if secret is None:
        raise _Refused(bodies.error(codes.KEY_INVALID))
    try:
        sent_at = parse_timestamp(query["Timestamp"])
    except ValueError:
        raise _Refused(bodies.error(codes.TIMESTAMP_INVALID)) from None
    if abs(venue_now_ns(market) / 1e9 - sent_at) > EXPIRY_S:
        raise _Refused(bodies.error(codes.TIMESTAMP_INVALID))
    raw_query = request.rel_url.raw_query_string
    if not verify(secret, request.method, request.host, request.path, raw_query):
        raise _Refused(bodies.error(codes.SIGNATURE_INVALID))
    return api_key


def _symbol(market: SimMarket, venue_symbol: str) -> str | None:
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == venue_symbol:
            return symbol
    return None


def _json(body: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise _Refused(bodies.error(codes.ARGUMENT_INVALID)) from None
    if not isinstance(value, dict):
        raise _Refused(bodies.error(codes.ARGUMENT_INVALID))
    return value


def _row(market: SimMarket, api_key: str, order: SimOrder) -> dict[str, object]:
    return bodies.order_row(order, market.instruments[order.symbol].venue_symbol,
                            account_id(api_key))  # fmt: skip


async def _accounts(market: SimMarket, api_key: str, request: web.Request, body: str
                    ) -> web.StreamResponse:  # fmt: skip
    return bodies.ok([{"id": account_id(api_key), "type": "spot", "subtype": "",
                       "state": "working"}])  # fmt: skip


async def _balance(market: SimMarket, api_key: str, request: web.Request, body: str
                   ) -> web.StreamResponse:  # fmt: skip
    if request.match_info["account"] != str(account_id(api_key)):
        return bodies.error(("account-account-id-inexistent", "The account id doesn't exist"))
    rows = []
    for asset, (free, locked) in sorted(market.balances(api_key).items()):
        for kind, amount in (("trade", free), ("frozen", locked)):
            rows.append({"currency": asset.lower(), "type": kind, "balance": bodies.text(amount),
                         "debt": "invalid", "available": "invalid", "seq-num": "1"})  # fmt: skip
    data = {"id": account_id(api_key), "type": "spot", "state": "working", "list": rows}
    return bodies.ok(data)


async def _place(market: SimMarket, api_key: str, request: web.Request, body: str
                 ) -> web.StreamResponse:  # fmt: skip
    order = _json(body)
    for field in ("account-id", "symbol", "type", "amount"):
        if not order.get(field):
            return bodies.error(("validation-constraints-required",
                                 f"Field is missing: {field}."))  # fmt: skip
    if str(order["account-id"]) != str(account_id(api_key)):
        return bodies.error(("account-account-id-inexistent", "The account id doesn't exist"))
    client_id = str(order.get("client-order-id", ""))
    if client_id and not CLIENT_ID.match(client_id):
        return bodies.error(("invalid-client-order-id", "invalid client order id"))
    symbol = _symbol(market, str(order["symbol"]))
    if symbol is None:
        return bodies.error(codes.SYMBOL_INVALID)
    side, _, kind = str(order["type"]).partition("-")
    tif = TIME_IN_FORCE.get(kind)
    if tif is None or side not in ("buy", "sell"):
        return bodies.error(codes.TYPE_INVALID)
    try:
        price, size = Decimal(str(order.get("price", ""))), Decimal(str(order["amount"]))
    except InvalidOperation:
        return bodies.error(codes.ARGUMENT_INVALID)
    try:
        placed = market.place_order(api_key, symbol, Side(side), price, size, tif, client_id)
    except SimOrderError as exc:
        return bodies.error(ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"]))
    if market.faults.take("lose_response", symbol) and request.transport is not None:
        request.transport.close()  # executed, but the answer never arrives
        return web.Response(status=500)
    return bodies.ok(str(bodies.order_number(placed)))


def _by_client_id(market: SimMarket, api_key: str, client_id: str) -> SimOrder | None:
    found = [o for o in market.orders(api_key) if o.client_order_id == client_id]
    return found[-1] if found else None  # "the latest order" of a reused id


async def _client_order(market: SimMarket, api_key: str, request: web.Request, body: str
                        ) -> web.StreamResponse:  # fmt: skip
    order = _by_client_id(market, api_key, request.query.get("clientOrderId", ""))
    if order is None:
        return bodies.error(codes.RECORD_INVALID)
    return bodies.ok(_row(market, api_key, order))


async def _cancel(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    client_id = str(_json(body).get("client-order-id", ""))
    order = _by_client_id(market, api_key, client_id)
    if order is None:
        return bodies.error(codes.RECORD_INVALID)
    if order.time_in_force in ("IOC", "FOK"):
        return bodies.error(codes.CANCEL_FORBIDDEN)
    if order.status not in ("new", "partially_filled"):
        return bodies.error(codes.ORDER_STATE)
    market.cancel_order(api_key, order.symbol, client_order_id=client_id)
    return bodies.ok(7)  # the cancellation's state code: 7 = canceled


async def _search(market: SimMarket, api_key: str, request: web.Request, body: str
                  ) -> web.StreamResponse:  # fmt: skip
    """GET /v1/order/orders: one symbol's orders created in [start-time, end-time] (at most
    48 hours), in the given states, newest first; ``from`` + ``direct=next`` pages to older
    ones, at most ``size`` (100) an answer."""
    query = request.query
    symbol = _symbol(market, query.get("symbol", ""))
    if symbol is None:
        return bodies.error(codes.SYMBOL_INVALID)
    states = set(query.get("states", "").split(","))
    try:
        end = int(query.get("end-time") or bodies.now_ms())
        start = int(query.get("start-time") or end - 48 * 3_600_000)
        size = min(100, max(1, int(query.get("size", "100"))))
        after = int(query["from"]) if "from" in query else None
    except ValueError:
        return bodies.error(codes.ARGUMENT_INVALID)
    if end - start > 48 * 3_600_000 or end < start:
        return bodies.error(("invalid-interval", "Query window is zero, negative or greater "
                             "than limitation"))  # fmt: skip
    rows = [_row(market, api_key, o) for o in market.orders(api_key, symbol)]
    rows = [r for r in rows if start <= int(str(r["created-at"])) <= end and r["state"] in states]
    rows.sort(key=lambda r: int(str(r["id"])), reverse=True)
    if after is not None and query.get("direct", "next") == "next":
        rows = [r for r in rows if int(str(r["id"])) < after]
    return bodies.ok(rows[:size])
