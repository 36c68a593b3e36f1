"""One venue's market as its protocol server sees it: implements ``simapi.SimMarket``.

Orders match at once against the venue's book (price-time: best level first, each level's
price), as a taker: IOC fills what the limit allows and cancels the rest, FOK fills all or
nothing ("expired"), GTC keeps the remainder open with its funds locked (it does not join the
public book and is not filled later: the engine only sends IOC). Fees are charged at the
venue's taker rate, rounded to 8 decimals, from the received asset or the quote asset as the
venue does (``VenueSpec.fee_asset``). Every fill moves the book: the consumed levels
shrink and one update goes to the venue's listeners.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from arb_structs import Instrument, Side
from arb_venues import get_venue
from arb_venues.simapi import (
    SimBook,
    SimBookUpdate,
    SimFaults,
    SimOrder,
    SimOrderError,
    SimTrade,
)

from arb_simulator.accounts import Account, default_credentials
from arb_simulator.faults import Faults
from arb_simulator.market import Market

FEE_QUANTUM = Decimal("0.00000001")
LevelInput = tuple[Decimal | str, Decimal | str]  # (price, size), as Decimal or its text
TIME_IN_FORCE = ("IOC", "GTC", "FOK")
FINAL_STATUSES = ("filled", "canceled", "rejected", "expired")
TAPE_LENGTH = 1000  # public trades kept per symbol (the deepest recent-trades page served)


class VenueMarket:
    """``SimMarket`` of one venue over the shared ``Market``."""

    def __init__(
        self,
        market: Market,
        venue: str,
        faults: Faults | None = None,
        accounts: list[Account] | None = None,
    ) -> None:
        if venue not in market.venues:
            raise ValueError(f"venue {venue!r} is not simulated; venues: {list(market.venues)}")
        self.market = market
        self.venue = venue
        # The same object twice: typed as the contract for protocol apps, and as Faults
        # (arm/clear) for the core and tests.
        self.armed_faults = faults if faults is not None else Faults(venue)
        self.faults: SimFaults = self.armed_faults
        self.instruments: dict[str, Instrument] = {
            symbol: market.config.instrument(venue, symbol) for symbol in market.symbols
        }
        self.fee_asset_rule = get_venue(venue).fee_asset
        if accounts is None:
            creds = default_credentials(venue)
            accounts = [Account(creds.api_key, creds.secret, creds.passphrase)]
        self.accounts: dict[str, Account] = {a.api_key: a for a in accounts}
        self._orders: dict[str, dict[str, SimOrder]] = {}  # api_key -> order_id -> order
        self._client_ids: dict[str, dict[str, str]] = {}  # api_key -> client id -> order id
        # api_key -> client ids of placements refused as duplicates: an engine that re-sends an
        # order it already placed shows here (a venue without this check would fill it twice)
        self._duplicates: dict[str, list[str]] = {}
        self._order_ids = itertools.count(1)
        self.orders_total = 0
        # The venue's clock minus wall time (arb_venues.simapi.venue_now_ns): a venue whose
        # clock is off from the host's, as a host with a skewed clock sees a real one.
        self.clock_skew_ns = 0
        # The public tape per symbol: every fill of a taker order, newest last.
        self._tape: dict[str, collections.deque[SimTrade]] = {}
        self._trade_ids = itertools.count(1)

    # -- market data ----------------------------------------------------------------------

    def trades(self, symbol: str, limit: int = TAPE_LENGTH) -> list[SimTrade]:
        """The last ``limit`` public trades of ``symbol`` (fills of taker orders), newest
        first."""
        tape = self._tape.get(symbol, ())
        return list(reversed(list(tape)[-limit:])) if limit > 0 else []

    def book(self, symbol: str) -> SimBook:
        return self.market.book(self.venue, symbol).snapshot()

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        return self.market.subscribe(self.venue, listener)

    # -- scripted books (tests and demos that need exact levels) ---------------------------

    def set_book(
        self, symbol: str, bids: Sequence[LevelInput] = (), asks: Sequence[LevelInput] = ()
    ) -> SimBookUpdate:
        """Replace ``symbol``'s book with exactly these levels and tell every listener (one
        update: the old levels deleted, the new ones set). The clock, if it runs, moves the
        book on from there."""
        return self._script(symbol, bids, asks, replace=True)

    def apply(
        self, symbol: str, bids: Sequence[LevelInput] = (), asks: Sequence[LevelInput] = ()
    ) -> SimBookUpdate:
        """Set these levels (size 0 deletes one) as one update, like a venue's own delta."""
        return self._script(symbol, bids, asks, replace=False)

    def _script(
        self, symbol: str, bids: Sequence[LevelInput], asks: Sequence[LevelInput], replace: bool
    ) -> SimBookUpdate:
        book = self.market.book(self.venue, symbol)
        update = book.set_levels(
            [(Decimal(p), Decimal(q)) for p, q in bids],
            [(Decimal(p), Decimal(q)) for p, q in asks],
            self.market.clock_ns(),
            replace=replace,
        )
        self.market.publish(self.venue, update)
        return update

    # -- accounts -------------------------------------------------------------------------

    def secret_for(self, api_key: str) -> str | None:
        account = self.accounts.get(api_key)
        return account.secret if account is not None else None

    def passphrase_for(self, api_key: str) -> str | None:
        account = self.accounts.get(api_key)
        return account.passphrase if account is not None else None

    def add_account(self, account: Account) -> None:
        self.accounts[account.api_key] = account

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return self._account(api_key).snapshot()

    def _account(self, api_key: str) -> Account:
        account = self.accounts.get(api_key)
        if account is None:
            raise SimOrderError("rejected", f"{self.venue}: unknown API key {api_key[:8]}...")
        return account

    # -- orders ---------------------------------------------------------------------------

    def place_order(
        self,
        api_key: str,
        symbol: str,
        side: Side,
        price: Decimal,
        size: Decimal,
        time_in_force: str,
        client_order_id: str,
    ) -> SimOrder:
        account = self._account(api_key)
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise SimOrderError("unknown_symbol", f"{self.venue}: no symbol {symbol!r}")
        time_in_force = time_in_force.upper()
        if time_in_force not in TIME_IN_FORCE:
            raise SimOrderError(
                "rejected", f"time_in_force {time_in_force!r}: use {', '.join(TIME_IN_FORCE)}"
            )
        client_ids = self._client_ids.setdefault(api_key, {})
        if client_order_id and client_order_id in client_ids:
            self._duplicates.setdefault(api_key, []).append(client_order_id)
            raise SimOrderError(
                "duplicate_client_order_id",
                f"{self.venue}: client order id {client_order_id!r} was already used",
            )
        book = self.market.book(self.venue, symbol)
        self._validate(instrument, price, size)
        fee_rate = Decimal(instrument.taker_fee)
        base, quote = instrument.base, instrument.quote
        # Funds needed at worst (the limit price), checked before anything moves.
        if side is Side.BUY:
            need_asset = quote
            need = price * size
            if self.fee_asset_rule == "quote":
                need += _fee(need, fee_rate)
        else:
            need_asset, need = base, size
        if account.free(need_asset) < need:
            raise SimOrderError(
                "insufficient_balance",
                f"{self.venue}: {need_asset} free {account.free(need_asset)} < {need} needed",
            )
        if self.faults.take("reject_order", symbol):
            raise SimOrderError("rejected", f"{self.venue}: order rejected (injected fault)")

        ts_ns = self.market.clock_ns()
        self.orders_total += 1
        order = SimOrder(
            order_id=f"{self.venue[:2].upper()}{next(self._order_ids):010d}",
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            price=price,
            size=size,
            time_in_force=time_in_force,
            status="new",
            ts_created_ns=ts_ns,
            ts_updated_ns=ts_ns,
        )
        lots = int(size / book.lot)
        if time_in_force == "FOK" and book.available(side, price) < lots:
            lots = 0
        elif self.faults.take("partial_fill", symbol):
            lots = min(lots, book.available(side, price)) // 2
        fills: list[tuple[Decimal, int]] = []
        if lots > 0:
            fills, update = book.take(side, price, lots, ts_ns)
            if update is not None:
                self.market.publish(self.venue, update)
        tape = self._tape.setdefault(symbol, collections.deque(maxlen=TAPE_LENGTH))
        for fill_price, fill_lots in fills:
            fill_size = book.size_of(fill_lots)
            tape.append(SimTrade(next(self._trade_ids), symbol, fill_price, fill_size, side, ts_ns))
            order.fills.append((fill_price, fill_size))
            order.filled += fill_size
            order.quote_filled += fill_price * fill_size
        self._settle(account, order, base, quote, fee_rate)

        if order.filled == size:
            order.status = "filled"
        elif time_in_force == "GTC":
            order.status = "partially_filled" if order.filled else "new"
            remainder = size - order.filled
            if side is Side.BUY:
                order_lock = price * remainder
                account.lock(quote, order_lock)
            else:
                account.lock(base, remainder)
        elif time_in_force == "FOK":
            order.status = "expired"
        else:
            order.status = "canceled"
        self._orders.setdefault(api_key, {})[order.order_id] = order
        if client_order_id:
            client_ids[client_order_id] = order.order_id
        return order

    def _validate(self, instrument: Instrument, price: Decimal, size: Decimal) -> None:
        tick, lot = Decimal(instrument.tick_size), Decimal(instrument.lot_size)
        if not price.is_finite() or price <= 0 or price % tick != 0:
            raise SimOrderError(
                "invalid_price",
                f"{self.venue} {instrument.symbol}: price {price} is not a positive multiple "
                f"of the tick {tick}",
            )
        if not size.is_finite() or size <= 0 or size % lot != 0:
            raise SimOrderError(
                "invalid_quantity",
                f"{self.venue} {instrument.symbol}: size {size} is not a positive multiple "
                f"of the lot {lot}",
            )
        if size < Decimal(instrument.min_size):
            raise SimOrderError(
                "invalid_quantity",
                f"{self.venue} {instrument.symbol}: size {size} < min size {instrument.min_size}",
            )
        if price * size < Decimal(instrument.min_notional):
            raise SimOrderError(
                "invalid_quantity",
                f"{self.venue} {instrument.symbol}: notional {price * size} < min notional "
                f"{instrument.min_notional}",
            )

    def _settle(
        self, account: Account, order: SimOrder, base: str, quote: str, fee_rate: Decimal
    ) -> None:
        if not order.filled:
            order.fee_asset = quote if self.fee_asset_rule == "quote" else ""
            return
        received_base = order.side is Side.BUY
        if self.fee_asset_rule == "quote" or not received_base:
            order.fee_asset = quote
            order.fee = _fee(order.quote_filled, fee_rate)
        else:
            order.fee_asset = base
            order.fee = _fee(order.filled, fee_rate)
        if received_base:
            account.add(quote, -order.quote_filled)
            account.add(base, order.filled)
        else:
            account.add(base, -order.filled)
            account.add(quote, order.quote_filled)
        account.add(order.fee_asset, -order.fee)
        order.ts_updated_ns = self.market.clock_ns()

    def _find(
        self, api_key: str, client_order_id: str | None, order_id: str | None
    ) -> SimOrder | None:
        orders = self._orders.get(api_key, {})
        if order_id is not None:
            return orders.get(order_id)
        if client_order_id is not None:
            found = self._client_ids.get(api_key, {}).get(client_order_id)
            return orders.get(found) if found is not None else None
        return None

    def get_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        order = self._find(api_key, client_order_id, order_id)
        return order if order is not None and order.symbol == symbol else None

    def duplicate_attempts(self, api_key: str) -> list[str]:
        """Client ids of the account's placements refused because the id was used before."""
        return list(self._duplicates.get(api_key, ()))

    def orders(self, api_key: str, symbol: str | None = None, since_ns: int = 0) -> list[SimOrder]:
        """The account's orders (of ``symbol``, or all) created at or after ``since_ns``,
        oldest first (the ledger every venue's order-history endpoint reads)."""
        return [
            order
            for order in self._orders.get(api_key, {}).values()
            if (symbol is None or order.symbol == symbol) and order.ts_created_ns >= since_ns
        ]

    def cancel_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        """Cancel an open order; a closed one comes back unchanged (its status says so)."""
        order = self.get_order(api_key, symbol, client_order_id, order_id)
        if order is None or order.status in FINAL_STATUSES:
            return order
        account = self._account(api_key)
        instrument = self.instruments[symbol]
        remainder = order.size - order.filled
        if order.side is Side.BUY:
            account.unlock(instrument.quote, order.price * remainder)
        else:
            account.unlock(instrument.base, remainder)
        order.status = "canceled"
        order.ts_updated_ns = self.market.clock_ns()
        return order


def _fee(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)
