"""Bybit v5 private REST for a unified (UTA) account, spot category.

- POST /v5/order/create: {category:"spot", symbol, side:"Buy"|"Sell", orderType:"Limit",
  qty, price, timeInForce:"IOC", orderLinkId}. The answer only acknowledges (orderId,
  orderLinkId): "This request is asynchronous" (docs/v5/order/create-order), so the client
  reads the order back right after.
- GET /v5/order/realtime?category=spot&symbol=..&orderLinkId=..: open orders, and the recent
  500 closed ones when queried by orderLinkId; after a Bybit restart closed orders are only in
  GET /v5/order/history (docs/v5/order/open-order). A filled IOC is closed at once, so
  get_order asks realtime first and history second.
- POST /v5/order/cancel: only unfilled or partially filled orders; answers are asynchronous too.
- GET /v5/account/wallet-balance?accountType=UNIFIED: walletBalance and locked per coin.
- Listing (reconciliation): GET /v5/order/history?category=spot&startTime=<ms>&limit=50,
  newest first, paged by ``nextPageCursor``; "if startTime and endTime are not passed, return
  7 days by default", cancelled orders without fills are kept 24 hours
  (https://bybit-exchange.github.io/docs/v5/order/order-list), plus the open orders of GET
  /v5/order/realtime?category=spot (docs/v5/order/open-order).
orderLinkId: at most 36 characters of letters, digits, "-" and "_" (docs/v5/order/create-order).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

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

from arb_venues.base import SignRequest, TradingClient
from arb_venues.bybit import errors as codes
from arb_venues.bybit import schemas
from arb_venues.bybit.signing import RECV_WINDOW_MS, sign
from arb_venues.common.clientids import uuid_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import Response
from arb_venues.errors import (
    BadRequest,
    MalformedFrame,
    UnknownOrder,
    UnknownSymbol,
    VenueError,
    VenueRejected,
)

VENUE = "bybit"
CREATE_PATH = "/v5/order/create"
CANCEL_PATH = "/v5/order/cancel"
REALTIME_PATH = "/v5/order/realtime"
HISTORY_PATH = "/v5/order/history"
WALLET_PATH = "/v5/account/wallet-balance"
HISTORY_LIMIT = 50  # the most /v5/order/history gives in one page
HISTORY_MAX_PAGES = 20

STATUS = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,  # spot only: IOC remainder cancelled
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}
SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}
TIME_IN_FORCE = {"IOC": "IOC", "GTC": "GTC", "FOK": "FOK", "POSTONLY": "PostOnly"}

T = TypeVar("T")
SignFn = Callable[[], tuple[str, bytes | str | None, Mapping[str, str]]]


class BybitTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 36
    # X-BAPI-RECV-WINDOW (sent explicitly): the server accepts
    # server_time - recv_window <= timestamp < server_time + 1000 (error 10002). Docs:
    # https://bybit-exchange.github.io/docs/v5/guide#authentication
    request_window_s: ClassVar[float] = RECV_WINDOW_MS / 1000
    # Per-UID limits of docs/v5/rate-limit (spot): create/cancel 20/s; realtime, history and
    # wallet-balance 50/s. For the RestClient's RateLimiter; requests name these buckets.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(10, 10),
        "order": BucketLimit(20, 20),
        "query": BucketLimit(50, 50),
    }

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """The engine's UUID shape: 36 characters of hex and dashes, same input same id."""
        return uuid_client_order_id(opportunity_id, leg)

    # -- orders -----------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        instrument = self._instrument(intent.symbol)
        if intent.order_type.lower() != "limit":
            raise BadRequest(
                VENUE,
                f"order type {intent.order_type!r} is not supported; the "
                "engine sends limit orders only",
            )
        time_in_force = TIME_IN_FORCE.get(intent.time_in_force.upper())
        if time_in_force is None:
            raise BadRequest(
                VENUE,
                f"time in force {intent.time_in_force!r} does not exist on "
                f"bybit; use one of {', '.join(TIME_IN_FORCE.values())}",
            )
        body = msgspec.json.encode(
            {
                "category": "spot",
                "symbol": instrument.venue_symbol,
                "side": SIDES[intent.side],
                "orderType": "Limit",
                "qty": intent.size,
                "price": intent.price,
                "timeInForce": time_in_force,
                "orderLinkId": intent.client_order_id,
            }
        ).decode()
        ts_sent = time.time_ns()
        response = await self.rest.request(
            "POST",
            CREATE_PATH,
            bucket="order",
            retry=False,
            sign=self._signer("POST", CREATE_PATH, body=body),
        )
        ack = _decode(response, schemas.ORDER_ACK)
        ts_ack = time.time_ns()
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except VenueError:  # accepted, but not readable yet: the executor reconciles it
            return OrderReport(
                venue=VENUE,
                symbol=intent.symbol,
                side=intent.side,
                client_order_id=intent.client_order_id,
                status=OrderStatus.NEW,
                price=intent.price,
                size=intent.size,
                venue_order_id=VenueOrderId(ack.orderId),
                ts_sent=ts_sent,
                ts_ack=ts_ack,
            )
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        instrument = self._instrument(symbol)
        query = urlencode(
            {"category": "spot", "symbol": instrument.venue_symbol, "orderLinkId": client_order_id}
        )
        for path in (REALTIME_PATH, HISTORY_PATH):
            response = await self.rest.request(
                "GET", path, bucket="query", sign=self._signer("GET", path, query=query)
            )
            orders = _decode(response, schemas.ORDER_LIST).entries
            for order in orders:
                if order.orderLinkId == client_order_id:
                    return order_report(order, symbol)
        raise UnknownOrder(
            VENUE,
            f"{symbol}: no order with orderLinkId {client_order_id!r} in open or closed orders",
        )

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        instrument = self._instrument(symbol)
        body = msgspec.json.encode(
            {"category": "spot", "symbol": instrument.venue_symbol, "orderLinkId": client_order_id}
        ).decode()
        try:
            response = await self.rest.request(
                "POST",
                CANCEL_PATH,
                bucket="order",
                sign=self._signer("POST", CANCEL_PATH, body=body),
            )
            _decode(response, schemas.ORDER_ACK)
        except VenueRejected as exc:
            # A filled or already cancelled order cannot be cancelled: Bybit answers "order
            # does not exist" (110001) or an "order closed" code. Its state is the answer; an
            # order that really does not exist raises UnknownOrder from get_order.
            if not (isinstance(exc, UnknownOrder) or exc.api_code in codes.ORDER_CLOSED_CODES):
                raise
        return await self.get_order(symbol, client_order_id)

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_venue = {self._instrument(s).venue_symbol: s for s in symbols}
        found: dict[str, schemas.OrderInfo] = {}
        cursor = ""
        for _ in range(HISTORY_MAX_PAGES):
            params = {"category": "spot", "startTime": str(since_ns // 1_000_000),
                      "limit": str(HISTORY_LIMIT)}  # fmt: skip
            if cursor:
                params["cursor"] = cursor
            page = await self._list(HISTORY_PATH, urlencode(params))
            found.update((o.orderId, o) for o in page.entries)
            cursor = page.nextPageCursor
            if not cursor:
                break
        open_orders = await self._list(REALTIME_PATH, "category=spot")
        found.update(
            (o.orderId, o) for o in open_orders.entries if _millis(o.createdTime) >= since_ns
        )
        return [order_report(o, by_venue[VenueSymbol(o.symbol)]) for o in found.values()
                if VenueSymbol(o.symbol) in by_venue]  # fmt: skip

    async def _list(self, path: str, query: str) -> schemas.OrderList:
        response = await self.rest.request(
            "GET", path, bucket="query", sign=self._signer("GET", path, query=query)
        )
        return _decode(response, schemas.ORDER_LIST)

    async def balances(self) -> BalanceSnapshot:
        query = "accountType=UNIFIED"
        response = await self.rest.request(
            "GET", WALLET_PATH, bucket="query", sign=self._signer("GET", WALLET_PATH, query=query)
        )
        wallet = _decode(response, schemas.WALLET)
        balances: dict[str, Balance] = {}
        for account in wallet.entries:
            for coin in account.coin:
                total, locked = _decimal(coin.walletBalance), _decimal(coin.locked)
                balances[coin.coin] = Balance(
                    asset=coin.coin, free=_text(total - locked), locked=_text(locked)
                )
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    # -- helpers ----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(
                VENUE,
                f"{symbol} is not a bybit instrument of this client; load the instruments first",
            )
        return instrument

    def _signer(self, method: str, path: str, *, query: str = "", body: str = "") -> SignFn:
        def signer() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            signed = sign(
                self.credentials,
                SignRequest(
                    method, path, query=query, body=body, timestamp_ms=self.rest.clock.now_ms()
                ),
            )
            return signed.query, (body or None), signed.headers

        return signer


def order_report(order: schemas.OrderInfo, symbol: str) -> OrderReport:
    """One Bybit order as our OrderReport (fees from cumFeeDetail, spot's fee field)."""
    fee, fee_asset = order.cumExecFee or "0", ""
    if order.cumFeeDetail:
        fee_asset, fee = next(iter(order.cumFeeDetail.items()))
    reason = "" if order.rejectReason in ("", "EC_NoError") else order.rejectReason
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=Side.BUY if order.side == "Buy" else Side.SELL,
        client_order_id=ClientOrderId(order.orderLinkId),
        status=STATUS.get(order.orderStatus, OrderStatus.UNKNOWN),
        price=order.price,
        size=order.qty,
        filled_size=order.cumExecQty or "0",
        avg_price=order.avgPrice or "0",
        fee=fee,
        fee_asset=fee_asset,
        venue_order_id=VenueOrderId(order.orderId),
        reason=reason,
        quote_filled=order.cumExecValue if order.cumExecQty not in ("", "0") else "",
        ts_created=_millis(order.createdTime),
    )


def _millis(text: str) -> int:
    """Bybit's millisecond text as ns (0 when absent)."""
    return int(text) * 1_000_000 if text.isdigit() else 0


def _decode(response: Response, decoder: msgspec.json.Decoder[T]) -> T:
    """The typed ``result`` of a v5 answer; the venue's error for a non-zero retCode."""
    try:
        envelope = schemas.ENVELOPE.decode(response.body)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "rest", f"not a v5 envelope: {exc}") from None
    error = codes.error_for_code(envelope.retCode, envelope.retMsg, http_status=response.status)
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
