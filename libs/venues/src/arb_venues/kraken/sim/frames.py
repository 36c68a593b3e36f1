"""Kraken book frames as the exchange writes them, with the checksum over them (pure).

The simulator serves these; tests use them to make multi-message sessions, since no real
multi-message Kraken recording exists (see shared/fixtures/CHECKSUMS.md section 3). The
checksum is the venue's one copy in ``arb_venues.kraken.checksum``.
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2 and .../spot-ws-book-v1
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arb_structs import LevelText

from arb_venues.kraken.checksum import checksum
from arb_venues.simapi import fixed_text

# Fixed-point text at Kraken's decimals (pair_decimals / lot_decimals), never an exponent.
fmt = fixed_text


@dataclass
class SentBook:
    """What one subscriber holds of one book: the top ``depth`` levels we have sent it."""

    depth: int
    price_decimals: int
    size_decimals: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    # The seq of the book these levels are the top of (-1: unknown). Two subscribers of one
    # depth at the same seq hold the same levels, so their next changes are the same too.
    seq: int = -1

    def text(self, price: Decimal, size: Decimal) -> LevelText:
        return fmt(price, self.price_decimals), fmt(size, self.size_decimals)

    def reset(
        self, bids: Iterable[tuple[Decimal, Decimal]], asks: Iterable[tuple[Decimal, Decimal]]
    ) -> tuple[list[LevelText], list[LevelText]]:
        """A snapshot: the top ``depth`` of the given best-first levels, as text."""
        self.bids = dict(list(bids)[: self.depth])
        self.asks = dict(list(asks)[: self.depth])
        return self.top_text()

    def update(
        self, bids: Iterable[tuple[Decimal, Decimal]], asks: Iterable[tuple[Decimal, Decimal]]
    ) -> tuple[list[LevelText], list[LevelText]]:
        """Move to the new full book's top ``depth``; the changes to send (size 0 = delete).

        A level pushed out of scope by better ones is not deleted: the subscriber truncates
        to its depth after each message (Kraken sends no qty 0 for those).
        """
        new_bids = dict(list(bids)[: self.depth])
        new_asks = dict(list(asks)[: self.depth])
        bid_changes = _changes(self.bids, new_bids, self.depth, lambda p, edge: p > edge)
        ask_changes = _changes(self.asks, new_asks, self.depth, lambda p, edge: p < edge)
        self.bids, self.asks = new_bids, new_asks
        return (
            [self.text(p, s) for p, s in bid_changes],
            [self.text(p, s) for p, s in ask_changes],
        )

    def top_text(self) -> tuple[list[LevelText], list[LevelText]]:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        return [self.text(p, s) for p, s in bids], [self.text(p, s) for p, s in asks]

    def checksum(self) -> int:
        bids, asks = self.top_text()
        return checksum(bids, asks)


def _changes(
    old: dict[Decimal, Decimal],
    new: dict[Decimal, Decimal],
    depth: int,
    better: Callable[[Decimal, Decimal], bool],
) -> list[tuple[Decimal, Decimal]]:
    changes = [(p, s) for p, s in new.items() if old.get(p) != s]
    edge = list(new)[-1] if len(new) >= depth else None
    for price in old:
        if price not in new and (edge is None or better(price, edge)):
            changes.append((price, Decimal(0)))  # deleted inside the subscribed range
    return changes


# -- WS v2: prices and quantities as JSON numbers -------------------------------------------------


def _v2_levels(levels: Sequence[LevelText]) -> str:
    return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels) + "]"


def v2_book(
    kind: str,
    symbol: str,
    bids: Sequence[LevelText],
    asks: Sequence[LevelText],
    checksum_value: int,
    timestamp: str = "",
) -> str:
    """``{"channel":"book","type":kind,"data":[{...}]}`` with exact number text."""
    stamp = f',"timestamp":{json.dumps(timestamp)}' if timestamp else ""
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":{json.dumps(symbol)},'
        f'"bids":{_v2_levels(bids)},"asks":{_v2_levels(asks)},'
        f'"checksum":{checksum_value}{stamp}}}]}}'
    )


# -- WS v1: arrays, decimals as strings -----------------------------------------------------------


def v1_snapshot(
    channel_id: int,
    channel_name: str,
    pair: str,
    bids: Sequence[LevelText],
    asks: Sequence[LevelText],
    timestamp: str,
) -> str:
    body = {"as": [[p, q, timestamp] for p, q in asks], "bs": [[p, q, timestamp] for p, q in bids]}
    return json.dumps([channel_id, body, channel_name, pair], separators=(",", ":"))


def v1_update(
    channel_id: int,
    channel_name: str,
    pair: str,
    bids: Sequence[LevelText],
    asks: Sequence[LevelText],
    checksum_value: int,
    timestamp: str,
) -> str:
    """One object per side present; ``c`` goes in the last one."""
    objects: list[dict[str, object]] = []
    if asks:
        objects.append({"a": [[p, q, timestamp] for p, q in asks]})
    if bids:
        objects.append({"b": [[p, q, timestamp] for p, q in bids]})
    objects[-1]["c"] = str(checksum_value)
    return json.dumps([channel_id, *objects, channel_name, pair], separators=(",", ":"))
