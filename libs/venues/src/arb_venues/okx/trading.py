"""OKX v5 private REST: IOC limit orders, order query/cancel by clOrdId, balances.

Docs (https://www.okx.com/docs-v5/en/):
- #order-book-trading-trade-post-place-order: ``POST /api/v5/trade/order`` with instId,
  tdMode ``cash`` (spot), side, ordType ``ioc``, px, sz, clOrdId ("case-sensitive
  alphanumerics ... up to 32 characters"). The answer only acknowledges (sCode "0"); the fill
  is read back with GET order.
- #order-book-trading-trade-get-order-details: ``GET /api/v5/trade/order?instId=&clOrdId=``;
  state live | partially_filled | filled | canceled | mmp_canceled; ``fee`` is negative
  when charged.
- #order-book-trading-trade-post-cancel-order: ``POST /api/v5/trade/cancel-order``; sCode 0
  only means "accepted", so the state is read back too.
- #trading-account-rest-api-get-balance: ``GET /api/v5/account/balance`` details[].availBal
  / frozenBal.
- #order-book-trading-trade-get-order-history-last-7-days: ``GET /api/v5/trade/orders-history
  ?instType=SPOT&begin=<ms>&limit=100``, newest first, paged with ``after=<ordId>``
  (records older than that order); rows as in GET order (fee, feeCcy, cTime). Open orders
  are not in it: ``GET /api/v5/trade/orders-pending?instType=SPOT``
  (#order-book-trading-trade-get-order-list). 40 requests / 2 s each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import (
    Balance,
    BalanceSnapshot,
    ClientOrderId,
    OrderIntent,
    OrderReport,
    OrderStatus,
    Side,
    VenueOrderId,
)

from arb_venues.base import SignRequest, TradingClient
from arb_venues.common.clientids import text_client_order_id
from arb_venues.errors import MalformedFrame, OrderRejected, VenueError
from arb_venues.okx import schemas
from arb_venues.okx.signing import sign

VENUE = "okx"
ORDER_TYPES = {"IOC": "ioc", "FOK": "fok", "GTC": "limit"}
STATES = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}
CANCEL_NOT_POSSIBLE = "51400"  # already filled, canceled, or does not exist
HISTORY_LIMIT = 100
HISTORY_MAX_PAGES = 20


def fee_cost(fee: str) -> str:
    """OKX's signed fee (negative = charged) as a cost (positive = paid)."""
    try:
        cost = -Decimal(fee or "0")
    except InvalidOperation:
        return "0"
    return "0" if cost == 0 else format(cost.normalize(), "f")


class OkxTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 32
    # OK-ACCESS-TIMESTAMP: a request older than 30 s is refused (50102). Docs:
    # https://www.okx.com/docs-v5/en/#overview-rest-authentication
    request_window_s: ClassVar[float] = 30.0

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + leg hash: alphanumeric, 32 long (clOrdId's limit)."""
        return text_client_order_id(opportunity_id, leg, cls.client_order_id_max_len)

    def _inst_id(self, symbol: str) -> str:
        instrument = self.instruments.get(symbol)
        return instrument.venue_symbol if instrument is not None else symbol

    def _signer(
        self, method: str, path: str, query: str = "", body: str = ""
    ) -> Callable[[], tuple[str, bytes | str | None, Mapping[str, str]]]:
        def signer() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            signed = sign(
                self.credentials,
                SignRequest(
                    method=method,
                    path=path,
                    query=query,
                    body=body,
                    timestamp_ms=self.rest.clock.now_ms(),
                ),
            )
            return signed.query, (body or None), signed.headers

        return signer

    async def _call(
        self, method: str, path: str, *, query: str = "", payload: object = None, retry: bool = True
    ) -> msgspec.Raw:
        body = msgspec.json.encode(payload).decode() if payload is not None else ""
        response = await self.rest.request(
            method,
            path,
            query=query,
            retry=retry,
            bucket="private",
            sign=self._signer(method, path, query, body),
        )
        try:
            envelope = schemas.REST_ENVELOPE.decode(response.body)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest", f"{method} {path}: {exc}") from exc
        if not schemas.present(envelope.data):
            raise MalformedFrame(VENUE, "rest", f"{method} {path}: no data")
        return envelope.data

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        inst_id = self._inst_id(intent.symbol)
        order_type = ORDER_TYPES.get(intent.time_in_force.upper())
        if intent.order_type != "limit" or order_type is None:
            raise OrderRejected(
                VENUE,
                f"{intent.client_order_id}: {intent.order_type} "
                f"{intent.time_in_force} is not supported; use limit IOC",
            )
        payload = {
            "instId": inst_id,
            "tdMode": "cash",
            "side": intent.side.value,
            "ordType": order_type,
            "px": intent.price,
            "sz": intent.size,
            "clOrdId": intent.client_order_id,
        }
        ts_sent = time.time_ns()
        data = await self._call("POST", "/api/v5/trade/order", payload=payload, retry=False)
        acks = schemas.ORDER_ACKS.decode(data)
        ts_ack = time.time_ns()
        order_id = acks[0].ordId if acks else ""
        try:
            report = await self.get_order(intent.symbol, intent.client_order_id)
        except VenueError as exc:  # accepted, but its fills are not known yet
            return OrderReport(
                venue=VENUE,
                symbol=intent.symbol,
                side=intent.side,
                client_order_id=intent.client_order_id,
                status=OrderStatus.UNKNOWN,
                price=intent.price,
                size=intent.size,
                venue_order_id=VenueOrderId(order_id),
                reason=f"accepted; state not read back: {exc}",
                ts_sent=ts_sent,
                ts_ack=ts_ack,
            )
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        query = f"instId={self._inst_id(symbol)}&clOrdId={client_order_id}"
        data = await self._call("GET", "/api/v5/trade/order", query=query)
        details = schemas.ORDER_DETAILS.decode(data)
        if not details:
            raise MalformedFrame(VENUE, "rest", f"order {client_order_id}: empty answer")
        return self._report(symbol, details[0])

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        payload = {"instId": self._inst_id(symbol), "clOrdId": client_order_id}
        try:
            await self._call("POST", "/api/v5/trade/cancel-order", payload=payload)
        except VenueError as exc:
            if str(exc.api_code) != CANCEL_NOT_POSSIBLE:
                raise
        return await self.get_order(symbol, client_order_id)

    async def balances(self) -> BalanceSnapshot:
        data = await self._call("GET", "/api/v5/account/balance")
        accounts = schemas.ACCOUNT_BALANCES.decode(data)
        balances = {
            d.ccy: Balance(asset=d.ccy, free=d.availBal or "0", locked=d.frozenBal or "0")
            for account in accounts
            for d in account.details
        }
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_inst = {self._inst_id(s): s for s in symbols}
        since_ms = since_ns // 1_000_000
        rows: dict[str, schemas.OrderDetail] = {}
        after = ""
        for _ in range(HISTORY_MAX_PAGES):
            query = f"instType=SPOT&begin={since_ms}&limit={HISTORY_LIMIT}"
            if after:
                query += f"&after={after}"
            page = schemas.ORDER_DETAILS.decode(
                await self._call("GET", "/api/v5/trade/orders-history", query=query)
            )
            rows.update((d.ordId, d) for d in page)
            if len(page) < HISTORY_LIMIT:
                break
            after = page[-1].ordId
        pending = schemas.ORDER_DETAILS.decode(
            await self._call("GET", "/api/v5/trade/orders-pending", query="instType=SPOT")
        )
        rows.update((d.ordId, d) for d in pending if _millis(d.cTime) >= since_ms)
        return [self._report(by_inst[d.instId], d) for d in rows.values() if d.instId in by_inst]

    def _report(self, symbol: str, detail: schemas.OrderDetail) -> OrderReport:
        return OrderReport(
            venue=VENUE,
            symbol=symbol,
            side=Side(detail.side),
            client_order_id=ClientOrderId(detail.clOrdId),
            status=STATES.get(detail.state, OrderStatus.UNKNOWN),
            price=detail.px,
            size=detail.sz,
            filled_size=detail.accFillSz or "0",
            avg_price=detail.avgPx or "0",
            fee=fee_cost(detail.fee),
            fee_asset=detail.feeCcy,
            venue_order_id=VenueOrderId(detail.ordId),
            ts_created=_millis(detail.cTime) * 1_000_000,
        )


def _millis(text: str) -> int:
    return int(text) if text.isdigit() else 0
