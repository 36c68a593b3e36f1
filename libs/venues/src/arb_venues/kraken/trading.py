"""Kraken spot private REST: IOC limit orders, order lookup by ``cl_ord_id``, cancel, balances.

Every call is ``POST /0/private/<Method>`` with a form body carrying an increasing ``nonce``,
signed per signing.py. https://docs.kraken.com/api/docs/rest-api/add-order,
.../get-open-orders and .../get-closed-orders (``cl_ord_id`` filter), .../cancel-order
(``cl_ord_id``), .../get-account-balance. Client ids: ``cl_ord_id`` takes a UUID (36 chars
with dashes), 32 hex chars, or free text up to 18 chars; uniqueness is enforced across open
orders (https://docs.kraken.com/api/docs/guides/spot-clordid): we send the engine's UUID.
Listing (reconciliation): ClosedOrders with ``start`` (a unix time, exclusive) pages by
``ofs``, 50 orders a page, and answers ``count`` (.../get-closed-orders); OpenOrders the rest.
Budgets (https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits): every private call
adds 1 to the key's counter (ledger/trade history 2; ClosedOrders is counted as 2 here), which
decays by 0.33/s on the starter tier (15 max), "except AddOrder, CancelOrder which operate on
a different limiter": the matching engine's per-pair counter (+1 per order, decaying about
1/s; .../guides/spot-ratelimits). So orders take the ``trading`` bucket, never waiting behind
balance reads and listings, and the reconciliation lists this account once a minute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

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
from arb_venues.common.clientids import uuid_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.errors import MalformedFrame, UnknownOrder, UnknownSymbol, VenueError
from arb_venues.kraken import schemas
from arb_venues.kraken import symbols as kraken_symbols
from arb_venues.kraken.signing import sign

VENUE = "kraken"
T = TypeVar("T")
CLOSED_PAGE = 50  # ClosedOrders answers at most 50 orders per call
CLOSED_MAX_PAGES = 20


DEADLINE_S = 5  # AddOrder deadline after now (s): the smallest every doc version accepts


def deadline(now_s: float) -> str:
    """AddOrder's ``deadline``: RFC3339 UTC, whole seconds, DEADLINE_S after the next second."""
    moment = datetime.fromtimestamp(math.ceil(now_s) + DEADLINE_S, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class KrakenTrading(TradingClient):
    venue = VENUE
    client_order_id_max_len: ClassVar[int] = 36
    # The nonce must exceed the last accepted one, so a late AddOrder is refused once a later
    # call was accepted ("EAPI:Invalid nonce"), unless the key has a nonce window. AddOrder
    # also takes ``deadline`` (RFC3339) "after which the matching engine should reject the
    # new order request", between now + 2 s (older docs: 5 s) and now + 60 s; it is sent as
    # the next whole second + DEADLINE_S, so the window is at most DEADLINE_S + 1. Docs:
    # https://docs.kraken.com/api/docs/guides/spot-rest-auth
    # https://docs.kraken.com/api/docs/rest-api/add-order
    request_window_s: ClassVar[float] = DEADLINE_S + 1.0
    nonce_ordered: ClassVar[bool] = True  # the nonce must grow with every request of the key
    reconcile_min_interval_s: ClassVar[float] = 60.0  # what the starter tier's counter affords
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"trading": BucketLimit(20, 1.0)}

    _last_nonce = 0

    def _nonce(self) -> str:
        """Strictly increasing per client (microseconds; Kraken wants it per API key)."""
        nonce = max(time.time_ns() // 1_000, self._last_nonce + 1)
        self._last_nonce = nonce
        return str(nonce)

    async def _post(self, method: str, fields: dict[str, str], *, retry: bool = True,
                    weight: float = 1.0) -> bytes:  # fmt: skip
        path = f"/0/private/{method}"
        bucket = "trading" if method in ("AddOrder", "CancelOrder") else "private"

        def signer() -> tuple[str, str, dict[str, str]]:
            body = urlencode({"nonce": self._nonce(), **fields})
            signed = sign(self.credentials, SignRequest(method="POST", path=path, body=body))
            return "", body, signed.headers

        async with self.in_nonce_order():
            response = await self.rest.request("POST", path, sign=signer, retry=retry,
                                               bucket=bucket, weight=weight)  # fmt: skip
        return response.body

    def _pair(self, symbol: str) -> str:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(VENUE, f"no kraken instrument for {symbol}; load instruments")
        return kraken_symbols.rest_pair(instrument.venue_symbol)

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        fields = {
            "ordertype": "limit",
            "type": intent.side.value,
            "volume": intent.size,
            "pair": self._pair(intent.symbol),
            "price": intent.price,
            "timeinforce": intent.time_in_force,
            "cl_ord_id": intent.client_order_id,
            "deadline": deadline(self.rest.clock.now_ns() / 1e9),
        }
        ts_sent = time.time_ns()
        body = await self._post("AddOrder", fields, retry=False)
        added = _decode(schemas.ADD_ORDER, body, "add_order")
        ts_ack = time.time_ns()
        txid = added.result.txid[0] if added.result and added.result.txid else ""
        try:  # AddOrder answers only the txid: read the outcome of the IOC order
            report = (
                await self._query_txid(intent.symbol, txid, intent.client_order_id)
                if txid
                else None
            )
        except VenueError as exc:
            report = None
            reason = f"placed as {txid}; outcome not read yet: {exc}"
        else:
            reason = "" if report else f"placed as {txid!r}; not found by QueryOrders yet"
        if report is None:
            return OrderReport(
                venue=VENUE,
                symbol=intent.symbol,
                side=intent.side,
                client_order_id=intent.client_order_id,
                status=OrderStatus.UNKNOWN,
                price=intent.price,
                size=intent.size,
                venue_order_id=VenueOrderId(txid),
                reason=reason,
                ts_sent=ts_sent,
                ts_ack=ts_ack,
            )
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def _query_txid(self, symbol: str, txid: str, client_order_id: str) -> OrderReport | None:
        body = await self._post("QueryOrders", {"txid": txid, "trades": "false"})
        orders = _decode(schemas.QUERY_ORDERS, body, "query_orders").result
        info = orders.get(txid)
        quote = self._quote(symbol)
        return _report(symbol, txid, info, quote, client_order_id) if info else None

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        """ClosedOrders then OpenOrders, filtered by ``cl_ord_id`` (an IOC closes at once)."""
        body = await self._post("ClosedOrders", {"cl_ord_id": client_order_id})
        closed = _decode(schemas.CLOSED_ORDERS, body, "closed_orders").result.closed
        found = _by_client_id(closed, client_order_id)
        if found is None:
            body = await self._post("OpenOrders", {"cl_ord_id": client_order_id})
            still_open = _decode(schemas.OPEN_ORDERS, body, "open_orders").result.open
            found = _by_client_id(still_open, client_order_id)
        if found is None:
            raise UnknownOrder(VENUE, f"no order with cl_ord_id {client_order_id} ({symbol})")
        txid, info = found
        return _report(symbol, txid, info, self._quote(symbol), client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        body = await self._post("CancelOrder", {"cl_ord_id": client_order_id}, retry=False)
        _decode(schemas.CANCEL_ORDER, body, "cancel_order")
        return await self.get_order(symbol, client_order_id)

    async def balances(self) -> BalanceSnapshot:
        body = await self._post("Balance", {})
        raw = _decode(schemas.BALANCE, body, "balance").result
        balances: dict[str, Balance] = {}
        for code, amount in raw.items():
            if "." in code:  # XBT.F, ETH.S...: earn/staking balances, not spot-tradable
                continue
            name = kraken_symbols.asset(code)
            balances[name] = Balance(asset=name, free=amount, locked="0")
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        by_pair = {self._pair(s): s for s in symbols}
        start = f"{max(since_ns - 1, 0) / 1e9:.6f}"  # exclusive: a hair before since_ns
        found: dict[str, schemas.OrderInfo] = {}
        for page in range(CLOSED_MAX_PAGES):
            fields = {"start": start, "ofs": str(page * CLOSED_PAGE)}
            body = await self._post("ClosedOrders", fields, weight=2.0)
            closed = _decode(schemas.CLOSED_ORDERS, body, "closed_orders").result
            found.update(closed.closed)
            if len(closed.closed) < CLOSED_PAGE or (page + 1) * CLOSED_PAGE >= closed.count:
                break
        body = await self._post("OpenOrders", {})
        still_open = _decode(schemas.OPEN_ORDERS, body, "open_orders").result.open
        found.update((t, i) for t, i in still_open.items() if i.opentm * 1e9 >= since_ns)
        out = []
        for txid, info in found.items():
            symbol = by_pair.get(info.descr.pair)
            if symbol is not None:
                out.append(_report(symbol, txid, info, self._quote(symbol), info.cl_ord_id or ""))
        return out

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        return uuid_client_order_id(opportunity_id, leg)

    def _quote(self, symbol: str) -> str:
        instrument = self.instruments.get(symbol)
        return instrument.quote if instrument else symbol.partition("-")[2]


def _decode(decoder: msgspec.json.Decoder[T], body: bytes, kind: str) -> T:
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, kind, f"{exc}: {body[:200]!r}") from exc


def _by_client_id(
    orders: dict[str, schemas.OrderInfo], client_order_id: str
) -> tuple[str, schemas.OrderInfo] | None:
    for txid, info in orders.items():
        if info.cl_ord_id in (client_order_id, None):  # None: the venue filtered for us
            return txid, info
    return None


def _report(
    symbol: str, txid: str, info: schemas.OrderInfo, quote: str, client_order_id: str = ""
) -> OrderReport:
    try:
        size = Decimal(info.vol)
        filled = Decimal(info.vol_exec)
    except InvalidOperation as exc:
        raise MalformedFrame(
            VENUE, "order", f"vol={info.vol!r} vol_exec={info.vol_exec!r}"
        ) from exc
    status = _STATUS.get(info.status, OrderStatus.UNKNOWN)
    if status is OrderStatus.NEW and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and filled < size:
        status = OrderStatus.CANCELED  # closed short of its size: the IOC remainder
    return OrderReport(
        venue=VENUE,
        symbol=symbol,
        side=Side(info.descr.type or "buy"),
        client_order_id=ClientOrderId(info.cl_ord_id or client_order_id),
        status=status,
        price=info.descr.price,
        size=info.vol,
        filled_size=info.vol_exec,
        avg_price=info.price,
        fee=info.fee,
        fee_asset=quote,
        venue_order_id=VenueOrderId(txid),
        reason=info.reason or "",
        quote_filled=info.cost if filled else "",
        ts_created=int(info.opentm * 1e9),
    )


_STATUS = {
    "pending": OrderStatus.NEW,
    "open": OrderStatus.NEW,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
