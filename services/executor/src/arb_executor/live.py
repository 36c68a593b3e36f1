"""Live mode: a venue's TradingClient behind the OrderGateway protocol.

What the saga relies on, and how LiveGateway keeps it true for every venue:

- ``place`` raises RequestTimeout or VenueUnavailable only when the order may exist (no
  answer, 5xx, connection lost after sending, an answer we cannot read): the saga then
  queries by client id before anything else. An answer we cannot parse is mapped to
  VenueUnavailable for that reason (the venue did answer, so the order may be live).
- A venue's "duplicate client order id" rejection means the order exists: ``place`` answers
  with the existing order (queried by client id) instead of an error.
- RateLimited (429/418 or a venue rate-limit code) means the request was not processed;
  it carries ``retry_after_s``; the REST client's limiter holds every later request of the
  venue until then.
- Balances: ``free`` reads a cache that ``snapshot`` refreshes from REST (after each
  execution and periodically) and that fills adjust at once, so the next opportunity's risk
  check sees the money a fill just spent.
- Degraded: a venue whose balance read fails (down, or slower than the start timeout) is
  ``degraded``: intake refuses its opportunities until a read succeeds again. One that has no
  instruments yet (REST down at start) loads them again before its next read (``loader``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from arb_structs import BalanceSnapshot, ClientOrderId, Instrument, OrderIntent, OrderReport
from arb_structs.trading import Side
from arb_venues.base import TradingClient
from arb_venues.errors import (
    MalformedFrame,
    OrderRejected,
    RequestTimeout,
    VenueError,
    VenueUnavailable,
)

from arb_executor import metrics
from arb_executor.gateway import split_symbol

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)
T = TypeVar("T")


def _dec(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return ZERO


class LiveGateway:
    """One venue account over its TradingClient (signed REST)."""

    def __init__(self, client: TradingClient, *, call_timeout_s: float = 10.0,
                 loader: Callable[[], Awaitable[dict[str, Instrument]]] | None = None,
                 ) -> None:  # fmt: skip
        self.client = client
        self.venue = client.venue
        self.request_window_s = client.request_window_s
        self.call_timeout_s = call_timeout_s  # a backstop above the REST client's own timeout
        self.loader = loader  # reloads the instruments when the first load failed
        self._free: dict[str, Decimal] = {}
        self.balances_ts = 0  # ns of the last REST snapshot; 0 = never
        self.placed = 0
        self.degraded = False
        self.degraded_reason = ""

    def set_degraded(self, reason: str) -> None:
        if not self.degraded:
            log.error("%s: degraded, its opportunities are refused until it answers: %s",
                      self.venue, reason)  # fmt: skip
        self.degraded, self.degraded_reason = True, reason
        metrics.VENUE_DEGRADED.labels(self.venue).set(1)

    def set_ready(self) -> None:
        if self.degraded:
            log.warning("%s: answers again; trading it", self.venue)
        self.degraded, self.degraded_reason = False, ""
        metrics.VENUE_DEGRADED.labels(self.venue).set(0)

    # -- balances -------------------------------------------------------------------------

    def free(self, asset: str) -> Decimal:
        return self._free.get(asset, ZERO)

    async def snapshot(self) -> BalanceSnapshot:
        """Balances from REST; a failure marks the venue degraded, a success ready again."""
        try:
            if not self.client.instruments and self.loader is not None:
                self.client.instruments = await self.loader()
            snap = await self._guard("balances", self.client.balances())
        except VenueError as exc:
            self.set_degraded(str(exc))
            raise
        self._free = {asset: _dec(b.free) for asset, b in snap.balances.items()}
        self.balances_ts = snap.ts or time.time_ns()
        self.set_ready()
        return snap

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """The account's orders since ``since_ns`` as the venue lists them (reconciliation)."""
        known = [s for s in symbols if s in self.client.instruments]
        try:
            return await self._guard("orders", self.client.recent_orders(known, since_ns))
        except MalformedFrame as exc:
            raise VenueUnavailable(self.venue, f"order listing: {exc}") from exc

    def _apply_fill(self, report: OrderReport) -> None:
        """Move the cached balances by a fill at once (REST confirms them later)."""
        size = _dec(report.filled_size)
        if not size:
            return
        base, quote = split_symbol(report.symbol)
        notional = size * _dec(report.avg_price)
        fee = _dec(report.fee)
        fee_in_quote = report.fee_asset in ("", quote)
        if report.side is Side.BUY:
            self._free[base] = self.free(base) + size - (ZERO if fee_in_quote else fee)
            self._free[quote] = self.free(quote) - notional - (fee if fee_in_quote else ZERO)
        else:
            self._free[base] = self.free(base) - size
            self._free[quote] = self.free(quote) + notional - (fee if fee_in_quote else ZERO)

    # -- orders ---------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument | None:
        return self.client.instruments.get(symbol)

    async def place(self, intent: OrderIntent) -> OrderReport:
        try:
            report = await self._guard("place", self.client.place_order(intent))
        except MalformedFrame as exc:  # the venue answered: the order may well exist
            metrics.ORDERS.labels(self.venue, "ambiguous").inc()
            raise VenueUnavailable(
                self.venue, f"order {intent.client_order_id}: unreadable answer ({exc})"
            ) from exc
        except OrderRejected as exc:
            if "duplicat" not in str(exc).lower():
                metrics.ORDERS.labels(self.venue, type(exc).__name__).inc()
                raise
            # The client id is already taken: by this very order (a retry after a lost answer).
            log.warning("%s: %s already placed; reading it", self.venue, intent.client_order_id)
            report = await self.get(intent.symbol, intent.client_order_id)
            metrics.ORDERS.labels(self.venue, "duplicate").inc()
            return report
        except (RequestTimeout, VenueUnavailable):
            metrics.ORDERS.labels(self.venue, "ambiguous").inc()
            raise
        except VenueError as exc:
            metrics.ORDERS.labels(self.venue, type(exc).__name__).inc()
            raise
        self.placed += 1
        metrics.ORDERS.labels(self.venue, report.status.value).inc()
        self._apply_fill(report)
        return report

    async def get(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        try:
            return await self._guard("get", self.client.get_order(symbol, client_order_id))
        except MalformedFrame as exc:
            raise VenueUnavailable(self.venue, f"order {client_order_id}: {exc}") from exc

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        try:
            return await self._guard("cancel", self.client.cancel_order(symbol, client_order_id))
        except MalformedFrame as exc:
            raise VenueUnavailable(self.venue, f"order {client_order_id}: {exc}") from exc

    async def _guard(self, what: str, call: Awaitable[T]) -> T:
        """Await ``call``; a hang past the backstop is a RequestTimeout (outcome unknown) and
        an unexpected transport exception is VenueUnavailable, never a crash of the saga."""
        try:
            async with asyncio.timeout(self.call_timeout_s):
                return await call
        except TimeoutError as exc:
            raise RequestTimeout(
                self.venue, f"{what}: no answer within {self.call_timeout_s}s"
            ) from exc
        except VenueError:
            raise
        except (OSError, ValueError) as exc:  # transport or decode trouble below the client
            raise VenueUnavailable(self.venue, f"{what}: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self.client.rest.close()
