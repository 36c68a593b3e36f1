"""Test helpers for the Kraken adapter: a reference book and the simulator's market.

The reference book is deliberately independent of arb_venues.kraken.sim.frames: it rebuilds
Kraken's checksum from the event text with its own few lines (docs:
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, Instrument, MdEvent


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


def kraken_market(levels: int = 30) -> VenueMarket:
    """The simulator's Kraken market with a known BTC-USD book: bids 45000 - 0.5 i of size
    0.25 + i/100, asks 45000 + 0.5 i of size 0.30 + i/100 (i = 1 .. levels - 1); the test
    account holds 2 BTC and 100,000 USD. Tests move it with ``apply``."""
    account = Account(API_KEY, SECRET, balances={"BTC": "2", "USD": "100000"})
    market = venue_market("kraken", instruments=[BTC_USD], accounts=[account])
    mid, step = Decimal("45000.0"), Decimal("0.5")
    market.set_book(
        BTC_USD.symbol,
        bids=[(mid - step * i, Decimal("0.25") + Decimal(i) / 100) for i in range(1, levels)],
        asks=[(mid + step * i, Decimal("0.30") + Decimal(i) / 100) for i in range(1, levels)],
    )
    return market


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
    from arb_venues.kraken.sim import frames

    market = kraken_market()
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
        market.apply("BTC-USD", move.get("bids", []), move.get("asks", []))
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
