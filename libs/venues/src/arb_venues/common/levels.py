"""What a price level may be: one rule for every venue, and the deliberate number reader.

A level is ``(price, size)``. It is valid when
- the price is finite and ``0 < price < MAX_PRICE``;
- the size is finite and ``0 <= size < MAX_SIZE``, and 0 only in a delta (where it deletes
  the level): a snapshot level of size 0 describes nothing;
- in a snapshot, each side is strictly best-first where the venue promises that order
  (bids descending, asks ascending, no price twice) and the best bid is below the best ask.

Numbers are read on purpose, not by whatever ``float()`` accepts. A number is the JSON
number grammar, as a JSON number or as the text of a JSON string: an optional ``-``,
digits without a leading zero, an optional fraction, an optional exponent (``1e-8``: the
same number as ``0.00000001``; Kraken's JSON numbers may come that way). Everything else is
not a number: ``+1``, ``""``, ``" 1"``, ``.5``, ``5.``, ``0x10``, ``1_000``, ``1,5``, ``true``,
``null``. ``NaN``, ``Infinity`` and ``inf`` (any case) are not finite and are refused by the
bounds. ``-0`` is zero. A size text so small that it underflows a float (``1e-400``) reads
as 0, which is a delete: no venue's lot is below 1e-18, so no real size is lost that way.

The hot paths keep msgspec's C decoder: ``Price`` and ``Size`` are constrained floats that
msgspec checks while decoding (its lax string-to-float conversion follows the same grammar,
plus the NaN/Infinity words that the bounds refuse), so a valid frame costs no Python per
level. Only a frame msgspec refused is looked at again, slowly, by ``find_bad_level``, to say
which level broke which rule (the ``kind`` of the MalformedFrame, one of ``LEVEL_KINDS``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from itertools import islice
from operator import gt, itemgetter, lt
from typing import Annotated

import msgspec
from arb_orderbook import native
from arb_structs import Level

from arb_venues.errors import MalformedFrame

MAX_PRICE = 1e15  # BTC in the weakest quote currency is ~1e9; products with sizes stay finite
MAX_SIZE = 1e18

# Constrained floats msgspec enforces while decoding (NaN fails every comparison: refused).
Price = Annotated[float, msgspec.Meta(gt=0.0, lt=MAX_PRICE)]
Size = Annotated[float, msgspec.Meta(ge=0.0, lt=MAX_SIZE)]
WireLevel = tuple[Price, Size]
# A snapshot's level, whose size may not be 0 either: a schema that reads snapshot levels as
# these has checked every size check_snapshot checks (it is then told ``sizes_read=True``).
SnapshotSize = Annotated[float, msgspec.Meta(gt=0.0, lt=MAX_SIZE)]
SnapshotLevel = tuple[Price, SnapshotSize]

# The MalformedFrame kinds a bad level produces: a bounded label set for metrics and replay.
BAD_PRICE = "bad_price"  # not a number, not finite, <= 0 or >= MAX_PRICE
BAD_SIZE = "bad_size"  # not a number, not finite, < 0 or >= MAX_SIZE, or 0 in a snapshot
UNSORTED = "unsorted_levels"  # a snapshot side out of its promised best-first order
CROSSED = "crossed_snapshot"  # a snapshot whose best bid is not below its best ask
LEVEL_KINDS = frozenset({BAD_PRICE, BAD_SIZE, UNSORTED, CROSSED})

_PRICE = itemgetter(0)
_SIZE = itemgetter(1)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def read_number_reference(value: object) -> float | None:
    """``value`` (a JSON number, or the text or bytes of one) as a float; None when it is not a
    number in the grammar above, or not finite. The compiled book's module has the same reader
    in C (``read_number`` below is that one where it is in use; test_native compares them)."""
    if type(value) is str:  # the common case first: decimal text
        if _NUMBER.fullmatch(value) is None:
            return None
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, bool):  # a JSON true/false is not a number (bool is an int)
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or _NUMBER.fullmatch(value) is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# The reader the parsers use: the compiled one where the compiled book runs (docs/native.md).
read_number: Callable[[object], float | None] = (
    native.COMPILED.read_number if native.COMPILED is not None else read_number_reference
)


class LevelError(ValueError):
    """A level that breaks a rule: ``kind`` (one of LEVEL_KINDS) and what is wrong."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


def read_price(value: object) -> float:
    """A valid price from ``value``; LevelError(bad_price) otherwise."""
    number = read_number(value)
    if number is None or not 0.0 < number < MAX_PRICE:
        raise LevelError(BAD_PRICE, f"price {value!r} is not a finite number in (0, {MAX_PRICE:g})")
    return number


def read_size(value: object, *, snapshot: bool) -> float:
    """A valid size from ``value`` (0 only outside snapshots); LevelError(bad_size) otherwise."""
    number = read_number(value)
    if number is None or not 0.0 <= number < MAX_SIZE:
        raise LevelError(BAD_SIZE, f"size {value!r} is not a finite number in [0, {MAX_SIZE:g})")
    if snapshot and number == 0.0:
        raise LevelError(BAD_SIZE, f"size {value!r} in a snapshot (0 only deletes, in a delta)")
    return number


def find_bad_level(
    levels: object, *, snapshot: bool, price_at: object = 0, size_at: object = 1
) -> LevelError | None:
    """The first invalid level of a decoded (untyped) side; None when every level is valid.
    ``price_at``/``size_at`` index a level (a list) or key it (a dict)."""
    if not isinstance(levels, list):
        return None
    for index, level in enumerate(levels):
        try:
            price = level[price_at]
            size = level[size_at]
        except (KeyError, IndexError, TypeError):
            continue  # a shape problem, not a bad number: the caller's own kind covers it
        try:
            read_price(price)
            read_size(size, snapshot=snapshot)
        except LevelError as exc:
            return LevelError(exc.kind, f"level {index}: {exc.detail}")
    return None


def find_bad_side(bids: object, asks: object, *, snapshot: bool) -> tuple[str, LevelError] | None:
    """``("bids" | "asks", the first invalid level's error)`` of a decoded (untyped) book;
    None when both sides are valid."""
    for side, levels in (("bids", bids), ("asks", asks)):
        bad = find_bad_level(levels, snapshot=snapshot)
        if bad is not None:
            return side, bad
    return None


def check_snapshot(
    bids: Sequence[Level],
    asks: Sequence[Level],
    *,
    sorted_by_venue: bool = True,
    sizes_read: bool = False,
) -> None:
    """LevelError when a snapshot of in-range levels is still impossible: a size 0, a side out
    of best-first order (where the venue promises that order), or a crossed top.
    ``sizes_read``: the levels were read as SnapshotLevel, so no size is 0 (not looked at).

    The passing case runs in C (map/min/all over the levels): a 1,000-level snapshot costs
    tens of microseconds; the failing case then finds the level to name, in Python."""
    if not sizes_read:
        for side, levels in (("bids", bids), ("asks", asks)):
            if levels and not min(map(_SIZE, levels)) > 0.0:
                index = next(i for i, level in enumerate(levels) if not level[1] > 0.0)
                raise LevelError(BAD_SIZE, f"{side} level {index}: size {levels[index][1]!r} "
                                 "in a snapshot")  # fmt: skip
    if sorted_by_venue:
        for side, levels, better, word in (
            ("bids", bids, gt, "below"),
            ("asks", asks, lt, "above"),
        ):
            prices = list(map(_PRICE, levels))
            if not all(map(better, prices, islice(prices, 1, None))):
                index = next(
                    i for i in range(1, len(prices)) if not better(prices[i - 1], prices[i])
                )
                raise LevelError(UNSORTED, (
                    f"{side} level {index} price {prices[index]!r} is not {word} level "
                    f"{index - 1} {prices[index - 1]!r} (the venue sends {side} best first)"
                ))  # fmt: skip
        best_bid = bids[0][0] if bids else None
        best_ask = asks[0][0] if asks else None
    else:
        best_bid = max(map(_PRICE, bids), default=None)
        best_ask = min(map(_PRICE, asks), default=None)
    if best_bid is not None and best_ask is not None and not best_bid < best_ask:
        raise LevelError(CROSSED, f"best bid {best_bid!r} is not below best ask {best_ask!r}")


def malformed(venue: str, error: LevelError, where: str) -> MalformedFrame:
    """The MalformedFrame of a bad level: its kind, and where it was (symbol, side)."""
    return MalformedFrame(venue, error.kind, f"{where}: {error.detail}")
