"""Binance spot private REST: IOC limit orders, order query/cancel by client id, balances.

Docs (https://developers.binance.com/docs/binance-spot-api-docs/rest-api):
- POST /api/v3/order (weight 1): type=LIMIT needs timeInForce, quantity, price;
  newOrderRespType=FULL returns the fills; newClientOrderId is "a unique id among open
  orders"; the server's legal range (its -1100 error text) is ``^[.A-Z:/a-z0-9_-]{1,36}$``:
  ids here use only [a-z0-9-], inside every version of that range;
- GET /api/v3/order (weight 4) and DELETE /api/v3/order (weight 1) by origClientOrderId;
- GET /api/v3/account (weight 20), ``omitZeroBalances=true``;
- GET /api/v3/allOrders (weight 20; symbol, startTime, endTime, limit <= 1000; "the time
  between startTime and endTime can't be longer than 24 hours") lists the account's orders,
  and GET /api/v3/myTrades (weight 20, 5 with orderId) their fills with ``commission`` and
  ``commissionAsset`` (rest-api.md "All orders (USER_DATA)", "Account trade list
  (USER_DATA)"). An order's fee is only on its fills: GET /api/v3/order carries none, so an
  order read back after a lost answer takes its fee from myTrades by orderId;
- Order status (enums.md): an IOC remainder ends as EXPIRED (normalised here to CANCELED with
  its filled size, as OrderStatus documents); EXPIRED_IN_MATCH is self-trade prevention.
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
from arb_venues.binance import schemas
from arb_venues.binance.numbers import decimal_text
from arb_venues.binance.signing import sign
from arb_venues.common.clientids import text_client_order_id
from arb_venues.common.rest import Response, RestClient
from arb_venues.errors import BadRequest, MalformedFrame

VENUE = "binance"
T = TypeVar("T")
ORDER_PATH = "/api/v3/order"
ACCOUNT_PATH = "/api/v3/account"
ALL_ORDERS_PATH = "/api/v3/allOrders"
MY_TRADES_PATH = "/api/v3/myTrades"
LIST_LIMIT = 1000  # the most allOrders / myTrades give in one answer
WINDOW_MS = 24 * 3_600_000  # their startTime..endTime span may not exceed 24 hours
MAX_PAGES = 20
RECV_WINDOW_MS = 5000  # the documented default; max 60000

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


class BinanceTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 36
    # Signed requests carry recvWindow (sent explicitly, RECV_WINDOW_MS): the venue rejects
    # one whose timestamp is older than that when it is processed (-1021). Docs:
    # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type
    request_window_s: ClassVar[float] = RECV_WINDOW_MS / 1000

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
        """Venue symbol -> ours, for the instruments loaded now (they may be reloaded)."""
        source, mapping = self._symbols_of
        if source is not self.instruments:
            mapping = {i.venue_symbol: i.symbol for i in self.instruments.values()}
            self._symbols_of = (self.instruments, mapping)
        return mapping

    # -- the interface -------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        if intent.order_type != "limit":
            raise BadRequest(VENUE, f"order type {intent.order_type!r}: only limit is supported")
        params = {
            "symbol": self._venue_symbol(intent.symbol),
            "side": "BUY" if intent.side is Side.BUY else "SELL",
            "type": "LIMIT",
            "timeInForce": intent.time_in_force,
            "quantity": intent.size,  # exact text, already on the lot grid
            "price": intent.price,  # exact text, already on the tick grid
            "newClientOrderId": intent.client_order_id,
            "newOrderRespType": "FULL",
        }
        ts_sent = self.clock()
        # retry=False: a lost answer is resolved by get_order, never by sending again.
        response = await self._call("POST", ORDER_PATH, params, bucket="orders", retry=False)
        return self._report(response, ts_sent=ts_sent, ts_ack=self.clock())

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        params = {"symbol": self._venue_symbol(symbol), "origClientOrderId": client_order_id}
        response = await self._call("GET", ORDER_PATH, params, weight=4)
        report = self._report(response, ts_ack=self.clock())
        if Decimal(report.filled_size) and not report.fee_asset:
            # The query answer has no fills, so no fee: read them from the trade list.
            trades = await self._trades(symbol, {"orderId": report.venue_order_id}, weight=5)
            report = with_fees(report, trades)
        return report

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        params = {"symbol": self._venue_symbol(symbol), "origClientOrderId": client_order_id}
        response = await self._call("DELETE", ORDER_PATH, params, retry=False)
        return self._report(response, ts_ack=self.clock())

    async def balances(self) -> BalanceSnapshot:
        response = await self._call("GET", ACCOUNT_PATH, {"omitZeroBalances": "true"}, weight=20)
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
        """allOrders and myTrades per symbol, in 24-hour windows from ``since_ns``."""
        out: list[OrderReport] = []
        now_ms = self.clock() // 1_000_000
        for symbol in symbols:
            venue_symbol = self._venue_symbol(symbol)
            orders: list[schemas.OrderResponse] = []
            trades: list[schemas.AccountTrade] = []
            start = max(since_ns // 1_000_000, now_ms - 7 * WINDOW_MS)
            while start <= now_ms:
                window = {"startTime": str(start), "endTime": str(start + WINDOW_MS - 1)}
                orders += await self._pages(ALL_ORDERS_PATH, venue_symbol, window,
                                            schemas.orders_decoder, "orderId",
                                            lambda o: o.orderId)  # fmt: skip
                trades += await self._pages(MY_TRADES_PATH, venue_symbol, window,
                                            schemas.trades_decoder, "fromId",
                                            lambda t: t.id)  # fmt: skip
                start += WINDOW_MS
            by_order: dict[int, list[schemas.AccountTrade]] = {}
            for trade in {t.id: t for t in trades}.values():
                by_order.setdefault(trade.orderId, []).append(trade)
            for order in {o.orderId: o for o in orders}.values():
                report = report_from_order(order, self._by_venue_symbol)
                out.append(with_fees(report, by_order.get(order.orderId, [])))
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: 32 characters of [0-9a-z], inside Binance's
        ``^[.A-Z:/a-z0-9_-]{1,36}$``."""
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

    async def _trades(self, symbol: str, params: dict[str, str], *, weight: float = 20.0
                      ) -> list[schemas.AccountTrade]:  # fmt: skip
        query = {"symbol": self._venue_symbol(symbol), **params, "limit": str(LIST_LIMIT)}
        response = await self._call("GET", MY_TRADES_PATH, query, weight=weight)
        return self._decode(schemas.trades_decoder, response, "trades")

    async def _pages(self, path: str, venue_symbol: str, window: dict[str, str],
                     decoder: msgspec.json.Decoder[list[T]], cursor: str,
                     row_id: Callable[[T], int]) -> list[T]:  # fmt: skip
        """Every row of one window: a full page continues from the last id + 1 (orderId for
        allOrders, fromId for myTrades: both go forward from the id given)."""
        rows: list[T] = []
        params = {"symbol": venue_symbol, **window, "limit": str(LIST_LIMIT)}
        for _ in range(MAX_PAGES):
            response = await self._call("GET", path, params, weight=20)
            page = self._decode(decoder, response, path.rsplit("/", 1)[-1])
            rows += page
            if len(page) < LIST_LIMIT:
                break
            next_id = row_id(page[-1]) + 1
            params = {"symbol": venue_symbol, cursor: str(next_id), "limit": str(LIST_LIMIT)}
        return rows

    @staticmethod
    def _decode(decoder: msgspec.json.Decoder[T], response: Response, kind: str) -> T:
        try:
            return decoder.decode(response.body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, kind, str(exc)) from None

    def _report(self, response: Response, *, ts_sent: int = 0, ts_ack: int = 0) -> OrderReport:
        try:
            order = schemas.order_decoder.decode(response.body)
            return report_from_order(order, self._by_venue_symbol, ts_sent=ts_sent, ts_ack=ts_ack)
        except (msgspec.ValidationError, msgspec.DecodeError, InvalidOperation) as exc:
            raise MalformedFrame(VENUE, "order", str(exc)) from None


def report_from_order(
    order: schemas.OrderResponse,
    by_venue_symbol: Mapping[str, str],
    *,
    ts_sent: int = 0,
    ts_ack: int = 0,
) -> OrderReport:
    """Binance's order answer as an OrderReport (exact decimal text throughout)."""
    executed = Decimal(order.executedQty)
    quote = Decimal(order.cummulativeQuoteQty)
    status = _STATUS.get(order.status)
    reason = ""
    if order.status == "EXPIRED":
        # IOC/FOK remainders expire by the type's rule: the order is done, cancelled.
        tif_done = order.timeInForce in ("IOC", "FOK")
        status = OrderStatus.CANCELED if tif_done else OrderStatus.EXPIRED
    elif order.status == "EXPIRED_IN_MATCH":
        reason = "expired by self-trade prevention"
    if status is None:
        status, reason = OrderStatus.UNKNOWN, f"unmapped Binance status {order.status!r}"
    fee = sum((Decimal(f.commission) for f in order.fills), Decimal(0))
    return OrderReport(
        venue=VENUE,
        symbol=by_venue_symbol.get(order.symbol, order.symbol),
        side=Side.BUY if order.side == "BUY" else Side.SELL,
        client_order_id=ClientOrderId(order.origClientOrderId or order.clientOrderId),
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(order.origQty),
        filled_size=decimal_text(executed),
        avg_price=decimal_text(quote / executed) if executed else "0",
        fee=decimal_text(fee),
        fee_asset=order.fills[0].commissionAsset if order.fills else "",
        venue_order_id=VenueOrderId(str(order.orderId)),
        reason=reason,
        ts_sent=ts_sent,
        ts_ack=ts_ack,
        quote_filled=decimal_text(quote) if quote >= 0 else "",
        ts_created=(order.time or order.transactTime) * 1_000_000,
    )


def with_fees(report: OrderReport, trades: Sequence[schemas.AccountTrade]) -> OrderReport:
    """``report`` with the fee of its fills from the trade list (same asset on every fill of
    one order; a mixed answer keeps the first asset's sum and says so)."""
    mine = [t for t in trades if str(t.orderId) == report.venue_order_id]
    if not mine:
        return report
    asset = mine[0].commissionAsset
    fee = sum((Decimal(t.commission) for t in mine if t.commissionAsset == asset), Decimal(0))
    mixed = any(t.commissionAsset != asset for t in mine)
    reason = report.reason or ("fees in several assets; only " + asset if mixed else "")
    return msgspec.structs.replace(report, fee=decimal_text(fee), fee_asset=asset, reason=reason)
