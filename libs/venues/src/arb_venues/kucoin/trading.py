"""KuCoin spot private REST: IOC limit orders by client order id, cancel, balances, history.

Docs (https://www.kucoin.com/docs/rest/spot-trading/orders/place-order and its neighbours):
- ``POST /api/v1/orders`` (spot weight 2): JSON ``clientOid`` ("the unique identifier created
  by the client, use of UUID, with a maximum length of 128 bits": 32 characters here),
  ``side`` buy/sell, ``symbol`` (``BTC-USDT``), ``type`` limit, ``price``, ``size``,
  ``timeInForce`` GTC/GTT/IOC/FOK; answers ``{"orderId"}`` only, so the order is read back by
  client id for its fills;
- ``GET /api/v1/order/client-order/{clientOid}`` (weight 3): the order with ``dealSize``,
  ``dealFunds``, ``fee``, ``feeCurrency``, ``isActive``, ``cancelExist``, ``createdAt`` (ms);
  an unknown id answers ``data: null`` or "order not exist";
- ``DELETE /api/v1/order/client-order/{clientOid}`` (weight 5); a closed order (an IOC always
  is) answers ``400100 order_not_exist_or_not_allow_to_cancel``: read back instead;
- ``GET /api/v1/accounts?type=trade`` (management weight 5): ``available`` is free,
  ``holds`` locked;
- ``GET /api/v1/orders?status=active|done&symbol=&startAt=&endAt=&currentPage=&pageSize=``
  (weight 2): at most 500 a page, a window of at most 7 days, newest first.
Rate limits: the spot pool is 4000 weight per 30 s and the management pool 2000 per 30 s at
VIP0 (https://www.kucoin.com/docs-new/rate-limit). Fees: charged in the quote currency
(``feeCurrency`` says which; the order's fee is the sum of its fills').
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
from arb_venues.errors import BadRequest, MalformedFrame, UnknownOrder
from arb_venues.kucoin import schemas
from arb_venues.kucoin.errors import map_error
from arb_venues.kucoin.signing import EXPIRY_S, sign

VENUE = "kucoin"
T = TypeVar("T")
ORDERS_PATH = "/api/v1/orders"
CLIENT_ORDER_PATH = "/api/v1/order/client-order/"
ACCOUNTS_PATH = "/api/v1/accounts"
PAGE_SIZE = 500
WINDOW_MS = 7 * 24 * 3_600_000  # startAt..endAt may span at most 7 days
MAX_PAGES = 20
WEIGHTS = {"place": 2.0, "get": 3.0, "cancel": 5.0, "accounts": 5.0, "list": 2.0}
TIME_IN_FORCE = ("IOC", "GTC", "FOK")


def decimal_text(value: str | Decimal) -> str:
    """ "0.0010000000" -> "0.001"; "10.00" -> "10" (exact, never an exponent)."""
    number = Decimal(value)
    return "0" if number == 0 else format(number.normalize(), "f")


class KucoinTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 40
    # KC-API-TIMESTAMP must be within 5 s of the server's clock: a signed request older than
    # that is refused (400002).
    request_window_s: ClassVar[float] = EXPIRY_S
    # The spot and management pools (VIP0), as buckets that never exceed them in any 30 s.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "spot": BucketLimit(2000, 2000 / 30),
        "management": BucketLimit(1000, 1000 / 30),
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
        if intent.time_in_force not in TIME_IN_FORCE:
            raise BadRequest(VENUE, f"time in force {intent.time_in_force!r}: use IOC, GTC or FOK")
        body = {
            "clientOid": intent.client_order_id,
            "side": "buy" if intent.side is Side.BUY else "sell",
            "symbol": self._venue_symbol(intent.symbol),
            "type": "limit",
            "price": intent.price,  # exact text, already on the tick grid
            "size": intent.size,  # exact text, already on the lot grid
            "timeInForce": intent.time_in_force,
        }
        ts_sent = self.clock()
        # retry=False: a lost answer is resolved by get_order, never by sending again.
        response = await self._call("POST", ORDERS_PATH, body=body, weight=WEIGHTS["place"],
                                    retry=False)  # fmt: skip
        placed = self._decode(schemas.place_decoder, response, "place")
        ts_ack = self.clock()
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except UnknownOrder:  # accepted, not yet visible by client id: it is live
            return OrderReport(
                venue=VENUE, symbol=intent.symbol, side=intent.side,
                client_order_id=intent.client_order_id, status=OrderStatus.NEW,
                price=intent.price, size=intent.size,
                venue_order_id=VenueOrderId(placed.data.orderId if placed.data else ""),
                ts_sent=ts_sent, ts_ack=ts_ack,
            )  # fmt: skip
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._venue_symbol(symbol)
        path = CLIENT_ORDER_PATH + quote(client_order_id, safe="")
        response = await self._call("GET", path, weight=WEIGHTS["get"])
        answer = self._decode(schemas.order_decoder, response, "order")
        if answer.data is None:
            raise UnknownOrder(VENUE, f"{symbol} {client_order_id}: no such order")
        return self._report(answer.data, ts_ack=self.clock())

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._venue_symbol(symbol)
        path = CLIENT_ORDER_PATH + quote(client_order_id, safe="")
        try:
            await self._call("DELETE", path, weight=WEIGHTS["cancel"], retry=False)
        except UnknownOrder:
            pass  # closed already (an IOC always is) or never there: its state is the answer
        return await self.get_order(symbol, client_order_id)

    async def balances(self) -> BalanceSnapshot:
        response = await self._call("GET", ACCOUNTS_PATH, params={"type": "trade"},
                                    bucket="management", weight=WEIGHTS["accounts"])  # fmt: skip
        answer = self._decode(schemas.accounts_decoder, response, "accounts")
        totals: dict[str, list[Decimal]] = {}
        try:
            for row in answer.data:
                if row.type != "trade":
                    continue
                entry = totals.setdefault(row.currency.upper(), [Decimal(0), Decimal(0)])
                entry[0] += Decimal(row.available)
                entry[1] += Decimal(row.holds)
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "accounts", str(exc)) from None
        balances = {
            asset: Balance(asset=asset, free=decimal_text(free), locked=decimal_text(locked))
            for asset, (free, locked) in totals.items()
            if free or locked
        }
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=self.clock())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """GET /api/v1/orders per symbol and status (active, done), in 7-day windows from
        ``since_ns`` (at most the last 7 days), paged by ``currentPage``."""
        out: list[OrderReport] = []
        now_ms = self.clock() // 1_000_000
        start = max(since_ns // 1_000_000, now_ms - WINDOW_MS + 1)
        if start > now_ms:
            return out  # a time still to come: no order was created then yet
        for symbol in symbols:
            venue_symbol = self._venue_symbol(symbol)
            rows: dict[str, schemas.Order] = {}
            for status in ("active", "done"):
                params = {"status": status, "symbol": venue_symbol, "startAt": str(start),
                          "endAt": str(now_ms), "pageSize": str(PAGE_SIZE)}  # fmt: skip
                for row in await self._pages(params):
                    rows[row.id] = row
            out += [self._report(row) for row in rows.values()
                    if row.createdAt * 1_000_000 >= since_ns]  # fmt: skip
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: 32 characters of [0-9a-z] (128 bits, the docs'
        UUID size)."""
        return text_client_order_id(opportunity_id, leg, 32)

    # -- internals ---------------------------------------------------------------------------

    def _symbol_of(self, venue_symbol: str) -> str:
        for instrument in self.instruments.values():
            if instrument.venue_symbol == venue_symbol:
                return instrument.symbol
        return venue_symbol

    async def _pages(self, params: dict[str, str]) -> list[schemas.Order]:
        rows: list[schemas.Order] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**params, "currentPage": str(page)}
            response = await self._call("GET", ORDERS_PATH, params=query, weight=WEIGHTS["list"])
            answer = self._decode(schemas.orders_decoder, response, "orders").data
            rows += answer.items
            if page >= answer.totalPage or not answer.items:
                break
        return rows

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        bucket: str = "spot",
        weight: float = 1.0,
        retry: bool = True,
    ) -> Response:
        query = urlencode(dict(params or {}))
        payload = msgspec.json.encode(dict(body)).decode() if body is not None else ""
        weight = min(weight, self.rest.limiter.capacity(bucket))

        def signed() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            # Called before every attempt, so each carries a fresh KC-API-TIMESTAMP.
            request = SignRequest(method, path, query=query, body=payload,
                                  timestamp_ms=self.rest.clock.now_ms())  # fmt: skip
            result = sign(self.credentials, request)
            return result.query, payload or None, result.headers

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
    """KuCoin's order as an OrderReport (exact decimal text throughout)."""
    filled, quote_filled = Decimal(order.dealSize or "0"), Decimal(order.dealFunds or "0")
    size, fee = Decimal(order.size), Decimal(order.fee or "0")
    if order.isActive:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW
    elif filled >= size:
        status = OrderStatus.FILLED
    else:  # closed unfilled or part-filled: cancelled (an IOC remainder, or a cancel)
        status = OrderStatus.CANCELED
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=Side.BUY if order.side == "buy" else Side.SELL,
        client_order_id=ClientOrderId(order.clientOid),
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(size),
        filled_size=decimal_text(filled),
        avg_price=decimal_text(quote_filled / filled) if filled else "0",
        fee=decimal_text(fee),
        fee_asset=order.feeCurrency if fee else "",
        venue_order_id=VenueOrderId(order.id),
        ts_ack=ts_ack,
        quote_filled=decimal_text(quote_filled),
        ts_created=order.createdAt * 1_000_000,
    )
