"""Binance spot private REST: IOC limit orders, order query/cancel by client id, balances.

Docs (https://developers.binance.com/docs/binance-spot-api-docs/rest-api):
- POST /api/v3/order (weight 1): type=LIMIT needs timeInForce, quantity, price;
  newOrderRespType=FULL returns the fills; newClientOrderId is "a unique id among open
  orders"; the server's legal range (its -1100 error text) is ``^[.A-Z:/a-z0-9_-]{1,36}$``:
  ids here use only [a-z0-9-], inside every version of that range;
- GET /api/v3/order (weight 4) and DELETE /api/v3/order (weight 1) by origClientOrderId;
- GET /api/v3/account (weight 20), ``omitZeroBalances=true``;
- Order status (enums.md): an IOC remainder ends as EXPIRED (normalised here to CANCELED with
  its filled size, as OrderStatus documents); EXPIRED_IN_MATCH is self-trade prevention.
Parameters travel in the query string, percent-encoded, then signed (signing.py).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar
from urllib.parse import urlencode

import msgspec
from arb_structs import (
    Balance,
    BalanceSnapshot,
    Instrument,
    OrderIntent,
    OrderReport,
    OrderStatus,
    Side,
)

from arb_venues.base import Credentials, SignRequest, TradingClient
from arb_venues.binance import schemas
from arb_venues.binance.numbers import decimal_text
from arb_venues.binance.signing import sign
from arb_venues.common.rest import Response, RestClient
from arb_venues.errors import BadRequest, MalformedFrame, UnknownSymbol

VENUE = "binance"
ORDER_PATH = "/api/v3/order"
ACCOUNT_PATH = "/api/v3/account"
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
_LEG = re.compile(r"[^a-z0-9]")


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
        self.clock = clock  # ns; a venue-synchronised clock keeps timestamps in recvWindow
        self._by_venue_symbol = {i.venue_symbol: i.symbol for i in instruments.values()}

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

    async def get_order(self, symbol: str, client_order_id: str) -> OrderReport:
        params = {"symbol": self._venue_symbol(symbol), "origClientOrderId": client_order_id}
        response = await self._call("GET", ORDER_PATH, params, weight=4)
        return self._report(response, ts_ack=self.clock())

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
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

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> str:
        """``arb-<leg>-<hex>``: deterministic, <= 36 chars, alphabet [a-z0-9-]."""
        tag = _LEG.sub("", leg.lower())[:8] or "leg"
        digest = hashlib.sha256(f"{opportunity_id}|{leg}".encode()).hexdigest()
        return f"arb-{tag}-{digest[: cls.client_order_id_max_len - len(tag) - 5]}"

    # -- internals ---------------------------------------------------------------------------

    def _venue_symbol(self, symbol: str) -> str:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(VENUE, f"{symbol}: no instrument loaded; refresh reference data")
        return instrument.venue_symbol

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
            request = SignRequest(method, path, query=base, timestamp_ms=self.clock() // 1_000_000)
            result = sign(self.credentials, request)
            return result.query, None, result.headers

        return await self.rest.request(
            method, path, bucket=bucket, weight=weight, retry=retry, sign=signed
        )

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
        client_order_id=order.origClientOrderId or order.clientOrderId,
        status=status,
        price=decimal_text(order.price),
        size=decimal_text(order.origQty),
        filled_size=decimal_text(executed),
        avg_price=decimal_text(quote / executed) if executed else "0",
        fee=decimal_text(fee),
        fee_asset=order.fills[0].commissionAsset if order.fills else "",
        venue_order_id=str(order.orderId),
        reason=reason,
        ts_sent=ts_sent,
        ts_ack=ts_ack,
    )
