"""Bitget v2 spot private REST: IOC limit orders, order query/cancel by clientOid, balances.

Docs (https://www.bitget.com/api-doc/spot/):
- trade/Place-Order: ``POST /api/v2/spot/trade/place-order`` with symbol, side, orderType
  ``limit``, force ``ioc`` | ``fok`` | ``gtc``, price, size (base quantity for limit
  orders), clientOid; answers ``{"orderId", "clientOid"}`` only (10 requests/s per UID), so
  the fill is read back with orderInfo.
- trade/Get-Order-Info: ``GET /api/v2/spot/trade/orderInfo?clientOid=`` -> a list of one
  order: status live | partially_filled | filled | cancelled, baseVolume (filled), quoteVolume,
  priceAvg, feeDetail (a JSON text: per fee coin its ``totalFee``, negative when charged),
  cTime (20 requests/s per UID).
- trade/Cancel-Order: ``POST /api/v2/spot/trade/cancel-order`` {symbol, clientOid}; the state
  is read back after it (an IOC is done before a cancel can reach it).
- account/Get-Account-Assets: ``GET /api/v2/spot/account/assets`` available / frozen / locked
  (10 requests/s per UID).
- trade/Get-History-Orders (``/api/v2/spot/trade/history-orders?startTime=&limit=100``,
  newest first, paged with ``idLessThan=<orderId>``) and trade/Get-Unfilled-Orders
  (``/api/v2/spot/trade/unfilled-orders``): the reconciliation's order history.

clientOid: the engine's ``arb`` + group + hash ids, 32 characters of [0-9a-z] (Bitget refuses
ids over 40 characters or of other characters with 40305). Queries are sent with their keys in
ascending order (one revision of the signature page asks for it; signing.py).
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
from arb_venues.bitget import schemas
from arb_venues.bitget.signing import sign
from arb_venues.common.clientids import text_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.errors import MalformedFrame, OrderRejected, UnknownOrder, VenueError

VENUE = "bitget"
FORCES = {"IOC": "ioc", "FOK": "fok", "GTC": "gtc"}
STATES = {
    "live": OrderStatus.NEW,
    "new": OrderStatus.NEW,
    "init": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "canceled": OrderStatus.CANCELED,
}
PLACE_PATH = "/api/v2/spot/trade/place-order"
INFO_PATH = "/api/v2/spot/trade/orderInfo"
CANCEL_PATH = "/api/v2/spot/trade/cancel-order"
ASSETS_PATH = "/api/v2/spot/account/assets"
HISTORY_PATH = "/api/v2/spot/trade/history-orders"
UNFILLED_PATH = "/api/v2/spot/trade/unfilled-orders"
HISTORY_LIMIT = 100
HISTORY_MAX_PAGES = 20


def query_string(params: Mapping[str, str]) -> str:
    """``k=v&...`` with the keys in ascending order, as signed and sent."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params))


def fee_of(detail: str) -> tuple[str, str]:
    """``(cost, coin)`` of an order's ``feeDetail`` text: the charged fee as a positive cost.
    Entries of the newer ``newFees`` summary are skipped (they repeat the per-coin ones)."""
    if not detail:
        return "0", ""
    try:
        entries = schemas.FEE_DETAIL.decode(detail)
    except msgspec.DecodeError:
        return "0", ""
    total, coin = Decimal(0), ""
    for key, value in entries.items():
        if key == "newFees" or not isinstance(value, dict):
            continue
        try:
            entry = schemas.COIN_FEE.decode(msgspec.json.encode(value))
            total -= Decimal(str(entry.totalFee))
        except (msgspec.DecodeError, InvalidOperation):
            continue
        coin = coin or entry.feeCoinCode or key
    return ("0" if total == 0 else format(total.normalize(), "f")), coin


class BitgetTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 32
    # ACCESS-TIMESTAMP more than 30 s from the server's clock: 40008 (signing.py).
    request_window_s: ClassVar[float] = 30.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "orders": BucketLimit(10, 10),  # place-order, cancel-order: 10 / s (UID)
        "queries": BucketLimit(10, 10),  # assets 10 / s; orderInfo, history 20 / s (UID)
    }

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        return text_client_order_id(opportunity_id, leg, cls.client_order_id_max_len)

    def _symbol(self, symbol: str) -> str:
        instrument = self.instruments.get(symbol)
        return instrument.venue_symbol if instrument is not None else symbol.replace("-", "")

    def _signer(
        self, method: str, path: str, query: str, body: str
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
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: object = None,
        bucket: str = "queries",
        retry: bool = True,
    ) -> msgspec.Raw:
        query = query_string(params or {})
        body = msgspec.json.encode(payload).decode() if payload is not None else ""
        response = await self.rest.request(
            method,
            path,
            query=query,
            retry=retry,
            bucket=bucket,
            sign=self._signer(method, path, query, body),
        )
        try:
            envelope = schemas.REST_ENVELOPE.decode(response.body)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest", f"{method} {path}: {exc}") from exc
        return envelope.data

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        force = FORCES.get(intent.time_in_force.upper())
        if intent.order_type != "limit" or force is None:
            raise OrderRejected(
                VENUE,
                f"{intent.client_order_id}: {intent.order_type} "
                f"{intent.time_in_force} is not supported; use limit IOC",
            )
        payload = {
            "symbol": self._symbol(intent.symbol),
            "side": intent.side.value,
            "orderType": "limit",
            "force": force,
            "price": intent.price,
            "size": intent.size,
            "clientOid": intent.client_order_id,
        }
        ts_sent = time.time_ns()
        data = await self._call("POST", PLACE_PATH, payload=payload, bucket="orders", retry=False)
        ts_ack = time.time_ns()
        try:
            order_id = schemas.ORDER_ACK.decode(data).orderId if schemas.present(data) else ""
        except msgspec.DecodeError:
            order_id = ""
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
        data = await self._call("GET", INFO_PATH, params={"clientOid": client_order_id})
        rows = schemas.ORDER_INFOS.decode(data) if schemas.present(data) else []
        if not rows:
            raise UnknownOrder(
                VENUE, f"order {client_order_id}: the venue has none", api_code="43001"
            )
        return self._report(symbol, rows[0])

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        payload = {"symbol": self._symbol(symbol), "clientOid": client_order_id}
        try:
            await self._call("POST", CANCEL_PATH, payload=payload, bucket="orders")
        except (OrderRejected, UnknownOrder):
            pass  # already done (filled / cancelled) or missing: the read-back says which
        return await self.get_order(symbol, client_order_id)

    async def balances(self) -> BalanceSnapshot:
        data = await self._call("GET", ASSETS_PATH)
        rows = schemas.ASSETS.decode(data) if schemas.present(data) else []
        balances = {}
        for row in rows:
            try:
                locked = Decimal(row.frozen or "0") + Decimal(row.locked or "0")
            except InvalidOperation as exc:
                raise MalformedFrame(VENUE, "rest", f"assets {row.coin}: {exc}") from exc
            text = "0" if locked == 0 else format(locked.normalize(), "f")
            balances[row.coin] = Balance(asset=row.coin, free=row.available or "0", locked=text)
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_venue = {self._symbol(s): s for s in symbols}
        since = str(since_ns // 1_000_000)
        rows: dict[str, schemas.OrderInfo] = {}
        for path in (HISTORY_PATH, UNFILLED_PATH):
            rows.update((r.orderId, r) for r in await self._paged(path, since))
        return [self._report(by_venue[r.symbol], r) for r in rows.values() if r.symbol in by_venue]

    async def _paged(self, path: str, since: str) -> list[schemas.OrderInfo]:
        """Every row of one order list since ``since`` (ms), newest first, paged with
        ``idLessThan`` (the oldest order id of the page before)."""
        rows: list[schemas.OrderInfo] = []
        before = ""
        for _ in range(HISTORY_MAX_PAGES):
            params = {"startTime": since, "limit": str(HISTORY_LIMIT)}
            if before:
                params["idLessThan"] = before
            data = await self._call("GET", path, params=params)
            page = schemas.ORDER_INFOS.decode(data) if schemas.present(data) else []
            rows += page
            if len(page) < HISTORY_LIMIT:
                break
            before = page[-1].orderId
        return rows

    def _report(self, symbol: str, row: schemas.OrderInfo) -> OrderReport:
        fee, fee_asset = fee_of(row.feeDetail)
        return OrderReport(
            venue=VENUE,
            symbol=symbol,
            side=Side(row.side),
            client_order_id=ClientOrderId(row.clientOid),
            status=STATES.get(row.status, OrderStatus.UNKNOWN),
            price=row.price,
            size=row.size,
            filled_size=row.baseVolume or "0",
            avg_price=row.priceAvg or "0",
            quote_filled=row.quoteVolume or "",
            fee=fee,
            fee_asset=fee_asset,
            venue_order_id=VenueOrderId(row.orderId),
            ts_created=(int(row.cTime) if row.cTime.isdigit() else 0) * 1_000_000,
        )
