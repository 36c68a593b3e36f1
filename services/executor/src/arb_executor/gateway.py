"""Where orders go: the OrderGateway protocol and paper fills (live mode: live.py).

PaperGateway fills an IOC limit order against the latest BookView of its venue (asks for
buys up to the limit, bids for sells down to it), after a configured latency, charging the
taker fee on the symbol's Instrument (``arb:ref:instruments:{venue}``, where ingest publishes
the fee the account pays: arb_venues.fees) in the quote asset; until ingest has published
one, the venue's default fee. It keeps balances in memory and rejects an order
the balance cannot pay for, like a venue would. It answers ``place`` twice with the same
client order id by returning the first order, as venues reject duplicate client ids. When the
book or the fee cannot be read (Redis away), it refuses the order (OrderRejected) before
anything is filled: the saga then settles with that leg not placed, as with a venue that
says no, instead of stopping half way with its journal left in ``sending``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Protocol

from arb_structs import (
    BalanceSnapshot,
    BookView,
    ClientOrderId,
    Instrument,
    OrderIntent,
    OrderReport,
    VenueOrderId,
)
from arb_structs.trading import Balance, OrderStatus, Side
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.errors import OrderRejected, UnknownOrder
from redis.exceptions import RedisError

from arb_executor.config import PAPER_ORDERS_KEPT

log = logging.getLogger("arb.executor")

ZERO = Decimal(0)

# (venue, symbol) -> latest view, or None when there is none.
BookSource = Callable[[str, str], Awaitable[BookView | None]]
# (venue, symbol) -> the instrument ingest published, or None when there is none yet.
InstrumentSource = Callable[[str, str], Awaitable[Instrument | None]]


class OrderGateway(Protocol):
    venue: str
    # Seconds after sending during which an order the venue does not know yet may still land
    # (the venue's request validity window); 0 = never (paper fills are synchronous).
    request_window_s: float
    # True while the venue does not answer: its opportunities are refused (live.py).
    degraded: bool

    async def place(self, intent: OrderIntent) -> OrderReport:
        """Send an order. RequestTimeout/VenueUnavailable: outcome unknown; query first."""

    async def get(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        """The order by client id; UnknownOrder when the venue has none."""

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport: ...

    def free(self, asset: str) -> Decimal:
        """Cached free balance of an asset (for the risk checks)."""

    async def snapshot(self) -> BalanceSnapshot:
        """Balances now, to publish after an execution."""


def split_symbol(symbol: str) -> tuple[str, str]:
    base, _, quote = symbol.partition("-")
    return base, quote


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


class PaperGateway:
    def __init__(
        self,
        venue: str,
        books: BookSource,
        *,
        balances: Mapping[str, Decimal] | None = None,
        instruments: InstrumentSource | None = None,
        latency_s: float = 0.0,
        fill_ratio: Decimal = Decimal(1),
        orders_kept: int = PAPER_ORDERS_KEPT,
    ) -> None:
        self.venue = venue
        self.orders_kept = orders_kept
        self.request_window_s = 0.0
        self.degraded = False
        self.books = books
        self.balances: dict[str, Decimal] = dict(balances or {})
        self.instruments = instruments
        self._defaulted: set[str] = set()  # symbols charged the venue default (logged once)
        self.latency_s = latency_s
        self.fill_ratio = fill_ratio
        self.orders: dict[str, OrderReport] = {}
        self.placed = 0  # place calls that created an order

    def free(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)

    async def snapshot(self) -> BalanceSnapshot:
        return BalanceSnapshot(
            venue=self.venue,
            balances={a: Balance(asset=a, free=str(v)) for a, v in self.balances.items()},
            ts=time.time_ns(),
        )

    async def get(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        try:
            return self.orders[client_order_id]
        except KeyError:
            raise UnknownOrder(self.venue, f"no order {client_order_id!r} on {symbol}") from None

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        return await self.get(symbol, client_order_id)  # IOC orders are already final

    async def place(self, intent: OrderIntent) -> OrderReport:
        ts_sent = time.time_ns()
        existing = self.orders.get(intent.client_order_id)
        if existing is not None:
            return existing
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        try:
            view = await self.books(self.venue, intent.symbol)
            fee_rate = await self.taker_fee(intent.symbol)
        except (RedisError, OSError) as exc:  # nothing filled, nothing recorded
            raise OrderRejected(self.venue, f"paper fill needs the latest book and fee from "
                                f"Redis, which did not answer ({exc or type(exc).__name__}); "
                                "nothing was placed") from exc  # fmt: skip
        report = self._fill(intent, view, ts_sent, fee_rate)
        orders = self.orders
        orders[intent.client_order_id] = report
        if len(orders) > self.orders_kept:
            del orders[next(iter(orders))]  # the oldest (dicts keep insertion order)
        self.placed += 1
        return report

    async def taker_fee(self, symbol: str) -> Decimal | None:
        """The fee fraction this account pays as taker on ``symbol``: its instrument's, else
        (nothing published yet) the venue's default; None when neither exists."""
        instrument = await self.instruments(self.venue, symbol) if self.instruments else None
        if instrument is not None:
            return Decimal(instrument.taker_fee)
        if self.venue not in VENUE_NAMES:
            return None
        if symbol not in self._defaulted:
            self._defaulted.add(symbol)
            log.warning("%s %s: no instrument published yet; charging the venue's default "
                        "taker fee", self.venue, symbol)  # fmt: skip
        return Decimal(get_venue(self.venue).taker_fee)

    def _fill(
        self, intent: OrderIntent, view: BookView | None, ts_sent: int, fee_rate: Decimal | None
    ) -> OrderReport:
        base, quote = split_symbol(intent.symbol)
        limit = Decimal(intent.price)
        wanted = Decimal(intent.size) * self.fill_ratio
        buy = intent.side is Side.BUY
        filled = notional = ZERO
        if view is not None:
            for price_f, size_f in view.asks if buy else view.bids:
                price = _dec(price_f)
                if (price > limit) if buy else (price < limit):
                    break
                take = min(_dec(size_f), wanted - filled)
                filled += take
                notional += take * price
                if filled >= wanted:
                    break
        common = dict(venue=self.venue, symbol=intent.symbol, side=intent.side,
                      client_order_id=intent.client_order_id, price=intent.price,
                      size=intent.size, ts_sent=ts_sent)  # fmt: skip
        if fee_rate is None:
            return OrderReport(**common, status=OrderStatus.REJECTED,  # type: ignore[arg-type]
                               reason=f"unknown symbol {intent.symbol}: no instrument",
                               ts_ack=time.time_ns())  # fmt: skip
        fee = notional * fee_rate
        if buy and notional + fee > self.free(quote):
            return OrderReport(**common, status=OrderStatus.REJECTED,  # type: ignore[arg-type]
                               reason=f"insufficient {quote}", ts_ack=time.time_ns())  # fmt: skip
        if not buy and filled > self.free(base):
            return OrderReport(**common, status=OrderStatus.REJECTED,  # type: ignore[arg-type]
                               reason=f"insufficient {base}", ts_ack=time.time_ns())  # fmt: skip
        if filled:
            sign = 1 if buy else -1
            self.balances[base] = self.free(base) + sign * filled
            self.balances[quote] = self.free(quote) - sign * notional - fee
        status = OrderStatus.FILLED if filled == Decimal(intent.size) else OrderStatus.CANCELED
        return OrderReport(
            **common,  # type: ignore[arg-type]
            status=status,
            filled_size=str(filled),
            avg_price=str(notional / filled) if filled else "0",
            fee=str(fee),
            fee_asset=quote,
            venue_order_id=VenueOrderId(f"paper-{intent.client_order_id}"),
            ts_ack=time.time_ns(),
        )
