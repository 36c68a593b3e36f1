"""HTX (Huobi) spot private REST: IOC limit orders by client order id, cancel, balances, history.

Docs (https://huobiapi.github.io/docs/spot/v1/en/, "Trading" and "Account"):
- the account id every order names comes from GET /v1/account/accounts (the ``spot`` one,
  state ``working``; "Rate Limit: 100times/2s");
- POST /v1/order/orders/place, JSON body ``account-id``, ``symbol``, ``type``
  (``[direction]-[type]``: ``buy-ioc`` / ``sell-ioc`` "immediately or cancel", ``buy-limit``,
  ``buy-limit-fok``...), ``amount``, ``price``, ``source`` ``spot-api``, ``client-order-id``
  ("letters (case sensitive), digit, underscore (_) and hyphen (-), no more than 64 chars");
  it answers only the order id, so the order is read back by client id for its fills;
- GET /v1/order/orders/getClientOrder?clientOrderId= (a closed order stays findable by
  client id for 2 hours; an unknown one is ``base-record-invalid``);
- POST /v1/order/orders/submitCancelClientOrder ``{"client-order-id"}``; an IOC or FOK order
  is not cancellable (``order-user-cancel-forbidden``): the order is read back instead;
- GET /v1/account/accounts/{account-id}/balance: ``trade`` (free) and ``frozen`` rows;
- GET /v1/order/orders (search past orders): ``symbol``, ``states``, ``start-time`` /
  ``end-time`` in ms ("the maximum query time window is 48 hours"), ``size`` <= 100, newest
  first, ``from`` an order id with ``direct=next`` for the page of older ones; each row has
  ``field-amount``, ``field-cash-amount`` and ``field-fees`` ("charged from your income
  currency": the asset the order receives) and ``created-at``;
- order states: submitted, partial-filled, filled, partial-canceled (an IOC remainder with
  fills), canceled, canceling, created.
Every request is signed in its query string (signing.py); HTX answers refusals with HTTP 200
and ``status: error`` (errors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
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
    OrderStatus,
    Side,
    VenueOrderId,
)

from arb_venues.base import Credentials, SignRequest, TradingClient
from arb_venues.common.clientids import text_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import Response, RestClient
from arb_venues.errors import BadRequest, MalformedFrame, UnknownOrder, VenueRejected
from arb_venues.htx import schemas
from arb_venues.htx.errors import map_error
from arb_venues.htx.signing import EXPIRY_S, sign_for_host

VENUE = "htx"
T = TypeVar("T")
ACCOUNTS_PATH = "/v1/account/accounts"
PLACE_PATH = "/v1/order/orders/place"
CLIENT_ORDER_PATH = "/v1/order/orders/getClientOrder"
CANCEL_PATH = "/v1/order/orders/submitCancelClientOrder"
ORDERS_PATH = "/v1/order/orders"
PAGE_SIZE = 100  # the most GET /v1/order/orders gives in one answer
WINDOW_MS = 48 * 3_600_000  # its start-time..end-time span may not exceed 48 hours
MAX_PAGES = 20
HISTORY_STATES = "submitted,partial-filled,filled,partial-canceled,canceled,canceling,created"
NOT_CANCELLABLE = {"order-orderstate-error", "order-user-cancel-forbidden"}
ORDER_TYPES = {"IOC": "ioc", "GTC": "limit", "FOK": "limit-fok"}

_STATUS = {
    "created": OrderStatus.NEW,
    "submitted": OrderStatus.NEW,
    "canceling": OrderStatus.NEW,
    "partial-filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "partial-canceled": OrderStatus.CANCELED,
    "canceled": OrderStatus.CANCELED,
}


def decimal_text(value: str | Decimal) -> str:
    """ "0.0010000000" -> "0.001"; "10.00" -> "10" (exact, never an exponent)."""
    number = Decimal(value)
    return "0" if number == 0 else format(number.normalize(), "f")


class HtxTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 64
    # "The 'timestamp' ... The value is valid within 5 minutes" (Authentication): a signed
    # order request may still be accepted that long after it was signed.
    request_window_s: ClassVar[float] = EXPIRY_S
    # The docs' "Rate Limit" rows: place and cancel 100 times / 2 s, getClientOrder and the
    # order search 50 times / 2 s (per UID, every key together).
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "orders": BucketLimit(50, 50),
        "queries": BucketLimit(25, 25),
    }

    def __init__(
        self,
        rest: RestClient,
        credentials: Credentials,
        instruments: Mapping[str, Instrument],
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(rest, credentials, instruments)
        self.clock = clock  # ns
        self.host = urlsplit(rest.base_url).netloc.lower()  # what the signature covers
        self._account_id: str | None = None

    # -- the interface -------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        if intent.order_type != "limit":
            raise BadRequest(VENUE, f"order type {intent.order_type!r}: only limit is supported")
        kind = ORDER_TYPES.get(intent.time_in_force)
        if kind is None:
            raise BadRequest(VENUE, f"time in force {intent.time_in_force!r}: use IOC, GTC or FOK")
        body = {
            "account-id": await self.account_id(),
            "symbol": self._venue_symbol(intent.symbol),
            "type": f"{'buy' if intent.side is Side.BUY else 'sell'}-{kind}",
            "amount": intent.size,  # exact text, already on the lot grid
            "price": intent.price,  # exact text, already on the tick grid
            "source": "spot-api",
            "client-order-id": intent.client_order_id,
        }
        ts_sent = self.clock()
        # retry=False: a lost answer is resolved by get_order, never by sending again.
        response = await self._call("POST", PLACE_PATH, body=body, bucket="orders", retry=False)
        placed = self._decode(schemas.place_decoder, response, "place")
        ts_ack = self.clock()
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except UnknownOrder:  # accepted, not yet visible by client id: it is live
            return OrderReport(
                venue=VENUE, symbol=intent.symbol, side=intent.side,
                client_order_id=intent.client_order_id, status=OrderStatus.NEW,
                price=intent.price, size=intent.size,
                venue_order_id=VenueOrderId(str(placed.data or "")),
                ts_sent=ts_sent, ts_ack=ts_ack,
            )  # fmt: skip
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._venue_symbol(symbol)
        response = await self._call("GET", CLIENT_ORDER_PATH, params={"clientOrderId":
                                    client_order_id}, bucket="queries")  # fmt: skip
        answer = self._decode(schemas.order_decoder, response, "order")
        if answer.data is None:
            raise UnknownOrder(VENUE, f"{symbol} {client_order_id}: no such order")
        return self._report(answer.data, ts_ack=self.clock())

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._venue_symbol(symbol)
        try:
            await self._call("POST", CANCEL_PATH, body={"client-order-id": client_order_id},
                             bucket="orders", retry=False)  # fmt: skip
        except VenueRejected as exc:
            if exc.api_code not in NOT_CANCELLABLE:
                raise
            # Closed already (an IOC always is): its final state is the answer.
        return await self.get_order(symbol, client_order_id)

    async def balances(self) -> BalanceSnapshot:
        path = f"{ACCOUNTS_PATH}/{await self.account_id()}/balance"
        answer = self._decode(schemas.balance_decoder, await self._call("GET", path), "balance")
        totals: dict[str, list[Decimal]] = {}
        try:
            for row in answer.data.rows if answer.data is not None else []:
                entry = totals.setdefault(row.currency.upper(), [Decimal(0), Decimal(0)])
                if row.type == "trade":
                    entry[0] += Decimal(row.balance)
                elif row.type == "frozen":
                    entry[1] += Decimal(row.balance)
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "balance", str(exc)) from None
        balances = {
            asset: Balance(asset=asset, free=decimal_text(free), locked=decimal_text(locked))
            for asset, (free, locked) in totals.items()
            if free or locked
        }
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=self.clock())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """GET /v1/order/orders per symbol, in 48-hour windows from ``since_ns``, each paged
        backwards by order id (newest first, ``from`` + ``direct=next``)."""
        out: list[OrderReport] = []
        now_ms = self.clock() // 1_000_000
        for symbol in symbols:
            venue_symbol = self._venue_symbol(symbol)
            rows: dict[int, schemas.Order] = {}
            start = max(since_ns // 1_000_000, now_ms - 7 * 24 * 3_600_000)
            while start <= now_ms:
                window = {"start-time": str(start), "end-time": str(start + WINDOW_MS - 1)}
                for row in await self._window(venue_symbol, window):
                    rows[row.id] = row
                start += WINDOW_MS
            out += [self._report(row) for row in rows.values() if row.created_at * 1_000_000
                    >= since_ns]  # fmt: skip
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: 32 characters of [0-9a-z], inside HTX's letters,
        digits, ``_`` and ``-``, at most 64."""
        return text_client_order_id(opportunity_id, leg, 32)

    async def account_id(self) -> str:
        """The spot account's id (GET /v1/account/accounts, once)."""
        if self._account_id is None:
            answer = self._decode(schemas.accounts_decoder,
                                  await self._call("GET", ACCOUNTS_PATH), "accounts")  # fmt: skip
            spot = [a for a in answer.data if a.type == "spot" and a.state == "working"]
            if not spot:
                raise BadRequest(VENUE, "no working spot account on this API key; open one in "
                                 "the HTX account settings")  # fmt: skip
            self._account_id = str(spot[0].id)
        return self._account_id

    # -- internals ---------------------------------------------------------------------------

    def _symbol_of(self, venue_symbol: str) -> str:
        for instrument in self.instruments.values():
            if instrument.venue_symbol == venue_symbol:
                return instrument.symbol
        return venue_symbol

    async def _window(self, venue_symbol: str, window: dict[str, str]) -> list[schemas.Order]:
        rows: list[schemas.Order] = []
        params = {"symbol": venue_symbol, "states": HISTORY_STATES, **window,
                  "size": str(PAGE_SIZE)}  # fmt: skip
        for _ in range(MAX_PAGES):
            response = await self._call("GET", ORDERS_PATH, params=params, bucket="queries")
            page = self._decode(schemas.orders_decoder, response, "orders").data
            rows += page
            if len(page) < PAGE_SIZE:
                break
            params = {**params, "from": str(min(o.id for o in page)), "direct": "next"}
        return rows

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        bucket: str = "default",
        weight: float = 1.0,
        retry: bool = True,
    ) -> Response:
        query = urlencode(dict(params or {}))
        payload = msgspec.json.encode(dict(body)) if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}

        def signed() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            # Called before every attempt, so each carries a fresh Timestamp.
            request = SignRequest(method, path, query=query,
                                  timestamp_ms=self.rest.clock.now_ms())  # fmt: skip
            return sign_for_host(self.credentials, request, self.host).query, payload, headers

        response = await self.rest.request(
            method, path, bucket=bucket, weight=weight, retry=retry, sign=signed
        )
        error = map_error(response)  # also when the client was built with another mapper
        if error is not None:
            raise error
        return response

    @staticmethod
    def _decode(decoder: msgspec.json.Decoder[T], response: Response, kind: str) -> T:
        try:
            return decoder.decode(response.body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, kind, str(exc)) from None

    def _report(self, order: schemas.Order, *, ts_ack: int = 0) -> OrderReport:
        try:
            return report_from_order(order, self._symbol_of(order.symbol), ts_ack=ts_ack)
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "order", f"{order.id}: {exc}") from None


def report_from_order(order: schemas.Order, symbol: str, *, ts_ack: int = 0) -> OrderReport:
    """HTX's order as an OrderReport (exact decimal text throughout)."""
    filled = Decimal(order.field_amount or order.filled_amount or "0")
    quote = Decimal(order.field_cash_amount or order.filled_cash_amount or "0")
    fee = Decimal(order.field_fees or order.filled_fees or "0")
    side = Side.BUY if order.type.startswith("buy") else Side.SELL
    status = _STATUS.get(order.state)
    reason = ""
    if status is None:
        status, reason = OrderStatus.UNKNOWN, f"unmapped HTX state {order.state!r}"
    base, quote_asset = symbol.split("-", 1) if "-" in symbol else ("", "")
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=side,
        client_order_id=ClientOrderId(order.client_order_id),
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(order.amount),
        filled_size=decimal_text(filled),
        avg_price=decimal_text(quote / filled) if filled else "0",
        fee=decimal_text(fee),
        # "charged from your income currency": the base for a buy, the quote for a sell.
        fee_asset=(base if side is Side.BUY else quote_asset) if fee else "",
        venue_order_id=VenueOrderId(str(order.id)),
        reason=reason,
        ts_ack=ts_ack,
        quote_filled=decimal_text(quote),
        ts_created=order.created_at * 1_000_000,
    )
