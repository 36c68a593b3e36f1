"""Gate APIv4 spot private REST: IOC limit orders by client order id, cancel, balances, history.

Docs (https://www.gate.io/docs/developers/apiv4/en/#spot, "Create an order", "Get a single
order", "Cancel a single order", "List orders", "List spot accounts"):
- POST /api/v4/spot/orders, JSON ``text``, ``currency_pair``, ``type`` limit, ``account``
  spot, ``side``, ``amount``, ``price``, ``time_in_force`` (gtc | ioc | poc | fok); the answer
  is the order with its fills (``filled_amount``/``left``, ``filled_total``, ``fee``,
  ``fee_currency``, ``status`` open | closed | cancelled, ``finish_as``);
- the client order id is ``text``: it "must start with ``t-``", at most 28 bytes after the
  prefix, of digits, letters, ``_``, ``-`` and ``.``. The engine's ids are ``t-`` + 28
  characters of [0-9a-z]; the prefix is the wire's, added here when sending and taken off
  when reading, so every other part of the system sees the engine's own id;
- GET and DELETE /api/v4/spot/orders/{order_id}?currency_pair=..: ``order_id`` may be the
  ``text`` the order was created with; an unknown one is 404 ``ORDER_NOT_FOUND``, a finished
  one cannot be cancelled (``ORDER_CLOSED``): it is read back instead;
- GET /api/v4/spot/accounts: ``available`` and ``locked`` per currency;
- GET /api/v4/spot/orders?currency_pair=..&status=open|finished: ``page`` / ``limit`` (<= 100),
  finished ones within ``from``/``to`` (Unix seconds);
- the fee is taken from what the order receives (``fee_currency``: the base of a buy).
Every request is signed in its headers (signing.py); refusals are 4xx ``label`` bodies
(errors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar, TypeVar
from urllib.parse import quote, urlencode

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
from arb_venues.errors import BadRequest, MalformedFrame, OrderRejected
from arb_venues.gateio import schemas
from arb_venues.gateio.errors import CLOSED, map_error
from arb_venues.gateio.signing import EXPIRY_S, sign

VENUE = "gateio"
T = TypeVar("T")
ORDERS_PATH = "/api/v4/spot/orders"
ACCOUNTS_PATH = "/api/v4/spot/accounts"
TEXT_PREFIX = "t-"
TEXT_MAX = 28  # bytes after the prefix
PAGE_SIZE = 100
MAX_PAGES = 20
TIME_IN_FORCE = {"IOC": "ioc", "GTC": "gtc", "FOK": "fok"}


def decimal_text(value: str | Decimal) -> str:
    """ "0.0010000000" -> "0.001"; "10.00" -> "10" (exact, never an exponent)."""
    number = Decimal(value)
    return "0" if number == 0 else format(number.normalize(), "f")


def wire_text(client_order_id: str) -> str:
    """The ``text`` Gate takes for a client order id."""
    return client_order_id if client_order_id.startswith(TEXT_PREFIX) else (
        TEXT_PREFIX + client_order_id)  # fmt: skip


def client_id_of(text: str) -> str:
    """The client order id of an order's ``text`` (without Gate's ``t-``)."""
    return text[len(TEXT_PREFIX) :] if text.startswith(TEXT_PREFIX) else text


class GateTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = TEXT_MAX
    # The Timestamp header may be 60 s off the server's clock: a signed request can still be
    # accepted that long after it was signed.
    request_window_s: ClassVar[float] = EXPIRY_S
    # "Frequency limit rule": spot order placing 10 r/s, cancelling 200 r/s, other private
    # endpoints 200 r/10 s, per user.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "orders": BucketLimit(10, 10),
        "queries": BucketLimit(20, 15),
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

    # -- the interface -------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        if intent.order_type != "limit":
            raise BadRequest(VENUE, f"order type {intent.order_type!r}: only limit is supported")
        tif = TIME_IN_FORCE.get(intent.time_in_force)
        if tif is None:
            raise BadRequest(VENUE, f"time in force {intent.time_in_force!r}: use IOC, GTC or FOK")
        body = {
            "text": wire_text(intent.client_order_id),
            "currency_pair": self._venue_symbol(intent.symbol),
            "type": "limit",
            "account": "spot",
            "side": "buy" if intent.side is Side.BUY else "sell",
            "amount": intent.size,  # exact text, already on the lot grid
            "price": intent.price,  # exact text, already on the tick grid
            "time_in_force": tif,
        }
        ts_sent = self.clock()
        # retry=False: a lost answer is resolved by get_order, never by sending again.
        response = await self._call("POST", ORDERS_PATH, body=body, bucket="orders", retry=False)
        order = self._decode(schemas.order_decoder, response, "order")
        report = self._report(order, ts_ack=self.clock())
        return msgspec.structs.replace(report, ts_sent=ts_sent)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        response = await self._call("GET", self._order_path(client_order_id),
                                    params={"currency_pair": self._venue_symbol(symbol)},
                                    bucket="queries")  # fmt: skip
        return self._report(self._decode(schemas.order_decoder, response, "order"),
                            ts_ack=self.clock())  # fmt: skip

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        try:
            response = await self._call("DELETE", self._order_path(client_order_id),
                                        params={"currency_pair": self._venue_symbol(symbol)},
                                        bucket="orders", retry=False)  # fmt: skip
        except OrderRejected as exc:
            if exc.api_code not in CLOSED:
                raise
            return await self.get_order(symbol, client_order_id)  # finished already (an IOC)
        return self._report(self._decode(schemas.order_decoder, response, "order"),
                            ts_ack=self.clock())  # fmt: skip

    async def balances(self) -> BalanceSnapshot:
        response = await self._call("GET", ACCOUNTS_PATH, bucket="queries")
        rows = self._decode(schemas.accounts_decoder, response, "accounts")
        balances = {}
        try:
            for row in rows:
                free, locked = Decimal(row.available), Decimal(row.locked)
                if free or locked:
                    asset = row.currency.upper()
                    balances[asset] = Balance(asset=asset, free=decimal_text(free),
                                              locked=decimal_text(locked))  # fmt: skip
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "accounts", str(exc)) from None
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=self.clock())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """GET /api/v4/spot/orders per symbol: the open ones, and the finished ones from
        ``since_ns`` on (``from`` in seconds), each paged by ``page``."""
        out: list[OrderReport] = []
        since_s = since_ns // 1_000_000_000
        for symbol in symbols:
            pair = self._venue_symbol(symbol)
            rows: dict[str, schemas.Order] = {}
            for params in ({"currency_pair": pair, "status": "open"},
                           {"currency_pair": pair, "status": "finished", "from": str(since_s),
                            "to": str(self.clock() // 1_000_000_000 + 1)}):  # fmt: skip
                for row in await self._pages(params):
                    rows[row.id] = row
            out += [self._report(row) for row in rows.values()
                    if row.create_time_ms * 1_000_000 >= since_ns]  # fmt: skip
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: 28 characters of [0-9a-z], sent as ``t-`` + it."""
        return text_client_order_id(opportunity_id, leg, TEXT_MAX)

    # -- internals ---------------------------------------------------------------------------

    def _symbol_of(self, venue_symbol: str) -> str:
        for instrument in self.instruments.values():
            if instrument.venue_symbol == venue_symbol:
                return instrument.symbol
        return venue_symbol

    @staticmethod
    def _order_path(client_order_id: str) -> str:
        return f"{ORDERS_PATH}/{quote(wire_text(client_order_id), safe='')}"

    async def _pages(self, params: dict[str, str]) -> list[schemas.Order]:
        rows: list[schemas.Order] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**params, "page": str(page), "limit": str(PAGE_SIZE)}
            response = await self._call("GET", ORDERS_PATH, params=query, bucket="queries")
            found = self._decode(schemas.orders_decoder, response, "orders")
            rows += found
            if len(found) < PAGE_SIZE:
                break
        return rows

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        bucket: str = "default",
        retry: bool = True,
    ) -> Response:
        query = urlencode(dict(params or {}))
        payload = msgspec.json.encode(dict(body)).decode() if body is not None else ""

        def signed() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            # Called before every attempt, so each carries a fresh Timestamp.
            request = SignRequest(method, path, query=query, body=payload,
                                  timestamp_ms=self.rest.clock.now_ms())  # fmt: skip
            headers = {**sign(self.credentials, request).headers, "Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            return query, payload if body is not None else None, headers

        response = await self.rest.request(method, path, bucket=bucket, retry=retry,
                                           sign=signed)  # fmt: skip
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
            return report_from_order(order, self._symbol_of(order.currency_pair), ts_ack=ts_ack)
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "order", f"{order.id}: {exc}") from None


def report_from_order(order: schemas.Order, symbol: str, *, ts_ack: int = 0) -> OrderReport:
    """Gate's order as an OrderReport (exact decimal text throughout)."""
    amount = Decimal(order.amount)
    filled = Decimal(order.filled_amount) if order.filled_amount is not None else (
        amount - Decimal(order.left or "0"))  # fmt: skip
    quote_filled = Decimal(order.filled_total or "0")
    fee = Decimal(order.fee or "0")
    reason = ""
    if order.status == "open":
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW
    elif order.status == "closed":
        status = OrderStatus.FILLED if filled >= amount else OrderStatus.CANCELED
    elif order.status == "cancelled":
        status = OrderStatus.CANCELED
    else:
        status, reason = OrderStatus.UNKNOWN, f"unmapped Gate status {order.status!r}"
    if order.finish_as and order.finish_as not in ("open", "filled", "cancelled", "ioc"):
        reason = reason or f"finished as {order.finish_as}"
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=Side.BUY if order.side == "buy" else Side.SELL,
        client_order_id=ClientOrderId(client_id_of(order.text)),
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(amount),
        filled_size=decimal_text(filled),
        avg_price=decimal_text(quote_filled / filled) if filled else "0",
        fee=decimal_text(fee),
        fee_asset=order.fee_currency.upper() if fee else "",
        venue_order_id=VenueOrderId(order.id),
        reason=reason,
        ts_ack=ts_ack,
        quote_filled=decimal_text(quote_filled),
        ts_created=order.create_time_ms * 1_000_000,
    )
