"""Coinbase Advanced Trade private REST (live mode): IOC limit orders, queries, balances.

https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/orders/create-order
- POST /api/v3/brokerage/orders {client_order_id, product_id, side BUY|SELL,
  order_configuration: {"sor_limit_ioc": {"base_size", "limit_price"}}} -> {"success": true,
  "success_response": {"order_id", ...}} or {"success": false, "error_response": {...}}
  (HTTP 200 either way);
- GET /api/v3/brokerage/orders/historical/{order_id} -> {"order": {...}};
- GET /api/v3/brokerage/orders/historical/batch?product_ids=..&limit=.. (cursor paging);
  there is no client_order_id filter, so an order we only know by client id is found by
  listing the product's recent orders and matching client_order_id. ``start_date`` (RFC 3339)
  bounds the listing by creation time; each order carries ``filled_value`` (the exact quote
  amount), ``total_fees`` and ``created_time``
  (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/orders/list-orders);
- POST /api/v3/brokerage/orders/batch_cancel {"order_ids": [...]};
- GET /api/v3/brokerage/accounts?limit=250 (cursor paging).
Private endpoints: 30 requests/s per user (REST rate-limits page).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import ClassVar, TypeVar
from urllib.parse import urlencode, urlsplit

import msgspec
from arb_structs import (
    Balance,
    BalanceSnapshot,
    ClientOrderId,
    Instrument,
    OrderIntent,
    OrderReport,
    Side,
    VenueOrderId,
    VenueSymbol,
)
from arb_structs import OrderStatus as Status

from arb_venues.base import Credentials, SignRequest, TradingClient
from arb_venues.coinbase import schemas
from arb_venues.coinbase.errors import order_failure
from arb_venues.coinbase.schemas import rfc3339, rfc3339_ns
from arb_venues.coinbase.signing import LIFETIME_S, sign
from arb_venues.common.clientids import uuid_client_order_id
from arb_venues.common.rest import Response, RestClient
from arb_venues.errors import MalformedFrame, UnknownOrder, UnknownSymbol, VenueError

VENUE = "coinbase"
ORDERS_PATH = "/api/v3/brokerage/orders"
ORDER_PATH = "/api/v3/brokerage/orders/historical/{order_id}"
LIST_ORDERS_PATH = "/api/v3/brokerage/orders/historical/batch"
CANCEL_PATH = "/api/v3/brokerage/orders/batch_cancel"
ACCOUNTS_PATH = "/api/v3/brokerage/accounts"
LIST_PAGE_LIMIT = 100
LIST_MAX_PAGES = 5
RECENT_MAX_PAGES = 20
T = TypeVar("T")

_STATUS = {
    "PENDING": Status.NEW,
    "QUEUED": Status.NEW,
    "OPEN": Status.NEW,
    "CANCEL_QUEUED": Status.NEW,
    "FILLED": Status.FILLED,
    "CANCELLED": Status.CANCELED,
    "EXPIRED": Status.EXPIRED,
    "FAILED": Status.REJECTED,
}
_encode = msgspec.json.encode
_create_decoder = msgspec.json.Decoder(schemas.CreateOrderResponse)
_order_decoder = msgspec.json.Decoder(schemas.GetOrderResponse)
_list_decoder = msgspec.json.Decoder(schemas.ListOrdersResponse)
_cancel_decoder = msgspec.json.Decoder(schemas.CancelOrdersResponse)
_accounts_decoder = msgspec.json.Decoder(schemas.ListAccountsResponse)


def order_report(order: schemas.Order, symbol: str, fee_asset: str, ts_sent: int = 0
                 ) -> OrderReport:  # fmt: skip
    """Our view of a Coinbase order object."""
    status = _STATUS.get(order.status, Status.UNKNOWN)
    filled = order.filled_size or "0"
    if status is Status.NEW and _positive(filled):
        status = Status.PARTIALLY_FILLED
    config = order.order_configuration.sor_limit_ioc if order.order_configuration else None
    return OrderReport(
        venue=VENUE, symbol=symbol, side=Side.BUY if order.side == "BUY" else Side.SELL,
        client_order_id=ClientOrderId(order.client_order_id), status=status,
        price=config.limit_price if config else "0", size=config.base_size if config else "0",
        filled_size=filled, avg_price=order.average_filled_price or "0",
        fee=order.total_fees or "0", fee_asset=fee_asset,
        venue_order_id=VenueOrderId(order.order_id),
        reason=order.reject_message or _reason(order.reject_reason) or order.cancel_message,
        ts_sent=ts_sent, ts_ack=time.time_ns(),
        quote_filled=order.filled_value if _positive(filled) else "",
        ts_created=rfc3339_ns(order.created_time),
    )  # fmt: skip


def _reason(reject_reason: str) -> str:
    return "" if reject_reason == "REJECT_REASON_UNSPECIFIED" else reject_reason


def _positive(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def _decode(decoder: msgspec.json.Decoder[T], response: Response, what: str) -> T:
    try:
        return decoder.decode(response.body)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, what, str(exc)) from None


class CoinbaseTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 36  # a UUID in its 36-character text form
    # No request expiry of its own: the ES256 JWT is the bound, "Your JWT expires after 2
    # minutes" (exp = nbf + 120). Docs:
    # https://docs.cdp.coinbase.com/advanced-trade/docs/rest-api-auth
    request_window_s: ClassVar[float] = float(LIFETIME_S)

    def __init__(
        self, rest: RestClient, credentials: Credentials, instruments: Mapping[str, Instrument]
    ) -> None:
        super().__init__(rest, credentials, instruments)
        self.host = urlsplit(rest.base_url).netloc  # the JWT "uri" names the host
        self._order_ids: dict[str, str] = {}  # client order id -> Coinbase order id

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """The engine's UUID shape (its fixed first group says the order is ours)."""
        return uuid_client_order_id(opportunity_id, leg)

    # -- plumbing ---------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(VENUE, f"no coinbase instrument for {symbol!r}; fetch "
                                "instruments first or check the symbol")  # fmt: skip
        return instrument

    async def _call(self, method: str, path: str, *, query: str = "", body: bytes = b"",
                    retry: bool = True) -> Response:  # fmt: skip
        text = body.decode()

        def signer() -> tuple[str, bytes | str | None, dict[str, str]]:
            signed = sign(
                self.credentials,
                SignRequest(method, path, query, text, self.rest.clock.now_ms()),
                self.host,
            )
            headers = dict(signed.headers)
            if body:
                headers["Content-Type"] = "application/json"
            return signed.query, (body or None), headers

        return await self.rest.request(method, path, query=query, sign=signer, retry=retry,
                                       bucket="private")  # fmt: skip

    async def _fetch_order(self, order_id: str, symbol: str, ts_sent: int = 0) -> OrderReport:
        response = await self._call("GET", ORDER_PATH.format(order_id=order_id))
        order = _decode(_order_decoder, response, "order").order
        return order_report(order, symbol, self._instrument(symbol).quote, ts_sent)

    async def _find_order(self, instrument: Instrument, client_order_id: str
                          ) -> schemas.Order | None:  # fmt: skip
        cursor = ""
        for _ in range(LIST_MAX_PAGES):
            params = {"product_ids": instrument.venue_symbol, "limit": str(LIST_PAGE_LIMIT)}
            if cursor:
                params["cursor"] = cursor
            response = await self._call("GET", LIST_ORDERS_PATH, query=urlencode(params))
            page = _decode(_list_decoder, response, "orders")
            for order in page.orders:
                if order.client_order_id == client_order_id:
                    return order
            if not page.has_next or not page.cursor:
                return None
            cursor = page.cursor
        return None

    # -- TradingClient ------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        instrument = self._instrument(intent.symbol)
        request = schemas.CreateOrderRequest(
            client_order_id=intent.client_order_id,
            product_id=instrument.venue_symbol,
            side="BUY" if intent.side is Side.BUY else "SELL",
            order_configuration=schemas.OrderConfiguration(
                sor_limit_ioc=schemas.SorLimitIoc(base_size=intent.size,
                                                  limit_price=intent.price)),
        )  # fmt: skip
        ts_sent = time.time_ns()
        # Never re-sent: an unknown outcome is settled by get_order (client order id).
        response = await self._call("POST", ORDERS_PATH, body=_encode(request), retry=False)
        answer = _decode(_create_decoder, response, "create_order")
        if not answer.success or answer.success_response is None:
            raise order_failure(answer.error_response, answer.failure_reason)
        order_id = answer.success_response.order_id or answer.order_id
        self._order_ids[intent.client_order_id] = order_id
        try:  # an IOC is done at once; its fills are on the order object
            return await self._fetch_order(order_id, intent.symbol, ts_sent)
        except VenueError:
            return OrderReport(
                venue=VENUE, symbol=intent.symbol, side=intent.side,
                client_order_id=intent.client_order_id, status=Status.NEW, price=intent.price,
                size=intent.size, venue_order_id=VenueOrderId(order_id), ts_sent=ts_sent,
                ts_ack=time.time_ns(), reason="placed; fill state not read yet",
            )  # fmt: skip

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        instrument = self._instrument(symbol)
        order_id = self._order_ids.get(client_order_id)
        if order_id is not None:
            return await self._fetch_order(order_id, symbol)
        order = await self._find_order(instrument, client_order_id)
        if order is None:
            raise UnknownOrder(VENUE, f"no order with client_order_id {client_order_id} on "
                               f"{instrument.venue_symbol}", api_code="NOT_FOUND")  # fmt: skip
        self._order_ids[client_order_id] = order.order_id
        return order_report(order, symbol, instrument.quote)

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        report = await self.get_order(symbol, client_order_id)
        if report.status not in (Status.NEW, Status.PARTIALLY_FILLED):
            return report  # an IOC is normally finished already: nothing to cancel
        body = _encode(schemas.CancelOrdersRequest(order_ids=[report.venue_order_id]))
        response = await self._call("POST", CANCEL_PATH, body=body)
        results = _decode(_cancel_decoder, response, "batch_cancel").results
        if (
            results
            and not results[0].success
            and results[0].failure_reason == "UNKNOWN_CANCEL_ORDER"
        ):
            raise UnknownOrder(VENUE, f"cancel: coinbase does not know order "
                               f"{report.venue_order_id}",
                               api_code="UNKNOWN_CANCEL_ORDER")  # fmt: skip
        return await self._fetch_order(report.venue_order_id, symbol)

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_product = {self._instrument(s).venue_symbol: s for s in symbols}
        found: dict[str, schemas.Order] = {}
        cursor = ""
        for _ in range(RECENT_MAX_PAGES):
            params: list[tuple[str, str]] = [("product_ids", p) for p in by_product]
            params += [("start_date", rfc3339(since_ns)), ("limit", str(LIST_PAGE_LIMIT))]
            if cursor:
                params.append(("cursor", cursor))
            response = await self._call("GET", LIST_ORDERS_PATH, query=urlencode(params))
            page = _decode(_list_decoder, response, "orders")
            found.update((o.order_id, o) for o in page.orders)
            if not page.has_next or not page.cursor:
                break
            cursor = page.cursor
        out = []
        for order in found.values():
            symbol = by_product.get(VenueSymbol(order.product_id))
            if symbol is not None:
                self._order_ids.setdefault(order.client_order_id, order.order_id)
                out.append(order_report(order, symbol, self._instrument(symbol).quote))
        return out

    async def balances(self) -> BalanceSnapshot:
        found: dict[str, Balance] = {}
        cursor = ""
        while True:
            params = {"limit": "250"}
            if cursor:
                params["cursor"] = cursor
            response = await self._call("GET", ACCOUNTS_PATH, query=urlencode(params))
            page = _decode(_accounts_decoder, response, "accounts")
            for account in page.accounts:
                found[account.currency] = Balance(
                    asset=account.currency, free=account.available_balance.value,
                    locked=account.hold.value if account.hold else "0",
                )  # fmt: skip
            if not page.has_next or not page.cursor:
                break
            cursor = page.cursor
        return BalanceSnapshot(venue=VENUE, balances=found, ts=time.time_ns())
