"""The simulator's Coinbase private REST: orders and accounts behind a verified ES256 JWT.

Every request needs ``Authorization: Bearer <jwt>``; the JWT must verify against the public
key of the account's EC key (SimMarket.secret_for(key name) holds the PEM private key) and
carry uri "<METHOD> <Host header><path>". Otherwise: 401 "Unauthorized", as Coinbase does.
An order the venue refuses is HTTP 200 {"success": false, "error_response": {...}}.
A repeated client_order_id does not create a second order: the first one is answered again
(our reading of the create-order page: client_order_id is the order's idempotency key).
Fault "lose_response": the order is executed, then the connection closes with no answer.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arb_structs import Side, VenueSymbol

from arb_venues.coinbase.schemas import CancelOrdersRequest, CreateOrderRequest, rfc3339_ns
from arb_venues.coinbase.signing import rest_uri, unverified_key_name, verify
from arb_venues.coinbase.sim.bodies import api_error, plain, rfc3339, unauthorized
from arb_venues.errors import InvalidSignature
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns

PREFIX = "/api/v3/brokerage"
_encode = msgspec.json.encode
_create_decoder = msgspec.json.Decoder(CreateOrderRequest)
_cancel_decoder = msgspec.json.Decoder(CancelOrdersRequest)
_STATUS = {
    "new": "OPEN", "partially_filled": "OPEN", "filled": "FILLED", "canceled": "CANCELLED",
    "rejected": "FAILED", "expired": "EXPIRED",
}  # fmt: skip
# SimOrderError.kind -> (error, message) of Coinbase's error_response
_REFUSALS = {
    "insufficient_balance": ("INSUFFICIENT_FUND", "Insufficient balance in source account"),
    "unknown_symbol": ("INVALID_PRODUCT_ID", "Invalid product_id"),
    "invalid_quantity": ("INVALID_SIZE_PRECISION", "Invalid order size"),
    "invalid_price": ("INVALID_PRICE_PRECISION", "Invalid limit price"),
    "rejected": ("UNKNOWN_FAILURE_REASON", "order rejected"),
}
_PREVIEW = {"INSUFFICIENT_FUND": "PREVIEW_INSUFFICIENT_FUND",
            "INVALID_PRODUCT_ID": "PREVIEW_INVALID_PRODUCT_ID"}  # fmt: skip


class PrivateApi:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.orders: dict[str, tuple[str, str]] = {}  # order id -> (api key, symbol)
        self.config_text: dict[str, tuple[str, str]] = {}  # order id -> (base_size, limit_price)
        self.by_key: dict[str, list[str]] = {}  # api key -> order ids, oldest first
        self.products = {i.venue_symbol: s for s, i in market.instruments.items()}

    def authenticate(self, request: web.Request) -> str | None:
        return authenticated_key(self.market, request)

    # -- order JSON ---------------------------------------------------------------------------

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        product = self.market.instruments[order.symbol].venue_symbol
        filled = order.filled
        value = order.quote_filled
        size, price = self.config_text.get(order.order_id, (plain(order.size), plain(order.price)))
        return {
            "order_id": order.order_id, "product_id": product, "user_id": "",
            "order_configuration": {"sor_limit_ioc": {"base_size": size, "limit_price": price}},
            "side": "BUY" if order.side is Side.BUY else "SELL",
            "client_order_id": order.client_order_id,
            "status": _STATUS.get(order.status, "UNKNOWN_ORDER_STATUS"),
            "time_in_force": "IMMEDIATE_OR_CANCEL",
            "created_time": rfc3339(order.ts_created_ns or None),
            "completion_percentage": plain(filled / order.size * 100 if order.size else filled),
            "filled_size": plain(filled), "average_filled_price": plain(order.avg_price),
            "fee": "", "number_of_fills": str(len(order.fills)), "filled_value": plain(value),
            "pending_cancel": False, "size_in_quote": False, "total_fees": plain(order.fee),
            "size_inclusive_of_fees": False,
            "total_value_after_fees": plain(value + order.fee if order.side is Side.BUY
                                            else value - order.fee),
            "trigger_status": "INVALID_ORDER_TYPE", "order_type": "LIMIT",
            "reject_reason": "", "settled": order.status != "new", "product_type": "SPOT",
            "reject_message": "rejected" if order.status == "rejected" else "",
            "cancel_message": "", "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": "0", "is_liquidation": False,
            "last_fill_time": rfc3339(order.ts_updated_ns) if order.fills else None,
        }  # fmt: skip

    def lookup(self, api_key: str, order_id: str) -> SimOrder | None:
        owner = self.orders.get(order_id)
        if owner is None or owner[0] != api_key:
            return None
        return self.market.get_order(api_key, owner[1], order_id=order_id)

    def remember(self, api_key: str, order: SimOrder, size: str, price: str) -> None:
        """Keep the order's owner and its size/price as sent (Coinbase echoes the text)."""
        if order.order_id not in self.orders:
            self.config_text[order.order_id] = (size, price)
            self.orders[order.order_id] = (api_key, order.symbol)
            self.by_key.setdefault(api_key, []).append(order.order_id)

    # -- handlers -----------------------------------------------------------------------------

    async def create_order(self, request: web.Request) -> web.StreamResponse:
        api_key = self.authenticate(request)
        if api_key is None:
            return unauthorized()
        try:
            body = _create_decoder.decode(await request.read())
        except msgspec.DecodeError as exc:
            return api_error(400, "INVALID_ARGUMENT", f"invalid request body: {exc}")
        config = body.order_configuration.sor_limit_ioc
        if config is None:
            return _refused("UNSUPPORTED_ORDER_CONFIGURATION", "only sor_limit_ioc is simulated")
        if body.side not in ("BUY", "SELL"):
            return _refused("INVALID_SIDE", f"invalid side {body.side!r}")
        symbol = self.products.get(VenueSymbol(body.product_id))
        if symbol is None:
            return _refused("INVALID_PRODUCT_ID", f"Invalid product_id {body.product_id!r}")
        try:
            price, size = Decimal(config.limit_price), Decimal(config.base_size)
        except InvalidOperation:
            return _refused("INVALID_REQUEST", "base_size and limit_price must be decimals")
        existing = self.market.get_order(api_key, symbol, client_order_id=body.client_order_id)
        if existing is not None:
            order = existing
        else:
            side = Side.BUY if body.side == "BUY" else Side.SELL
            try:
                order = self.market.place_order(api_key, symbol, side, price, size, "IOC",
                                                body.client_order_id)  # fmt: skip
            except SimOrderError as exc:
                if exc.kind == "duplicate_client_order_id":
                    found = self.market.get_order(api_key, symbol,
                                                  client_order_id=body.client_order_id)  # fmt: skip
                    if found is None:
                        return _refused("UNKNOWN_FAILURE_REASON", str(exc))
                    order = found
                else:
                    error, message = _REFUSALS.get(exc.kind, _REFUSALS["rejected"])
                    return _refused(error, f"{message}: {exc}")
        self.remember(api_key, order, config.base_size, config.limit_price)
        if self.market.faults.take("lose_response", symbol):
            if request.transport is not None:
                request.transport.close()  # executed, never answered
            raise ConnectionResetError("coinbase sim: response lost on purpose")
        return _json({
            "success": True,
            "success_response": {"order_id": order.order_id, "product_id": body.product_id,
                                 "side": body.side, "client_order_id": order.client_order_id},
            "order_configuration": {"sor_limit_ioc": {"base_size": config.base_size,
                                                      "limit_price": config.limit_price}},
        })  # fmt: skip

    async def get_order(self, request: web.Request) -> web.Response:
        api_key = self.authenticate(request)
        if api_key is None:
            return unauthorized()
        order = self.lookup(api_key, request.match_info["order_id"])
        if order is None:
            return api_error(404, "NOT_FOUND", "order with this orderID was not found")
        return _json({"order": self.order_json(order)})

    async def list_orders(self, request: web.Request) -> web.Response:
        api_key = self.authenticate(request)
        if api_key is None:
            return unauthorized()
        query = request.query
        products = set(query.getall("product_ids", []))
        wanted_ids = set(query.getall("order_ids", []))
        try:
            limit = max(1, min(1000, int(query.get("limit", "100"))))
            start = int(query.get("cursor", "0") or 0)
        except ValueError:
            return api_error(400, "INVALID_ARGUMENT", "limit and cursor must be integers")
        since = rfc3339_ns(query["start_date"]) if query.get("start_date") else 0
        if query.get("start_date") and not since:
            return api_error(400, "INVALID_ARGUMENT", "start_date must be RFC 3339")
        found = []
        for order_id in reversed(self.by_key.get(api_key, [])):  # newest first
            order = self.lookup(api_key, order_id)
            if order is None or (wanted_ids and order_id not in wanted_ids):
                continue
            if products and self.market.instruments[order.symbol].venue_symbol not in products:
                continue
            if order.ts_created_ns < since:
                continue
            found.append(order)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return _json({"orders": [self.order_json(o) for o in page], "sequence": "0",
                      "has_next": more, "cursor": str(start + limit) if more else ""})  # fmt: skip

    async def cancel_orders(self, request: web.Request) -> web.Response:
        api_key = self.authenticate(request)
        if api_key is None:
            return unauthorized()
        try:
            body = _cancel_decoder.decode(await request.read())
        except msgspec.DecodeError as exc:
            return api_error(400, "INVALID_ARGUMENT", f"invalid request body: {exc}")
        results = []
        for order_id in body.order_ids:
            order = self.lookup(api_key, order_id)
            if order is None:
                results.append(_cancel(order_id, False, "UNKNOWN_CANCEL_ORDER"))
            elif order.status in ("new", "partially_filled"):
                self.market.cancel_order(api_key, order.symbol, order_id=order_id)
                results.append(_cancel(order_id, True, "UNKNOWN_CANCEL_FAILURE_REASON"))
            elif order.status == "filled":
                results.append(_cancel(order_id, False, "ORDER_IS_FULLY_FILLED"))
            else:
                results.append(_cancel(order_id, False, "DUPLICATE_CANCEL_REQUEST"))
        return _json({"results": results})

    async def accounts(self, request: web.Request) -> web.Response:
        api_key = self.authenticate(request)
        if api_key is None:
            return unauthorized()
        fiat = {"USD", "EUR", "GBP"}
        accounts = []
        for asset, (free, locked) in sorted(self.market.balances(api_key).items()):
            accounts.append({
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"coinbase-sim:{api_key}:{asset}")),
                "name": f"{asset} Wallet", "currency": asset,
                "available_balance": {"value": plain(free), "currency": asset},
                "default": False, "active": True, "created_at": "2024-01-01T00:00:00Z",
                "updated_at": rfc3339(), "deleted_at": None,
                "type": "FIAT" if asset in fiat else "CRYPTO", "ready": True,
                "hold": {"value": plain(locked), "currency": asset}, "retail_portfolio_id": "",
            })  # fmt: skip
        return _json({"accounts": accounts, "has_next": False, "cursor": "",
                      "size": len(accounts)})  # fmt: skip


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(body=_encode(payload), content_type="application/json")


def _refused(error: str, message: str) -> web.Response:
    return _json({
        "success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
        "error_response": {"error": error, "message": message, "error_details": message,
                           "preview_failure_reason": _PREVIEW.get(error,
                                                                  "UNKNOWN_PREVIEW_FAILURE_REASON"),
                           "new_order_failure_reason": error},
    })  # fmt: skip


def _cancel(order_id: str, success: bool, reason: str) -> dict[str, Any]:
    return {"success": success, "failure_reason": reason, "order_id": order_id}


def authenticated_key(market: SimMarket, request: web.Request) -> str | None:
    """The API key name of the request's verified ``Authorization: Bearer`` JWT, else None."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    key_name = unverified_key_name(token)
    secret = market.secret_for(key_name) if key_name else None
    if key_name is None or secret is None:
        return None
    try:
        verify(
            token,
            secret,
            uri=rest_uri(request.method, request.host, request.path),
            now_s=venue_now_ns(market) / 1e9,
        )
    except InvalidSignature:
        return None
    return key_name


def add_routes(app: web.Application, market: SimMarket) -> None:
    api = PrivateApi(market)
    router = app.router
    router.add_post(f"{PREFIX}/orders", api.create_order)
    router.add_get(f"{PREFIX}/orders/historical/batch", api.list_orders)  # before {order_id}
    router.add_get(f"{PREFIX}/orders/historical/{{order_id}}", api.get_order)
    router.add_post(f"{PREFIX}/orders/batch_cancel", api.cancel_orders)
    router.add_get(f"{PREFIX}/accounts", api.accounts)
