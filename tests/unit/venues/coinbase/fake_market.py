"""A tiny SimMarket for the Coinbase sim tests, until the simulator core is on main.

A fixed two-product book the test moves by hand (``push``), a naive IOC matcher, balances
and one-shot faults. Implements arb_venues.simapi.SimMarket.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

from arb_structs import Instrument, Side
from arb_venues.simapi import SimBook, SimBookUpdate, SimLevel, SimOrder, SimOrderError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

D = Decimal


def new_pem() -> str:
    """A fresh EC P-256 private key in the PEM form CDP keys have."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


KEY_NAME = "organizations/0000-org/apiKeys/1111-key"
KEY_PEM = new_pem()


def instrument(symbol: str, tick: str, lot: str) -> Instrument:
    base, quote = symbol.split("-")
    return Instrument(
        venue="coinbase", symbol=symbol, venue_symbol=symbol, base=base, quote=quote,
        tick_size=tick, lot_size=lot, min_size=lot, min_notional="1",
        price_decimals=len(tick.split(".")[1]) if "." in tick else 0,
        size_decimals=len(lot.split(".")[1]) if "." in lot else 0,
    )  # fmt: skip


class FakeFaults:
    def __init__(self) -> None:
        self.armed: dict[tuple[str, str | None], int] = {}

    def arm(self, kind: str, symbol: str | None = None, times: int = 1) -> None:
        self.armed[(kind, symbol)] = self.armed.get((kind, symbol), 0) + times

    def take(self, kind: str, symbol: str | None = None) -> bool:
        for key in ((kind, symbol), (kind, None)):
            if self.armed.get(key, 0) > 0:
                self.armed[key] -= 1
                return True
        return False


class FakeMarket:
    venue = "coinbase"

    def __init__(self) -> None:
        self.instruments = {
            "BTC-USD": instrument("BTC-USD", "0.01", "0.00000001"),
            "ETH-USD": instrument("ETH-USD", "0.01", "0.00000001"),
        }
        self.faults = FakeFaults()
        self.books: dict[str, dict[str, dict[Decimal, Decimal]]] = {
            "BTC-USD": {"bids": {D("68900.00"): D("1.5"), D("68899.50"): D("0.75")},
                        "asks": {D("68901.00"): D("0.5"), D("68902.00"): D("2")}},
            "ETH-USD": {"bids": {D("3500.10"): D("3")}, "asks": {D("3500.50"): D("4")}},
        }  # fmt: skip
        self.seqs = {symbol: 1 for symbol in self.books}
        self.listeners: list[Callable[[SimBookUpdate], None]] = []
        self.secrets = {KEY_NAME: KEY_PEM}
        self.accounts: dict[str, dict[str, tuple[Decimal, Decimal]]] = {
            KEY_NAME: {"USD": (D("100000"), D("0")), "BTC": (D("1"), D("0")),
                       "ETH": (D("0"), D("0"))},
        }  # fmt: skip
        self.orders: dict[str, SimOrder] = {}
        self._ids = itertools.count(1)

    # -- book -----------------------------------------------------------------------------------

    def book(self, symbol: str) -> SimBook:
        sides = self.books[symbol]
        return SimBook(
            symbol=symbol, seq=self.seqs[symbol],
            bids=sorted(sides["bids"].items(), reverse=True), asks=sorted(sides["asks"].items()),
            ts_ns=time.time_ns(),
        )  # fmt: skip

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def push(self, symbol: str, bids: list[SimLevel] = (), asks: list[SimLevel] = ()) -> None:  # type: ignore[assignment]
        for side, levels in (("bids", bids), ("asks", asks)):
            for price, size in levels:
                if size:
                    self.books[symbol][side][price] = size
                else:
                    self.books[symbol][side].pop(price, None)
        self.seqs[symbol] += 1
        update = SimBookUpdate(symbol=symbol, seq=self.seqs[symbol], bids=list(bids),
                               asks=list(asks), ts_ns=time.time_ns())  # fmt: skip
        for listener in list(self.listeners):
            listener(update)

    # -- accounts -------------------------------------------------------------------------------

    def secret_for(self, api_key: str) -> str | None:
        return self.secrets.get(api_key)

    def passphrase_for(self, api_key: str) -> str | None:
        return None

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return dict(self.accounts.get(api_key, {}))

    def _move(self, api_key: str, asset: str, amount: Decimal) -> None:
        free, locked = self.accounts[api_key].get(asset, (D(0), D(0)))
        self.accounts[api_key][asset] = (free + amount, locked)

    def place_order(self, api_key: str, symbol: str, side: Side, price: Decimal, size: Decimal,
                    time_in_force: str, client_order_id: str) -> SimOrder:  # fmt: skip
        if symbol not in self.instruments:
            raise SimOrderError("unknown_symbol", f"{symbol} is not listed")
        if any(o.client_order_id == client_order_id for o in self.orders.values()):
            raise SimOrderError("duplicate_client_order_id", client_order_id)
        inst = self.instruments[symbol]
        free = self.balances(api_key)
        if side is Side.BUY and free.get(inst.quote, (D(0), D(0)))[0] < price * size:
            raise SimOrderError("insufficient_balance", f"{inst.quote} below {price * size}")
        if side is Side.SELL and free.get(inst.base, (D(0), D(0)))[0] < size:
            raise SimOrderError("insufficient_balance", f"{inst.base} below {size}")
        order = SimOrder(
            order_id=str(uuid.UUID(int=next(self._ids))), client_order_id=client_order_id,
            symbol=symbol, side=side, price=price, size=size, time_in_force=time_in_force,
            status="new", fee_asset=inst.quote, ts_created_ns=time.time_ns(),
        )  # fmt: skip
        book = self.books[symbol]["asks" if side is Side.BUY else "bids"]
        levels = sorted(book.items(), reverse=side is Side.SELL)
        for level_price, level_size in levels:
            crosses = level_price <= price if side is Side.BUY else level_price >= price
            left = size - order.filled
            if not crosses or not left:
                break
            take = min(left, level_size)
            order.fills.append((level_price, take))
            order.filled += take
            order.quote_filled += take * level_price
            book[level_price] = level_size - take
            if not book[level_price]:
                del book[level_price]
        order.fee = (order.quote_filled * D("0.012")).quantize(D("0.01"))
        sign = 1 if side is Side.BUY else -1
        self._move(api_key, inst.base, sign * order.filled)
        self._move(api_key, inst.quote, -sign * order.quote_filled - order.fee)
        order.status = "filled" if order.filled == size else "canceled"
        order.ts_updated_ns = time.time_ns()
        self.orders[order.order_id] = order
        return order

    def get_order(self, api_key: str, symbol: str, client_order_id: str | None = None,
                  order_id: str | None = None) -> SimOrder | None:  # fmt: skip
        for order in self.orders.values():
            if order.symbol != symbol:
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if client_order_id is not None and order.client_order_id == client_order_id:
                return order
        return None

    def cancel_order(self, api_key: str, symbol: str, client_order_id: str | None = None,
                     order_id: str | None = None) -> SimOrder | None:  # fmt: skip
        order = self.get_order(api_key, symbol, client_order_id, order_id)
        if order is not None and order.status in ("new", "partially_filled"):
            order.status = "canceled"
        return order
