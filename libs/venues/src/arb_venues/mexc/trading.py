"""MEXC spot private REST: IOC limit orders, order query/cancel by client id, balances.

Docs (https://www.mexc.com/api-docs/spot-v3/spot-account-trade/new-order and the pages
beside it; mexcdevelop/apidocs spot_v3_en "Spot Account/Trade"):
- POST /api/v3/order: ``type`` carries the time in force: ``IMMEDIATE_OR_CANCEL``,
  ``FILL_OR_KILL``, ``LIMIT`` (rests), ``LIMIT_MAKER``; ``quantity``, ``price``,
  ``newClientOrderId``. The answer only acknowledges (symbol, orderId, price, origQty, type,
  side, transactTime): the outcome is read back at once by GET /api/v3/order
  (``origClientOrderId``, weight 2) and the fees from GET /api/v3/myTrades by ``orderId``
  (``commission``, ``commissionAsset``: MEXC charges spot fees in the quote asset). Orders
  and cancels share 12 requests a second ("Rate limit: Shared with the cancel order
  endpoint, 12 requests/second");
- DELETE /api/v3/order by ``origClientOrderId``; GET /api/v3/account (weight 10, "2 times/s");
- GET /api/v3/allOrders (weight 10; symbol, startTime, endTime, limit <= 1000; "the latest
  7 days" at most) and GET /api/v3/myTrades (weight 10; limit <= 100): time windows here;
- statuses NEW, PARTIALLY_FILLED, FILLED, CANCELED, PARTIALLY_CANCELED (a remainder
  cancelled after fills: CANCELED with its filled size, as OrderStatus documents).
Client order ids: MEXC documents no alphabet or length; ids here are 32 characters of
[0-9a-z] (``arb_venues.common.clientids``), the shape its own examples use.
Parameters travel in the query string, percent-encoded, then signed (signing.py).
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
)

from arb_venues.base import Credentials, SignRequest, TradingClient
from arb_venues.common.clientids import text_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import Response, RestClient
from arb_venues.errors import BadRequest, MalformedFrame, RequestTimeout, VenueError
from arb_venues.mexc import schemas
from arb_venues.mexc.signing import sign

VENUE = "mexc"
T = TypeVar("T")
ORDER_PATH = "/api/v3/order"
ACCOUNT_PATH = "/api/v3/account"
ALL_ORDERS_PATH = "/api/v3/allOrders"
MY_TRADES_PATH = "/api/v3/myTrades"
ORDERS_LIMIT = 1000  # the most allOrders gives in one answer
TRADES_LIMIT = 100  # the most myTrades gives
WINDOW_MS = 24 * 3_600_000
HISTORY_MS = 7 * WINDOW_MS  # allOrders reaches back 7 days at most
MAX_PAGES = 20
RECV_WINDOW_MS = 5000  # the documented default; max 60000
ORDER_TYPES = {"IOC": "IMMEDIATE_OR_CANCEL", "FOK": "FILL_OR_KILL", "GTC": "LIMIT"}
TIME_IN_FORCE = {v: k for k, v in ORDER_TYPES.items()}

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PARTIALLY_CANCELED": OrderStatus.CANCELED,
}


def decimal_text(value: str | Decimal) -> str:
    """ "0.01000000" -> "0.01" (exact, never an exponent)."""
    return format(Decimal(value).normalize(), "f")


class MexcTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 32
    # Signed requests carry recvWindow = RECV_WINDOW_MS: the server refuses one older than
    # that when it arrives (700003), so an unanswered order cannot land later.
    request_window_s: ClassVar[float] = RECV_WINDOW_MS / 1000
    # GET /api/v3/account is limited to 2 a second.
    reconcile_min_interval_s: ClassVar[float] = 1.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "orders": BucketLimit(12, 12),  # new order + cancel: 12 requests a second
        "account": BucketLimit(2, 2),  # GET /api/v3/account: 2 a second
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
        self.clock = clock  # ns, local: order stamps; signing reads the venue clock (rest.clock)
        self._symbols_of: tuple[object, dict[str, str]] = (None, {})

    @property
    def _by_venue_symbol(self) -> dict[str, str]:
        source, mapping = self._symbols_of
        if source is not self.instruments:
            mapping = {i.venue_symbol: i.symbol for i in self.instruments.values()}
            self._symbols_of = (self.instruments, mapping)
        return mapping

    # -- the interface -------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        if intent.order_type != "limit":
            raise BadRequest(VENUE, f"order type {intent.order_type!r}: only limit is supported")
        order_type = ORDER_TYPES.get(intent.time_in_force)
        if order_type is None:
            raise BadRequest(VENUE, f"time in force {intent.time_in_force!r}: use IOC, FOK or GTC")
        params = {
            "symbol": self._venue_symbol(intent.symbol),
            "side": "BUY" if intent.side is Side.BUY else "SELL",
            "type": order_type,
            "quantity": intent.size,  # exact text, already on the lot grid
            "price": intent.price,  # exact text, already on the tick grid
            "newClientOrderId": intent.client_order_id,
        }
        ts_sent = self.clock()
        # retry=False: a lost answer is resolved by get_order, never by sending again.
        response = await self._call("POST", ORDER_PATH, params, bucket="orders", retry=False)
        self._decode(schemas.new_order_decoder, response, "order")
        ts_ack = self.clock()
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except VenueError as exc:
            # Accepted, but its outcome was not read: unknown, never a rejection.
            raise RequestTimeout(
                VENUE, f"order {intent.client_order_id} accepted; reading it back failed: {exc}"
            ) from exc
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        params = {"symbol": self._venue_symbol(symbol), "origClientOrderId": client_order_id}
        response = await self._call("GET", ORDER_PATH, params, weight=2)
        report = self._report(response, ts_ack=self.clock())
        if Decimal(report.filled_size):
            trades = await self._trades(symbol, {"orderId": report.venue_order_id})
            report = with_fees(report, trades)
        return report

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        params = {"symbol": self._venue_symbol(symbol), "origClientOrderId": client_order_id}
        response = await self._call("DELETE", ORDER_PATH, params, bucket="orders", retry=False)
        return self._report(response, ts_ack=self.clock())

    async def balances(self) -> BalanceSnapshot:
        response = await self._call("GET", ACCOUNT_PATH, {}, bucket="account")
        try:
            account = schemas.account_decoder.decode(response.body)
            balances = {
                b.asset: Balance(
                    asset=b.asset, free=decimal_text(b.free), locked=decimal_text(b.locked)
                )
                for b in account.balances
            }
        except (msgspec.ValidationError, msgspec.DecodeError, InvalidOperation) as exc:
            raise MalformedFrame(VENUE, "account", str(exc)) from None
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=self.clock())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """allOrders and myTrades per symbol, in 24-hour windows from ``since_ns`` (7 days
        back at most, all MEXC keeps)."""
        out: list[OrderReport] = []
        now_ms = self.clock() // 1_000_000
        for symbol in symbols:
            venue_symbol = self._venue_symbol(symbol)
            orders: dict[str, schemas.Order] = {}
            trades: dict[str, schemas.AccountTrade] = {}
            start = max(since_ns // 1_000_000, now_ms - HISTORY_MS + 60_000)
            while start <= now_ms:
                end = start + WINDOW_MS - 1
                for order in await self._pages(ALL_ORDERS_PATH, venue_symbol, start, end,
                                               schemas.orders_decoder, ORDERS_LIMIT,
                                               lambda o: o.time):  # fmt: skip
                    orders[str(order.orderId)] = order
                for trade in await self._pages(MY_TRADES_PATH, venue_symbol, start, end,
                                               schemas.trades_decoder, TRADES_LIMIT,
                                               lambda t: t.time):  # fmt: skip
                    trades[str(trade.id)] = trade
                start += WINDOW_MS
            by_order: dict[str, list[schemas.AccountTrade]] = {}
            for trade in trades.values():
                by_order.setdefault(str(trade.orderId), []).append(trade)
            for key, order in orders.items():
                report = report_from_order(order, self._by_venue_symbol)
                out.append(with_fees(report, by_order.get(key, [])))
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: 32 characters of [0-9a-z]."""
        return text_client_order_id(opportunity_id, leg, 32)

    # -- internals ---------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        *,
        bucket: str = "default",
        weight: float = 1.0,
        retry: bool = True,
    ) -> Response:
        base = urlencode({**params, "recvWindow": str(RECV_WINDOW_MS)})

        def signed() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            # Called before every attempt, so each carries a fresh timestamp.
            request = SignRequest(method, path, query=base, timestamp_ms=self.rest.clock.now_ms())
            result = sign(self.credentials, request)
            return result.query, None, result.headers

        return await self.rest.request(
            method, path, bucket=bucket, weight=weight, retry=retry, sign=signed
        )

    async def _trades(self, symbol: str, params: dict[str, str]) -> list[schemas.AccountTrade]:
        query = {"symbol": self._venue_symbol(symbol), **params, "limit": str(TRADES_LIMIT)}
        response = await self._call("GET", MY_TRADES_PATH, query, weight=10)
        return self._decode(schemas.trades_decoder, response, "trades")

    async def _pages(self, path: str, venue_symbol: str, start: int, end: int,
                     decoder: msgspec.json.Decoder[list[T]], limit: int,
                     row_time: Callable[[T], int]) -> list[T]:  # fmt: skip
        """Every row of one window, oldest first: a full page continues from its last row's
        time (inclusive; the caller drops the repeats by id)."""
        rows: list[T] = []
        for _ in range(MAX_PAGES):
            params = {"symbol": venue_symbol, "startTime": str(start), "endTime": str(end),
                      "limit": str(limit)}  # fmt: skip
            response = await self._call("GET", path, params, weight=10)
            page = self._decode(decoder, response, path.rsplit("/", 1)[-1])
            rows += page
            if len(page) < limit:
                break
            last = max(row_time(r) for r in page)
            if last <= start:
                break  # a full page of one millisecond: nothing more to page by
            start = last
        return rows

    @staticmethod
    def _decode(decoder: msgspec.json.Decoder[T], response: Response, kind: str) -> T:
        try:
            return decoder.decode(response.body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, kind, str(exc)) from None

    def _report(self, response: Response, *, ts_sent: int = 0, ts_ack: int = 0) -> OrderReport:
        order = self._decode(schemas.order_decoder, response, "order")
        try:
            return report_from_order(order, self._by_venue_symbol, ts_sent=ts_sent, ts_ack=ts_ack)
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "order", str(exc)) from None


def report_from_order(
    order: schemas.Order,
    by_venue_symbol: Mapping[str, str],
    *,
    ts_sent: int = 0,
    ts_ack: int = 0,
) -> OrderReport:
    """MEXC's order answer as an OrderReport (exact decimal text; fees come from myTrades)."""
    executed = Decimal(order.executedQty or "0")
    quote = Decimal(order.cummulativeQuoteQty or "0")
    status = _STATUS.get(order.status)
    reason = ""
    if status is None:
        status, reason = OrderStatus.UNKNOWN, f"unmapped MEXC status {order.status!r}"
    elif order.status == "PARTIALLY_CANCELED":
        reason = "remainder cancelled after a partial fill"
    return OrderReport(
        venue=VENUE,
        symbol=by_venue_symbol.get(order.symbol, order.symbol),
        side=Side.BUY if order.side == "BUY" else Side.SELL,
        client_order_id=ClientOrderId(order.origClientOrderId or order.clientOrderId or ""),
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(order.origQty),
        filled_size=decimal_text(executed),
        avg_price=decimal_text(quote / executed) if executed else "0",
        fee="0",
        fee_asset="",
        venue_order_id=VenueOrderId(str(order.orderId)),
        reason=reason,
        ts_sent=ts_sent,
        ts_ack=ts_ack,
        quote_filled=decimal_text(quote),
        ts_created=order.time * 1_000_000,
    )


def with_fees(report: OrderReport, trades: Sequence[schemas.AccountTrade]) -> OrderReport:
    """``report`` with the fee of its fills from the trade list (one asset per order; a mixed
    answer keeps the first asset's sum and says so)."""
    mine = [t for t in trades if str(t.orderId) == report.venue_order_id]
    if not mine:
        return report
    asset = mine[0].commissionAsset
    fee = sum((Decimal(t.commission) for t in mine if t.commissionAsset == asset), Decimal(0))
    mixed = any(t.commissionAsset != asset for t in mine)
    reason = report.reason or ("fees in several assets; only " + asset if mixed else "")
    return msgspec.structs.replace(report, fee=decimal_text(fee), fee_asset=asset, reason=reason)
