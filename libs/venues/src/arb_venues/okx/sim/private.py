"""The simulator's OKX private REST: signed requests checked like OKX checks them.

Auth failures answer HTTP 401 with OKX's codes (50103 no key, 50111 unknown key, 50105 wrong
passphrase, 50112 bad timestamp, 50102 expired, 50113 bad signature). Order failures answer
HTTP 200, ``code "1"`` and the reason in ``data[0].sCode`` (51008 insufficient balance,
51001 unknown instrument, 51016 duplicate clOrdId...), as OKX does.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side

from arb_venues.okx import errors as codes
from arb_venues.okx.signing import EXPIRY_S, parse_iso_timestamp, verify
from arb_venues.okx.sim import bodies as simformat
from arb_venues.simapi import SimMarket, SimOrderError, venue_now_ns

CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TIME_IN_FORCE = {"ioc": "IOC", "fok": "FOK", "limit": "GTC"}
ORDER_ERRORS = {
    "insufficient_balance": codes.INSUFFICIENT_BALANCE,
    "unknown_symbol": codes.INSTRUMENT_MISSING,
    "duplicate_client_order_id": codes.DUPLICATE_CLIENT_ID,
    "invalid_quantity": codes.LOT_SIZE,
    "invalid_price": ("51000", 200, "Parameter px error"),
    "rejected": (
        "50028",
        200,
        "Unable to place the order. Please contact the customer service for details.",
    ),
}


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def add_private_routes(app: web.Application, market: SimMarket) -> None:
    routes = (
        ("POST", "/api/v5/trade/order", _place),
        ("GET", "/api/v5/trade/order", _query),
        ("POST", "/api/v5/trade/cancel-order", _cancel),
        ("GET", "/api/v5/account/balance", _balance),
        ("GET", "/api/v5/trade/orders-history", _history),
        ("GET", "/api/v5/trade/orders-pending", _pending),
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
    api_key = headers.get("OK-ACCESS-KEY", "")
    given = headers.get("OK-ACCESS-SIGN", "")
    timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
    if not api_key:
        raise _Refused(
            simformat.body("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.', status=401)
        )
    secret = market.secret_for(api_key)
    if secret is None:
        raise _Refused(simformat.error(codes.INVALID_KEY))
    expected_passphrase = market.passphrase_for(api_key)
    if expected_passphrase is not None and passphrase != expected_passphrase:
        raise _Refused(simformat.error(codes.PASSPHRASE_INCORRECT))
    try:
        sent_at = parse_iso_timestamp(timestamp)
    except ValueError:
        raise _Refused(simformat.error(codes.INVALID_TIMESTAMP)) from None
    if abs(venue_now_ns(market) / 1e9 - sent_at) > EXPIRY_S:
        raise _Refused(simformat.error(codes.TIMESTAMP_EXPIRED))
    if not verify(secret, timestamp, request.method, request.raw_path, "", body, given):
        raise _Refused(simformat.error(codes.INVALID_SIGNATURE))
    return api_key


def _symbol(market: SimMarket, inst_id: str) -> str | None:
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == inst_id:
            return symbol
    return None


def _order_failed(code: tuple[str, int, str], client_id: str, **params: str) -> web.Response:
    sub_code, _, message = code
    row = {
        "clOrdId": client_id,
        "ordId": "",
        "sCode": sub_code,
        "sMsg": message.format(**params) if params else message,
        "tag": "",
        "ts": simformat.millis(time.time_ns()),
    }
    return simformat.body("1", "All operations failed", data=[row])


def _json(body: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise _Refused(simformat.body("50002", "JSON syntax error", status=400)) from None
    if not isinstance(value, dict):
        raise _Refused(simformat.body("50002", "JSON syntax error", status=400))
    return value


async def _place(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    order = _json(body)
    client_id = str(order.get("clOrdId", ""))
    for field in ("instId", "tdMode", "side", "ordType", "sz"):
        if not order.get(field):
            return simformat.body("50014", f"Parameter {field} can not be empty.", status=400)
    if client_id and not CLIENT_ID.match(client_id):
        return simformat.error(codes.PARAMETER_ERROR, param="clOrdId")
    symbol = _symbol(market, str(order["instId"]))
    if symbol is None:
        return _order_failed(codes.INSTRUMENT_MISSING, client_id)
    tif = TIME_IN_FORCE.get(str(order["ordType"]))
    side = str(order["side"])
    if tif is None or side not in ("buy", "sell") or order["tdMode"] != "cash":
        return simformat.error(codes.PARAMETER_ERROR, param="ordType/side/tdMode")
    try:
        price, size = Decimal(str(order.get("px", ""))), Decimal(str(order["sz"]))
    except InvalidOperation:
        return simformat.error(codes.PARAMETER_ERROR, param="px/sz")
    try:
        placed = market.place_order(api_key, symbol, Side(side), price, size, tif, client_id)
    except SimOrderError as exc:
        entry = ORDER_ERRORS.get(exc.kind, ORDER_ERRORS["rejected"])
        instrument = market.instruments[symbol]
        ccy = instrument.quote if side == "buy" else instrument.base
        return (
            _order_failed(entry, client_id, ccy=ccy)
            if "{ccy}" in entry[2]
            else _order_failed(entry, client_id)
        )
    if market.faults.take("lose_response", symbol) and request.transport is not None:
        request.transport.close()  # executed, but the answer never arrives
        return web.Response(status=500)
    row = {
        "clOrdId": placed.client_order_id,
        "ordId": placed.order_id,
        "sCode": "0",
        "sMsg": "Order placed",
        "tag": "",
        "ts": simformat.millis(placed.ts_created_ns),
    }
    return simformat.body(data=[row])


async def _query(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    inst_id = request.query.get("instId", "")
    symbol = _symbol(market, inst_id)
    if symbol is None:
        return simformat.body(codes.INSTRUMENT_MISSING[0], codes.INSTRUMENT_MISSING[2], data=[])
    order = market.get_order(
        api_key, symbol, request.query.get("clOrdId"), request.query.get("ordId")
    )
    if order is None:
        return simformat.body(codes.ORDER_MISSING[0], codes.ORDER_MISSING[2], data=[])
    return simformat.body(data=[simformat.order_detail(order, inst_id)])


async def _cancel(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    fields = _json(body)
    client_id = str(fields.get("clOrdId", ""))
    symbol = _symbol(market, str(fields.get("instId", "")))
    if symbol is None:
        return _order_failed(codes.INSTRUMENT_MISSING, client_id)
    order = market.get_order(api_key, symbol, client_id or None, fields.get("ordId"))
    if order is None or order.status not in ("new", "partially_filled"):
        return _order_failed(codes.CANCEL_FAILED, client_id)
    market.cancel_order(api_key, symbol, client_id or None, fields.get("ordId"))
    row = {
        "clOrdId": order.client_order_id,
        "ordId": order.order_id,
        "sCode": "0",
        "sMsg": "",
        "ts": simformat.millis(time.time_ns()),
    }
    return simformat.body(data=[row])


def _listed(market: SimMarket, api_key: str, request: web.Request, closed: bool
            ) -> web.Response:  # fmt: skip
    """orders-history (closed orders) or orders-pending (open ones), newest first, paged
    with ``after`` (older than that ordId) and ``limit`` (<= 100)."""
    query = request.query
    if query.get("instType") != "SPOT":
        return simformat.error(codes.PARAMETER_ERROR, param="instType")
    try:
        begin = int(query.get("begin", "0") or 0) * 1_000_000
        limit = min(100, max(1, int(query.get("limit", "100") or 100)))
    except ValueError:
        return simformat.error(codes.PARAMETER_ERROR, param="begin/limit")
    inst_ids = {s: i.venue_symbol for s, i in market.instruments.items()}
    wanted = query.get("instId")
    rows = [
        o for o in reversed(market.orders(api_key, since_ns=begin))
        if (o.status not in ("new", "partially_filled")) == closed
        and (wanted is None or inst_ids[o.symbol] == wanted)
    ]  # fmt: skip
    after = query.get("after")
    if after:
        ids = [o.order_id for o in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else []
    page = [simformat.order_detail(o, inst_ids[o.symbol]) for o in rows[:limit]]
    return simformat.body(data=page)


async def _history(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    return _listed(market, api_key, request, closed=True)


async def _pending(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    return _listed(market, api_key, request, closed=False)


async def _balance(
    market: SimMarket, api_key: str, request: web.Request, body: str
) -> web.StreamResponse:
    now = simformat.millis(time.time_ns())
    details = [
        {
            "ccy": asset,
            "availBal": simformat.number(free),
            "frozenBal": simformat.number(locked),
            "cashBal": simformat.number(free + locked),
            "eq": simformat.number(free + locked),
            "uTime": now,
        }
        for asset, (free, locked) in sorted(market.balances(api_key).items())
    ]
    return simformat.body(data=[{"uTime": now, "totalEq": "", "details": details}])
