"""Test helpers for the Kraken adapter: a reference book and a small SimMarket.

The reference book is deliberately independent of arb_venues.kraken.frames: it rebuilds
Kraken's checksum from the event text with its own few lines (docs:
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2).
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from arb_structs import BookDelta, BookSnapshot, Instrument, MdEvent, Side
from arb_venues.simapi import SimBook, SimBookUpdate, SimOrder, SimOrderError


def reference_checksum(
    bids: dict[float, tuple[str, str]], asks: dict[float, tuple[str, str]]
) -> int:
    def strip(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    text = ""
    for price in sorted(asks)[:10]:
        text += strip(asks[price][0]) + strip(asks[price][1])
    for price in sorted(bids, reverse=True)[:10]:
        text += strip(bids[price][0]) + strip(bids[price][1])
    return zlib.crc32(text.encode())


@dataclass
class ReferenceBook:
    """Sequence rule + Kraken truncation + checksum check, with dicts."""

    seq: int = -1
    depth: int = 0
    bids: dict[float, tuple[str, str]] = field(default_factory=dict)
    asks: dict[float, tuple[str, str]] = field(default_factory=dict)
    applied: int = 0
    stale: int = 0
    gaps: int = 0
    checksums_ok: int = 0
    checksums_bad: int = 0

    def apply(self, event: MdEvent) -> None:
        if isinstance(event, BookSnapshot):
            self.seq, self.depth = event.seq, event.depth
            self.bids = {p: t for (p, _), t in zip(event.bids, event.bids_text or [], strict=True)}
            self.asks = {p: t for (p, _), t in zip(event.asks, event.asks_text or [], strict=True)}
        elif isinstance(event, BookDelta):
            if event.seq <= self.seq:
                self.stale += 1
                return
            if event.prev_seq > self.seq:
                self.gaps += 1
                return
            self.seq = event.seq
            for side, levels, texts in (
                (self.bids, event.bids, event.bids_text),
                (self.asks, event.asks, event.asks_text),
            ):
                for (price, size), text in zip(levels, texts or [], strict=True):
                    if size == 0:
                        side.pop(price, None)
                    else:
                        side[price] = text
            self._truncate()
            self.applied += 1
        else:
            return
        if event.checksum is not None:
            if reference_checksum(self.bids, self.asks) == event.checksum:
                self.checksums_ok += 1
            else:
                self.checksums_bad += 1

    def _truncate(self) -> None:
        if self.depth:
            self.bids = {p: self.bids[p] for p in sorted(self.bids, reverse=True)[: self.depth]}
            self.asks = {p: self.asks[p] for p in sorted(self.asks)[: self.depth]}


class Faults:
    def __init__(self) -> None:
        self.armed: dict[str, int] = {}

    def arm(self, kind: str, times: int = 1) -> None:
        self.armed[kind] = self.armed.get(kind, 0) + times

    def take(self, kind: str, symbol: str | None = None) -> bool:
        if self.armed.get(kind, 0) > 0:
            self.armed[kind] -= 1
            return True
        return False


BTC_USD = Instrument(
    venue="kraken",
    symbol="BTC-USD",
    venue_symbol="BTC/USD",
    base="BTC",
    quote="USD",
    tick_size="0.1",
    lot_size="0.00000001",
    min_size="0.0001",
    min_notional="0.5",
    price_decimals=1,
    size_decimals=8,
    maker_fee="0.0025",
    taker_fee="0.004",
)
API_KEY = "test-key"
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


class TestMarket:
    """A fixed book that tests move by hand, and a naive IOC matcher. Test-only SimMarket."""

    __test__ = False
    venue = "kraken"

    def __init__(self, levels: int = 30) -> None:
        self.instruments = {BTC_USD.symbol: BTC_USD}
        self.faults = Faults()
        self.seq = 0
        mid = Decimal("45000.0")
        step = Decimal("0.5")
        self.bids = {mid - step * i: Decimal("0.25") + Decimal(i) / 100 for i in range(1, levels)}
        self.asks = {mid + step * i: Decimal("0.30") + Decimal(i) / 100 for i in range(1, levels)}
        self.listeners: list[Callable[[SimBookUpdate], None]] = []
        self.accounts = {API_KEY: {"BTC": Decimal("2"), "USD": Decimal("100000")}}
        self.orders: dict[str, SimOrder] = {}
        self._ids = itertools.count(1)

    def book(self, symbol: str) -> SimBook:
        if symbol not in self.instruments:
            raise KeyError(symbol)
        return SimBook(
            symbol,
            self.seq,
            sorted(self.bids.items(), reverse=True),
            sorted(self.asks.items()),
            time.time_ns(),
        )

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def move(self, bids: list[tuple[str, str]] = (), asks: list[tuple[str, str]] = ()) -> None:
        """Set levels (size 0 deletes) and tell every listener."""
        changes = []
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            decoded = [(Decimal(p), Decimal(s)) for p, s in levels]
            for price, size in decoded:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = size
            changes.append(decoded)
        self.seq += 1
        update = SimBookUpdate("BTC-USD", self.seq, changes[0], changes[1], time.time_ns())
        for listener in list(self.listeners):
            listener(update)

    def secret_for(self, api_key: str) -> str | None:
        return SECRET if api_key == API_KEY else None

    def passphrase_for(self, api_key: str) -> str | None:
        return None

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
        account = self.accounts[api_key]
        if side is Side.BUY and account["USD"] < price * size:
            raise SimOrderError("insufficient_balance", "not enough USD")
        if side is Side.SELL and account["BTC"] < size:
            raise SimOrderError("insufficient_balance", "not enough BTC")
        order = SimOrder(
            order_id=str(next(self._ids)),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            price=price,
            size=size,
            time_in_force=time_in_force,
            status="new",
            ts_created_ns=time.time_ns(),
        )
        book = self.asks if side is Side.BUY else self.bids
        prices = sorted(book, reverse=side is Side.SELL)
        for level in prices:
            if order.filled >= size or (level > price if side is Side.BUY else level < price):
                break
            take = min(book[level], size - order.filled)
            order.filled += take
            order.quote_filled += take * level
            order.fills.append((level, take))
        order.fee = order.quote_filled * Decimal("0.004")
        order.fee_asset = "USD"
        sign = 1 if side is Side.BUY else -1
        account["BTC"] += sign * order.filled
        account["USD"] -= sign * order.quote_filled + order.fee
        order.status = "filled" if order.filled == size else "canceled"
        order.ts_updated_ns = time.time_ns()
        self.orders[order.order_id] = order
        return order

    def get_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        for order in self.orders.values():
            if order.order_id == order_id or (
                client_order_id and order.client_order_id == client_order_id
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
        return self.get_order(api_key, symbol, client_order_id, order_id)

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return {asset: (amount, Decimal(0)) for asset, amount in self.accounts[api_key].items()}


# Book moves that exercise every Kraken book rule: a size change, a better level, a deletion
# inside the subscribed range (the 11th level moves in), an insert that pushes a level out,
# and a change beyond the subscribed depth (nothing to send).
SCRIPT: list[dict[str, list[tuple[str, str]]]] = [
    {"bids": [("44999.5", "1.5")]},
    {"asks": [("45000.2", "0.01")]},
    {"bids": [("44999.5", "0")]},
    {"bids": [("44997.7", "0.7")], "asks": [("45001.3", "2")]},
    {"asks": [("45000.2", "0")], "bids": [("44996.0", "0")]},
    {"bids": [("44980.0", "9")]},
    {"asks": [("45000.4", "0.00100000")]},
]


def scripted_session(version: str = "v2", depth: int = 10) -> tuple[list[str], int]:
    """Frames the simulator's encoder makes for SCRIPT: (frames, moves that sent nothing)."""
    from arb_venues.kraken import frames

    market = TestMarket()
    sent = frames.SentBook(depth, BTC_USD.price_decimals, BTC_USD.size_decimals)
    book = market.book("BTC-USD")
    bids, asks = sent.reset(book.bids, book.asks)
    channel = f"book-{depth}"
    if version == "v2":
        out = [frames.v2_book("snapshot", "BTC/USD", bids, asks, sent.checksum())]
    else:
        out = [frames.v1_snapshot(42, channel, "XBT/USD", bids, asks, "1700000000.000001")]
    silent = 0
    for i, move in enumerate(SCRIPT):
        market.move(move.get("bids", []), move.get("asks", []))
        book = market.book("BTC-USD")
        bids, asks = sent.update(book.bids, book.asks)
        if not bids and not asks:
            silent += 1
            continue
        stamp = f"1700000001.{i:06d}"
        if version == "v2":
            out.append(
                frames.v2_book(
                    "update",
                    "BTC/USD",
                    bids,
                    asks,
                    sent.checksum(),
                    f"2023-11-14T22:13:2{i}.000001Z",
                )
            )
        else:
            out.append(frames.v1_update(42, channel, "XBT/USD", bids, asks, sent.checksum(), stamp))
    return out, silent
