"""Crypto.com Exchange v1 private REST (spot): orders, order lookup by client id, balances.

Every private call is ``POST https://api.crypto.com/exchange/v1/private/<name>`` with the JSON
body ``{"id", "method", "api_key", "params", "nonce", "sig"}`` (``signing.py``). Docs
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html):

- ``private/create-order`` {instrument_name, side BUY|SELL, type LIMIT, price, quantity,
  client_oid, time_in_force IMMEDIATE_OR_CANCEL}: "asynchronous, so the response is simply a
  confirmation of the request" ({order_id, client_oid}); the client reads the order back;
- ``private/get-order-detail`` {client_oid} (supported since 2022-11-30): status NEW, PENDING,
  ACTIVE, FILLED, CANCELED, REJECTED or EXPIRED, ``cumulative_quantity`` /
  ``cumulative_value`` / ``cumulative_fee`` in ``fee_instrument_name``; an unknown order is
  40401 NOT_FOUND;
- ``private/cancel-order`` {client_oid}: asynchronous too; an order no longer open answers
  316 NO_ACTIVE_ORDER or 307 INVALID_ORDSTATUS, and its state is then read back;
- ``private/user-balance``: ``position_balances`` (``quantity`` total, ``reserved_qty`` held
  by orders);
- reconciliation: ``private/get-order-history`` {start_time, end_time (ns), limit <= 100},
  newest first, paged by moving ``end_time`` (1 request/s), plus ``private/get-open-orders``.

``client_oid``: at most 36 characters; the engine's UUID shape fits. Rate limits ("Rate
Limits", per API key and method): create/cancel 15 per 100 ms, get-order-detail 30 per 100 ms,
get-order-history 1 per second, every other private method 3 per 100 ms.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

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
    VenueSymbol,
)

from arb_venues.base import TradingClient
from arb_venues.common.clientids import uuid_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import Response
from arb_venues.cryptocom import errors as codes
from arb_venues.cryptocom import schemas
from arb_venues.cryptocom.signing import NONCE_TOLERANCE_MS, signed_body
from arb_venues.errors import (
    BadRequest,
    MalformedFrame,
    UnknownOrder,
    UnknownSymbol,
    VenueRejected,
)

VENUE = "cryptocom"
PRIVATE = "/exchange/v1/private/"
CREATE = "private/create-order"
DETAIL = "private/get-order-detail"
CANCEL = "private/cancel-order"
BALANCE = "private/user-balance"
HISTORY = "private/get-order-history"
OPEN_ORDERS = "private/get-open-orders"
HISTORY_LIMIT = 100
HISTORY_MAX_PAGES = 10

STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING": OrderStatus.NEW,
    "ACTIVE": OrderStatus.NEW,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}
SIDES = {Side.BUY: "BUY", Side.SELL: "SELL"}
TIME_IN_FORCE = {"IOC": "IMMEDIATE_OR_CANCEL", "GTC": "GOOD_TILL_CANCEL", "FOK": "FILL_OR_KILL"}

T = TypeVar("T")
_ids = itertools.count(int(time.time()))


class CryptocomTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 36
    # The nonce may be 60 s off the server's clock (40102 INVALID_NONCE beyond).
    request_window_s: ClassVar[float] = NONCE_TOLERANCE_MS / 1000
    # get-order-history: 1 request per second per key.
    reconcile_min_interval_s: ClassVar[float] = 2.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "order": BucketLimit(15, 150),
        "query": BucketLimit(30, 300),
        "private": BucketLimit(3, 30),
        "history": BucketLimit(1, 1),
    }

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """The engine's UUID shape: 36 characters, same input same id."""
        return uuid_client_order_id(opportunity_id, leg)

    # -- orders -----------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        instrument = self._instrument(intent.symbol)
        if intent.order_type.lower() != "limit":
            raise BadRequest(
                VENUE, f"order type {intent.order_type!r} is not supported; the engine sends "
                "limit orders only",
            )  # fmt: skip
        time_in_force = TIME_IN_FORCE.get(intent.time_in_force.upper())
        if time_in_force is None:
            raise BadRequest(
                VENUE, f"time in force {intent.time_in_force!r} does not exist on cryptocom; "
                f"use one of {', '.join(TIME_IN_FORCE)}",
            )  # fmt: skip
        params = {
            "instrument_name": instrument.venue_symbol,
            "side": SIDES[intent.side],
            "type": "LIMIT",
            "price": intent.price,
            "quantity": intent.size,
            "client_oid": intent.client_order_id,
            "time_in_force": time_in_force,
        }
        ts_sent = time.time_ns()
        ack = await self._call(CREATE, params, schemas.ORDER_ACK, bucket="order", retry=False)
        ts_ack = time.time_ns()
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except UnknownOrder:  # accepted, not readable yet: the executor reconciles it
            return OrderReport(
                venue=VENUE, symbol=intent.symbol, side=intent.side,
                client_order_id=intent.client_order_id, status=OrderStatus.NEW,
                price=intent.price, size=intent.size,
                venue_order_id=VenueOrderId(str(ack.order_id)),
                ts_sent=ts_sent, ts_ack=ts_ack,
            )  # fmt: skip
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._instrument(symbol)
        order = await self._call(
            DETAIL, {"client_oid": client_order_id}, schemas.ORDER_DETAIL, bucket="query"
        )
        if order.client_oid != client_order_id:
            raise UnknownOrder(VENUE, f"{symbol}: no order with client_oid {client_order_id!r}")
        return order_report(order, symbol)

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        self._instrument(symbol)
        try:
            await self._call(
                CANCEL, {"client_oid": client_order_id}, schemas.ORDER_ACK, bucket="order"
            )
        except VenueRejected as exc:
            if exc.api_code not in codes.ORDER_CLOSED_CODES:
                raise
        return await self.get_order(symbol, client_order_id)

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_venue = {self._instrument(s).venue_symbol: s for s in symbols}
        found: dict[str, schemas.OrderDetail] = {}
        end_ns = time.time_ns()
        for _ in range(HISTORY_MAX_PAGES):
            params = {"start_time": str(since_ns), "end_time": str(end_ns),
                      "limit": HISTORY_LIMIT}  # fmt: skip
            page = await self._call(HISTORY, params, schemas.ORDER_LIST, bucket="history")
            found.update((str(o.order_id), o) for o in page.data)
            if len(page.data) < HISTORY_LIMIT:
                break
            oldest = min(_millis(o.create_time) for o in page.data)
            if oldest <= since_ns:
                break
            end_ns = oldest - 1
        open_orders = await self._call(OPEN_ORDERS, {}, schemas.ORDER_LIST, bucket="private")
        found.update(
            (str(o.order_id), o) for o in open_orders.data if _millis(o.create_time) >= since_ns
        )
        return [
            order_report(o, by_venue[VenueSymbol(o.instrument_name)])
            for o in found.values()
            if o.instrument_name in by_venue
        ]

    async def balances(self) -> BalanceSnapshot:
        result = await self._call(BALANCE, {}, schemas.BALANCE, bucket="private")
        balances: dict[str, Balance] = {}
        for account in result.data:
            for position in account.position_balances:
                total, held = _decimal(position.quantity), _decimal(position.reserved_qty)
                balances[position.instrument_name] = Balance(
                    asset=position.instrument_name, free=_text(total - held), locked=_text(held)
                )
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    # -- helpers ----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(
                VENUE, f"{symbol} is not a cryptocom instrument of this client; load the "
                "instruments first",
            )  # fmt: skip
        return instrument

    async def _call(
        self,
        method: str,
        params: Mapping[str, Any],
        decoder: msgspec.json.Decoder[T],
        *,
        bucket: str,
        retry: bool = True,
    ) -> T:
        response = await self.rest.request(
            "POST", PRIVATE + method.removeprefix("private/"), bucket=bucket, retry=retry,
            sign=self._signer(method, params),
        )  # fmt: skip
        return _decode(response, decoder)

    def _signer(
        self, method: str, params: Mapping[str, Any]
    ) -> Callable[[], tuple[str, bytes | str | None, Mapping[str, str]]]:
        def signer() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            body, _sig = signed_body(
                self.credentials, method, params, next(_ids), self.rest.clock.now_ms()
            )
            return "", body, {"Content-Type": "application/json"}

        return signer


def order_report(order: schemas.OrderDetail, symbol: str) -> OrderReport:
    """One Crypto.com order as our OrderReport."""
    status = STATUS.get(order.status, OrderStatus.UNKNOWN)
    filled = order.cumulative_quantity or "0"
    if status is OrderStatus.NEW and _decimal(filled) > 0:
        status = OrderStatus.PARTIALLY_FILLED
    reason = str(order.reason) if status in (OrderStatus.REJECTED, OrderStatus.CANCELED) else ""
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=Side.BUY if order.side == "BUY" else Side.SELL,
        client_order_id=ClientOrderId(order.client_oid),
        status=status,
        price=order.limit_price,
        size=order.quantity,
        filled_size=filled,
        avg_price=order.avg_price or "0",
        fee=order.cumulative_fee or "0",
        fee_asset=order.fee_instrument_name,
        venue_order_id=VenueOrderId(str(order.order_id)),
        reason=reason,
        quote_filled=order.cumulative_value if _decimal(filled) > 0 else "",
        ts_created=_millis(order.create_time),
    )


def _millis(value: int | str) -> int:
    text = str(value)
    return int(text) * 1_000_000 if text.isdigit() else 0


def _decode(response: Response, decoder: msgspec.json.Decoder[T]) -> T:
    try:
        envelope = schemas.ENVELOPE.decode(response.body)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "rest", f"not a JSON envelope: {exc}") from None
    error = codes.error_for_code(envelope.code, envelope.message, http_status=response.status)
    if error is not None:
        raise error
    try:
        return decoder.decode(envelope.result)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "rest", f"unexpected result: {exc}") from None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation as exc:
        raise MalformedFrame(VENUE, "rest", f"{text!r} is not a decimal") from exc


def _text(value: Decimal) -> str:
    return format(value, "f")
