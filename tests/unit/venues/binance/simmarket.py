"""A small test-only SimMarket (simapi.SimMarket): fixed books, a naive IOC matcher.

Stands in for the simulator core (arb_simulator) until it is on main.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from arb_structs import Instrument, Side
from arb_venues.simapi import SimBook, SimBookUpdate, SimOrder, SimOrderError

D = Decimal


class Faults:
    def __init__(self) -> None:
        self.armed: dict[tuple[str, str | None], int] = {}

    def arm(self, kind: str, symbol: str | None = None, count: int = 1) -> None:
        self.armed[(kind, symbol)] = self.armed.get((kind, symbol), 0) + count

    def take(self, kind: str, symbol: str | None = None) -> bool:
        for key in ((kind, symbol), (kind, None)):
            if self.armed.get(key, 0) > 0:
                self.armed[key] -= 1
                return True
        return False


def instrument(base: str, quote: str, tick: str = "0.01", lot: str = "0.001") -> Instrument:
    return Instrument(
        venue="binance", symbol=f"{base}-{quote}", venue_symbol=f"{base}{quote}", base=base,
        quote=quote, tick_size=tick, lot_size=lot, min_size=lot, min_notional="5",
        price_decimals=len(tick.split(".")[1]), size_decimals=len(lot.split(".")[1]),
    )  # fmt: skip


class FakeMarket:
    venue = "binance"

    def __init__(self, instruments: list[Instrument], fee: str = "0.001") -> None:
        self.instruments = {i.symbol: i for i in instruments}
        self.faults = Faults()
        self.fee = D(fee)
        self.seq: dict[str, int] = {i.symbol: 0 for i in instruments}
        self.bids: dict[str, dict[Decimal, Decimal]] = {i.symbol: {} for i in instruments}
        self.asks: dict[str, dict[Decimal, Decimal]] = {i.symbol: {} for i in instruments}
        self.listeners: list[Callable[[SimBookUpdate], None]] = []
        self.accounts: dict[str, tuple[str, dict[str, Decimal]]] = {}
        self.orders: dict[tuple[str, str], SimOrder] = {}  # (api key, client id)
        self._ids = itertools.count(1)

    # -- test controls -------------------------------------------------------------------------

    def add_account(self, api_key: str, secret: str, balances: dict[str, str]) -> None:
        self.accounts[api_key] = (secret, {a: D(v) for a, v in balances.items()})

    def update(
        self,
        symbol: str,
        bids: Sequence[tuple[str, str]] = (),
        asks: Sequence[tuple[str, str]] = (),
    ) -> SimBookUpdate:
        self.seq[symbol] += 1
        bid_levels = [(D(p), D(q)) for p, q in bids]
        ask_levels = [(D(p), D(q)) for p, q in asks]
        for book, levels in ((self.bids[symbol], bid_levels), (self.asks[symbol], ask_levels)):
            for price, size in levels:
                if size == 0:
                    book.pop(price, None)
                else:
                    book[price] = size
        update = SimBookUpdate(symbol, self.seq[symbol], bid_levels, ask_levels, time.time_ns())
        for listener in list(self.listeners):
            listener(update)
        return update

    # -- SimMarket -----------------------------------------------------------------------------

    def book(self, symbol: str) -> SimBook:
        return SimBook(
            symbol, self.seq[symbol], sorted(self.bids[symbol].items(), reverse=True),
            sorted(self.asks[symbol].items()), time.time_ns(),
        )  # fmt: skip

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def secret_for(self, api_key: str) -> str | None:
        account = self.accounts.get(api_key)
        return account[0] if account else None

    def passphrase_for(self, api_key: str) -> str | None:
        return None

    def place_order(self, api_key: str, symbol: str, side: Side, price: Decimal, size: Decimal,
                    time_in_force: str, client_order_id: str) -> SimOrder:  # fmt: skip
        if symbol not in self.instruments:
            raise SimOrderError("unknown_symbol", symbol)
        if (api_key, client_order_id) in self.orders:
            raise SimOrderError("duplicate_client_order_id", client_order_id)
        inst = self.instruments[symbol]
        wallet = self.accounts[api_key][1]
        if side is Side.BUY and wallet.get(inst.quote, D(0)) < price * size * (1 + self.fee):
            raise SimOrderError("insufficient_balance", inst.quote)
        if side is Side.SELL and wallet.get(inst.base, D(0)) < size:
            raise SimOrderError("insufficient_balance", inst.base)
        now = time.time_ns()
        order = SimOrder(str(next(self._ids)), client_order_id, symbol, side, price, size,
                         time_in_force, "new", ts_created_ns=now, ts_updated_ns=now)  # fmt: skip
        book = self.asks[symbol] if side is Side.BUY else self.bids[symbol]
        crossing = sorted(book, reverse=side is Side.SELL)
        changed = []
        for level in crossing:
            if (side is Side.BUY and level > price) or (side is Side.SELL and level < price):
                break
            take = min(book[level], size - order.filled)
            if take <= 0:
                break
            order.fills.append((level, take))
            order.filled += take
            order.quote_filled += level * take
            changed.append((level, book[level] - take))
        fee = order.quote_filled * self.fee
        order.fee, order.fee_asset = fee, inst.quote
        sign = 1 if side is Side.BUY else -1
        wallet[inst.base] = wallet.get(inst.base, D(0)) + sign * order.filled
        wallet[inst.quote] = wallet.get(inst.quote, D(0)) - sign * order.quote_filled - fee
        order.status = "filled" if order.filled == size else "canceled"
        self.orders[(api_key, client_order_id)] = order
        if changed:
            key = "asks" if side is Side.BUY else "bids"
            self.update(symbol, **{key: [(str(p), str(q)) for p, q in changed]})
        return order

    def get_order(self, api_key: str, symbol: str, client_order_id: str | None = None,
                  order_id: str | None = None) -> SimOrder | None:  # fmt: skip
        for (key, cid), order in self.orders.items():
            wanted = cid == client_order_id or (order_id is not None and order.order_id == order_id)
            if key == api_key and order.symbol == symbol and wanted:
                return order
        return None

    def cancel_order(self, api_key: str, symbol: str, client_order_id: str | None = None,
                     order_id: str | None = None) -> SimOrder | None:  # fmt: skip
        order = self.get_order(api_key, symbol, client_order_id, order_id)
        if order is not None and order.status in ("new", "partially_filled"):
            order.status = "canceled"
        return order

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return {a: (v, D(0)) for a, v in self.accounts[api_key][1].items()}
