"""One side of an L2 book: a price -> size dict plus an ascending list of its prices.

The dict makes a level update O(1); the sorted list changes only when a level appears or
disappears (``bisect.insort`` / ``del``), which is what makes the best price O(1) and the
top N O(N) without re-sorting. Bids keep their best price at the end of the list, asks at
the start, so the common change (near the touch) moves few list slots for bids and stays
a small memmove for asks.

The venue's exact text of each level is kept in a second dict, only for venues whose
events carry it (the checksum needs it). Where the venue's checksum is built from one piece
per level (``ChecksumSpec.field``), the side keeps that piece instead of the text, computed
once when the level is stored, so a checksum only joins the pieces of its top levels.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence

from arb_structs.market import Level, LevelText

from arb_orderbook.checksums import FieldFunction


def _text_of(price: float, size: float) -> LevelText:
    """Stand-in text for a level that was set without its venue text (never matches a
    venue checksum by accident: a mismatch then resyncs the book, which is the safe way)."""
    return (repr(price), repr(size))


class BookSide:
    """Base of BidSide and AskSide; the subclasses only differ in which end is best."""

    __slots__ = ("field", "fields", "prices", "sizes", "texts")

    def __init__(self, field: FieldFunction | None = None) -> None:
        self.sizes: dict[float, float] = {}
        self.prices: list[float] = []  # ascending
        # Per level: its venue text (no ``field``), or its checksum piece (``field`` given).
        self.texts: dict[float, LevelText] = {}
        self.field = field
        self.fields: dict[float, str] = {}

    def __len__(self) -> int:
        return len(self.prices)

    def clear(self) -> None:
        self.sizes.clear()
        self.prices.clear()
        self.texts.clear()
        self.fields.clear()

    def replace(self, levels: Iterable[Level], texts: Iterable[LevelText] | None) -> int:
        """Make this side exactly ``levels`` (size 0 entries ignored); return levels read."""
        sizes = self.sizes
        sizes.clear()
        self.texts.clear()
        self.fields.clear()
        count = 0
        field = self.field
        if texts is None:
            for price, size in levels:
                count += 1
                if size:
                    sizes[price] = size
        elif field is not None:
            fields = self.fields
            for (price, size), text in zip(levels, texts, strict=True):
                count += 1
                if size:
                    sizes[price] = size
                    fields[price] = field(text)
        else:
            text_of = self.texts
            for (price, size), text in zip(levels, texts, strict=True):
                count += 1
                if size:
                    sizes[price] = size
                    text_of[price] = text
        self.prices = sorted(sizes)
        return count

    def update(self, levels: Sequence[Level]) -> int:
        """Apply absolute level changes (size 0 deletes); return how many were read."""
        sizes = self.sizes
        prices = self.prices
        for price, size in levels:
            if size:
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = size
            elif sizes.pop(price, None) is not None:
                del prices[bisect_left(prices, price)]
        return len(levels)

    def update_with_text(self, levels: Sequence[Level], texts: Iterable[LevelText]) -> int:
        """As ``update``, also keeping each level's venue text (or its checksum piece) from
        this message."""
        sizes = self.sizes
        prices = self.prices
        field = self.field
        if field is not None:
            fields = self.fields
            for (price, size), text in zip(levels, texts, strict=True):
                if size:
                    if price not in sizes:
                        insort(prices, price)
                    sizes[price] = size
                    fields[price] = field(text)
                elif sizes.pop(price, None) is not None:
                    del prices[bisect_left(prices, price)]
                    fields.pop(price, None)
            return len(levels)
        text_of = self.texts
        for (price, size), text in zip(levels, texts, strict=True):
            if size:
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = size
                text_of[price] = text
            elif sizes.pop(price, None) is not None:
                del prices[bisect_left(prices, price)]
                text_of.pop(price, None)
        return len(levels)

    def _forget(self, dropped: list[float]) -> None:
        sizes = self.sizes
        texts = self.texts
        fields = self.fields
        for price in dropped:
            del sizes[price]
            texts.pop(price, None)
            fields.pop(price, None)

    def _fields_of(self, prices: list[float]) -> list[str]:
        """The checksum pieces of ``prices``; a level stored without text gets the piece of
        its stand-in text (which never matches a venue checksum: the safe way)."""
        fields = self.fields
        try:
            return list(map(fields.__getitem__, prices))
        except KeyError:
            pass
        field = self.field
        assert field is not None, "checksum pieces asked of a side kept without a field"
        sizes = self.sizes
        return [fields[p] if p in fields else field(_text_of(p, sizes[p])) for p in prices]

    # Overridden by the two sides.
    def best(self) -> float | None:
        raise NotImplementedError

    def top(self, depth: int) -> list[Level]:
        raise NotImplementedError

    def top_text(self, depth: int) -> list[LevelText]:
        raise NotImplementedError

    def top_fields(self, depth: int) -> list[str]:
        """The checksum pieces of the best ``depth`` levels, best first (``field`` given)."""
        raise NotImplementedError

    def truncate(self, depth: int) -> None:
        raise NotImplementedError


class BidSide(BookSide):
    """Bids: best = highest price = last in the ascending list."""

    __slots__ = ()

    def best(self) -> float | None:
        prices = self.prices
        return prices[-1] if prices else None

    def top(self, depth: int) -> list[Level]:
        sizes = self.sizes
        return [(p, sizes[p]) for p in self.prices[-1 : -depth - 1 : -1]] if depth > 0 else []

    def top_text(self, depth: int) -> list[LevelText]:
        sizes, texts = self.sizes, self.texts
        return [texts.get(p) or _text_of(p, sizes[p]) for p in self.prices[-1 : -depth - 1 : -1]]

    def top_fields(self, depth: int) -> list[str]:
        return self._fields_of(self.prices[-1 : -depth - 1 : -1])

    def truncate(self, depth: int) -> None:
        excess = len(self.prices) - depth
        if excess > 0:
            dropped = self.prices[:excess]
            del self.prices[:excess]
            self._forget(dropped)


class AskSide(BookSide):
    """Asks: best = lowest price = first in the ascending list."""

    __slots__ = ()

    def best(self) -> float | None:
        prices = self.prices
        return prices[0] if prices else None

    def top(self, depth: int) -> list[Level]:
        sizes = self.sizes
        return [(p, sizes[p]) for p in self.prices[:depth]] if depth > 0 else []

    def top_text(self, depth: int) -> list[LevelText]:
        sizes, texts = self.sizes, self.texts
        return [texts.get(p) or _text_of(p, sizes[p]) for p in self.prices[:depth]]

    def top_fields(self, depth: int) -> list[str]:
        return self._fields_of(self.prices[:depth])

    def truncate(self, depth: int) -> None:
        if len(self.prices) > depth:
            dropped = self.prices[depth:]
            del self.prices[depth:]
            self._forget(dropped)
