"""A small test-only SimMarket (simapi.SimMarket): fixed books, a naive IOC matcher, faults.

Stands in for arb_simulator.market until the simulator core is on main.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from decimal import Decimal

from arb_structs import Instrument, Side
from arb_venues.simapi import SimBook, SimBookUpdate, SimLevel, SimOrder, SimOrderError

D = Decimal
API_KEY = "test-key-0001"
SECRET = "test-secret-0001"
FEE = D("0.001")

BTC = Instrument(
    venue="bybit",
    symbol="BTC-USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    tick_size="0.01",
    lot_size="0.000001",
    min_size="0.000011",
    min_notional="5",
    price_decimals=2,
    size_decimals=6,
)
XRP = Instrument(
    venue="bybit",
    symbol="XRP-USDT",
    venue_symbol="XRPUSDT",
    base="XRP",
    quote="USDT",
    tick_size="0.0001",
    lot_size="0.01",
    min_size="0.01",
    min_notional="5",
    price_decimals=4,
    size_decimals=2,
)


class Faults:
    def __init__(self) -> None:
        self.armed: dict[str, int] = {}

    def arm(self, kind: str, count: int = 1) -> None:
        self.armed[kind] = self.armed.get(kind, 0) + count

    def take(self, kind: str, symbol: str | None = None) -> bool:
        if self.armed.get(kind, 0) > 0:
            self.armed[kind] -= 1
            return True
        return False


class FakeMarket:
    venue = "bybit"

    def __init__(self) -> None:
        self.instruments = {BTC.symbol: BTC, XRP.symbol: XRP}
        self.faults = Faults()
        self.bids: dict[str, dict[Decimal, Decimal]] = {
            BTC.symbol: {D("100.00") - D("0.01") * i: D("1.5") + i for i in range(60)},
            XRP.symbol: {D("1.9531") - D("0.0001") * i: D("100") for i in range(60)},
        }
        self.asks: dict[str, dict[Decimal, Decimal]] = {
            BTC.symbol: {D("100.01") + D("0.01") * i: D("2.0") + i for i in range(60)},
            XRP.symbol: {D("1.9532") + D("0.0001") * i: D("100") for i in range(60)},
        }
        self.seq = dict.fromkeys(self.instruments, 1000)
        self.listeners: list[Callable[[SimBookUpdate], None]] = []
        self.accounts = {API_KEY: {"USDT": D("10000"), "BTC": D("10")}}
        self.orders: dict[str, SimOrder] = {}
        self._ids = itertools.count(1_700_000_000_000_000_001)

    # -- book -------------------------------------------------------------------------------

    def book(self, symbol: str) -> SimBook:
        bids = sorted(self.bids[symbol].items(), reverse=True)
        asks = sorted(self.asks[symbol].items())
        return SimBook(symbol, self.seq[symbol], bids, asks, time.time_ns())

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def update(self, symbol: str, bids: list[SimLevel] = (), asks: list[SimLevel] = ()) -> None:  # type: ignore[assignment]
        """Change levels (size 0 deletes) and tell the listeners."""
        for side, levels in ((self.bids[symbol], bids), (self.asks[symbol], asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        self.seq[symbol] += 1
        event = SimBookUpdate(symbol, self.seq[symbol], list(bids), list(asks), time.time_ns())
        for listener in list(self.listeners):
            listener(event)

    # -- accounts ---------------------------------------------------------------------------

    def secret_for(self, api_key: str) -> str | None:
        return SECRET if api_key in self.accounts else None

    def passphrase_for(self, api_key: str) -> str | None:
        return None

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return {asset: (amount, D(0)) for asset, amount in self.accounts[api_key].items()}

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
        if symbol not in self.instruments:
            raise SimOrderError("unknown_symbol", symbol)
        if any(o.client_order_id == client_order_id for o in self.orders.values()):
            raise SimOrderError("duplicate_client_order_id", client_order_id)
        instrument, wallet = self.instruments[symbol], self.accounts[api_key]
        need = (instrument.quote, price * size) if side == Side.BUY else (instrument.base, size)
        if wallet.get(need[0], D(0)) < need[1]:
            raise SimOrderError("insufficient_balance", f"{need[0]} below {need[1]}")
        now = time.time_ns()
        order = SimOrder(
            str(next(self._ids)),
            client_order_id,
            symbol,
            side,
            price,
            size,
            time_in_force,
            "new",
            ts_created_ns=now,
            ts_updated_ns=now,
        )
        book = self.asks[symbol] if side == Side.BUY else self.bids[symbol]
        crossing = sorted(book, reverse=side == Side.SELL)
        changed: list[SimLevel] = []
        for level in crossing:
            if (side == Side.BUY and level > price) or (side == Side.SELL and level < price):
                break
            take = min(book[level], size - order.filled)
            book[level] -= take
            changed.append((level, book[level]))
            if not book[level]:
                del book[level]
            order.filled += take
            order.quote_filled += take * level
            order.fills.append((level, take))
            if order.filled == size:
                break
        base, quote = instrument.base, instrument.quote
        if side == Side.BUY:
            order.fee, order.fee_asset = order.filled * FEE, base
            wallet[quote] -= order.quote_filled
            wallet[base] = wallet.get(base, D(0)) + order.filled - order.fee
        else:
            order.fee, order.fee_asset = order.quote_filled * FEE, quote
            wallet[base] -= order.filled
            wallet[quote] = wallet.get(quote, D(0)) + order.quote_filled - order.fee
        if order.filled == size:
            order.status = "filled"
        elif time_in_force == "IOC":
            order.status = "canceled"
        elif order.filled:
            order.status = "partially_filled"
        self.orders[order.order_id] = order
        if changed:
            self.seq[symbol] += 1
            update = SimBookUpdate(
                symbol,
                self.seq[symbol],
                [] if side == Side.BUY else changed,
                changed if side == Side.BUY else [],
                now,
            )
            for listener in list(self.listeners):
                listener(update)
        return order

    def get_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        for order in self.orders.values():
            if order.symbol == symbol and (
                order.order_id == order_id or order.client_order_id == client_order_id
            ):
                return order
        return None

    def cancel_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        order = self.get_order(api_key, symbol, client_order_id, order_id)
        if order is not None and order.status in ("new", "partially_filled"):
            order.status = "canceled"
        return order
