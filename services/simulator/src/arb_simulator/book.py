"""One venue's L2 book of one symbol: a market maker's ladder around the venue's price.

Internally a price is an integer *slot* (a multiple of ``step_ticks`` ticks, so levels sit a
realistic distance apart) and a size an integer number of lots: moving the ladder is integer
arithmetic, and exact ``Decimal`` values are made only for the levels that change. The ladder
holds ``depth`` levels per side, sizes growing with the distance from the touch. Each update
re-centres the ladder on the venue's current price (removing the levels that left the window,
adding those that entered) and re-sizes a few random levels (refilling levels that orders
consumed), and yields only the changed levels (size 0 deletes) with ``seq`` + 1.

A dislocation adds one level (``size`` lots) at a price that crosses the other venues' books,
and pushes the opposite side of this book away so the book itself never crosses.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from arb_structs import Side
from arb_venues.simapi import SimBook, SimBookUpdate, SimLevel

ZERO = Decimal(0)
_PRICE_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class BookParams:
    """Shape of every book of one venue."""

    depth: int = 100  # levels per side (Binance's and ccxt's default depth request is 100)
    level_spacing_bps: float = 0.5  # distance between adjacent levels
    half_spread_bps: float = 1.5  # touch distance from the venue's price, each side
    touch_notional: float = 20_000.0  # mean size at the touch, in quote units
    size_growth: float = 0.15  # mean size grows by this fraction per level from the touch
    jitter_levels: int = 2  # levels re-sized per update

    def __post_init__(self) -> None:
        if self.depth < 1 or self.level_spacing_bps <= 0 or self.half_spread_bps <= 0:
            raise ValueError(
                f"book params depth={self.depth} level_spacing_bps={self.level_spacing_bps} "
                f"half_spread_bps={self.half_spread_bps}: all must be > 0"
            )


@dataclass(slots=True)
class Dislocation:
    """An injected crossing level on one book."""

    id: str
    side: Side  # the book side holding the crossing level: SELL = asks ("down"), BUY = bids
    price: float  # where the crossing level should sit now (follows the fair price)
    remaining: int  # lots left at the crossing level
    bps: float = 0.0  # how far it crosses every other venue's touch
    slot: int | None = None  # where it sits in the book now


class VenueBook:
    __slots__ = (
        "_ask_levels",
        "_bid_levels",
        "_prices",
        "_rng",
        "_snapshot",
        "asks",
        "best_ask",
        "best_bid",
        "bids",
        "depth",
        "dislocation",
        "half_spread",
        "jitter",
        "lot",
        "mean_lots",
        "quantum",
        "seq",
        "step_ticks",
        "symbol",
        "tick",
        "ts_ns",
        "unit",
        "unit_float",
    )

    def __init__(
        self,
        symbol: str,
        tick: Decimal,
        lot: Decimal,
        price: float,
        params: BookParams,
        rng: random.Random,
    ) -> None:
        self.symbol = symbol
        self.tick = tick
        self.lot = lot
        self.depth = params.depth
        self.jitter = params.jitter_levels
        self.half_spread = params.half_spread_bps / 1e4
        tick_float = float(tick)
        self.step_ticks = max(1, round(price * params.level_spacing_bps / 1e4 / tick_float))
        self.unit = tick * self.step_ticks  # price distance of one slot
        self.unit_float = float(self.unit)
        touch_lots = params.touch_notional / price / float(lot)
        self.quantum = _size_quantum(touch_lots)
        self.mean_lots = [touch_lots * (1.0 + params.size_growth * i) for i in range(params.depth)]
        self._rng = rng
        self._prices: dict[int, Decimal] = {}
        # slot -> (price, size) of the level there now, as the last _emit made it: a snapshot
        # reads its levels from here instead of making 200 Decimals again.
        self._bid_levels: dict[int, SimLevel] = {}
        self._ask_levels: dict[int, SimLevel] = {}
        # The last snapshot, kept while ``seq`` has not moved: every change of the levels goes
        # through ``_emit`` (seq + 1), and the market's listeners of one tick, each venue
        # connection of them, ask for the same book again and again.
        self._snapshot: SimBook | None = None
        self.bids: dict[int, int] = {}  # slot -> lots
        self.asks: dict[int, int] = {}
        self.best_bid = 0  # top slot of the bid window (the ladder, not counting holes)
        self.best_ask = 0
        self.seq = 0
        self.ts_ns = 0
        self.dislocation: Dislocation | None = None
        self._fill(price)

    # -- levels ---------------------------------------------------------------------------

    def _size(self, distance: int) -> int:
        q = self.quantum
        lots = int(self.mean_lots[distance] * (0.5 + self._rng.random()) / q) * q
        return lots if lots > 0 else q

    def _targets(self, price: float) -> tuple[int, int]:
        unit = self.unit_float
        bid = math.floor(price * (1.0 - self.half_spread) / unit)
        ask = math.ceil(price * (1.0 + self.half_spread) / unit)
        return bid, max(ask, bid + 1)

    def _fill(self, price: float) -> None:
        self.best_bid, self.best_ask = self._targets(price)
        for i in range(self.depth):
            self.bids[self.best_bid - i] = self._size(i)
            self.asks[self.best_ask + i] = self._size(i)

    def price_of(self, slot: int) -> Decimal:
        cached = self._prices.get(slot)
        if cached is None:
            if len(self._prices) > _PRICE_CACHE_LIMIT:
                self._prices.clear()
            cached = self._prices[slot] = Decimal(slot * self.step_ticks) * self.tick
        return cached

    def size_of(self, lots: int) -> Decimal:
        return Decimal(lots) * self.lot if lots else ZERO

    # -- updates --------------------------------------------------------------------------

    def update(self, price: float, ts_ns: int, jitter: bool = True) -> SimBookUpdate:
        """Move the ladder to ``price`` (the venue's price now) and re-size a few levels."""
        bid_top, ask_top = self._targets(price)
        dislocation = self.dislocation
        bid_changes: dict[int, int] = {}
        ask_changes: dict[int, int] = {}
        keep: int | None = None
        if dislocation is not None:
            slot = self._dislocation_slot(dislocation)
            if dislocation.side is Side.SELL:
                bid_top = min(bid_top, slot - 1)
            else:
                ask_top = max(ask_top, slot + 1)
            book_side, changes = (
                (self.asks, ask_changes)
                if dislocation.side is Side.SELL
                else (self.bids, bid_changes)
            )
            if dislocation.slot is not None and dislocation.slot != slot:
                book_side.pop(dislocation.slot, None)
                changes[dislocation.slot] = 0
            if dislocation.remaining > 0 and book_side.get(slot) != dislocation.remaining:
                book_side[slot] = changes[slot] = dislocation.remaining
            dislocation.slot = slot
            keep = slot
        # The crossing level is kept only on its own side: on the other side its slot is an
        # ordinary level that must leave with the window, or the book would lock or cross.
        bid_keep = keep if dislocation is not None and dislocation.side is Side.BUY else None
        ask_keep = keep if dislocation is not None and dislocation.side is Side.SELL else None
        if bid_top != self.best_bid:
            self._shift(self.bids, bid_changes, self.best_bid, bid_top, -1, bid_keep)
            self.best_bid = bid_top
        if ask_top != self.best_ask:
            self._shift(self.asks, ask_changes, self.best_ask, ask_top, 1, ask_keep)
            self.best_ask = ask_top
        if jitter:
            rng = self._rng
            for _ in range(self.jitter):
                distance = rng.randrange(self.depth)
                if rng.random() < 0.5:
                    slot = self.best_bid - distance
                    self.bids[slot] = bid_changes[slot] = self._size(distance)
                else:
                    slot = self.best_ask + distance
                    self.asks[slot] = ask_changes[slot] = self._size(distance)
        return self._emit(bid_changes, ask_changes, ts_ns)

    def _shift(
        self,
        side: dict[int, int],
        changes: dict[int, int],
        old_top: int,
        new_top: int,
        direction: int,
        keep: int | None,
    ) -> None:
        """Move one side's window from old_top to new_top (direction: -1 bids, +1 asks)."""
        depth = self.depth
        if direction < 0:
            low, high = new_top - depth + 1, new_top
            old_low, old_high = old_top - depth + 1, old_top
        else:
            low, high = new_top, new_top + depth - 1
            old_low, old_high = old_top, old_top + depth - 1
        for slot in [s for s in side if (s < low or s > high) and s != keep]:
            del side[slot]
            changes[slot] = 0
        for slot in range(low, high + 1):
            if (slot < old_low or slot > old_high) and slot != keep:
                side[slot] = changes[slot] = self._size(abs(slot - new_top))

    def _dislocation_slot(self, dislocation: Dislocation) -> int:
        ratio = dislocation.price / self.unit_float
        return math.floor(ratio) if dislocation.side is Side.SELL else math.ceil(ratio)

    def end_dislocation(self, price: float, ts_ns: int) -> SimBookUpdate:
        """Remove the crossing level and bring the ladder back to ``price``."""
        dislocation, self.dislocation = self.dislocation, None
        bid_changes: dict[int, int] = {}
        ask_changes: dict[int, int] = {}
        if dislocation is not None and dislocation.slot is not None:
            side, changes = (
                (self.asks, ask_changes)
                if dislocation.side is Side.SELL
                else (self.bids, bid_changes)
            )
            if side.pop(dislocation.slot, None) is not None:
                changes[dislocation.slot] = 0
        bid_top, ask_top = self._targets(price)
        if bid_top != self.best_bid:
            self._shift(self.bids, bid_changes, self.best_bid, bid_top, -1, None)
            self.best_bid = bid_top
        if ask_top != self.best_ask:
            self._shift(self.asks, ask_changes, self.best_ask, ask_top, 1, None)
            self.best_ask = ask_top
        return self._emit(bid_changes, ask_changes, ts_ns)

    def _emit(
        self, bid_changes: dict[int, int], ask_changes: dict[int, int], ts_ns: int
    ) -> SimBookUpdate:
        price_of, size_of = self.price_of, self.size_of
        bid_slots = sorted(bid_changes, reverse=True)
        ask_slots = sorted(ask_changes)
        bids = [(price_of(s), size_of(bid_changes[s])) for s in bid_slots]
        asks = [(price_of(s), size_of(ask_changes[s])) for s in ask_slots]
        for slots, levels, known in ((bid_slots, bids, self._bid_levels),
                                     (ask_slots, asks, self._ask_levels)):  # fmt: skip
            for slot, level in zip(slots, levels, strict=True):
                if level[1]:
                    known[slot] = level
                else:
                    known.pop(slot, None)
        self.seq += 1
        self.ts_ns = ts_ns
        return SimBookUpdate(self.symbol, self.seq, bids, asks, ts_ns)

    # -- scripted levels ------------------------------------------------------------------

    def set_levels(
        self,
        bids: list[SimLevel],
        asks: list[SimLevel],
        ts_ns: int,
        replace: bool = False,
    ) -> SimBookUpdate:
        """Put exact levels in the book (size 0 deletes); ``replace`` first deletes every
        level. ValueError for a price off the tick or a size off the lot. A price between
        two ladder slots moves the book onto a one-tick ladder first."""
        for price, size in (*bids, *asks):
            if price <= 0 or price % self.tick or size < 0 or size % self.lot:
                raise ValueError(
                    f"{self.symbol}: level {price} x {size} is off the grid (tick {self.tick}, "
                    f"lot {self.lot})"
                )
            if price % self.unit:
                self._one_tick_ladder()
        bid_changes: dict[int, int] = {}
        ask_changes: dict[int, int] = {}
        for side, changes, levels in (
            (self.bids, bid_changes, bids),
            (self.asks, ask_changes, asks),
        ):
            if replace:
                for slot in side:
                    changes[slot] = 0
                side.clear()
            for price, size in levels:
                slot = int(price / self.unit)
                lots = int(size / self.lot)
                if lots:
                    side[slot] = changes[slot] = lots
                else:
                    side.pop(slot, None)
                    changes[slot] = 0
        if self.bids:
            self.best_bid = max(self.bids)
        if self.asks:
            self.best_ask = min(self.asks)
        return self._emit(bid_changes, ask_changes, ts_ns)

    def _one_tick_ladder(self) -> None:
        """Re-express every slot in ticks (step_ticks 1): same prices, finer ladder."""
        step = self.step_ticks
        if step == 1:
            return
        self.bids = {slot * step: lots for slot, lots in self.bids.items()}
        self.asks = {slot * step: lots for slot, lots in self.asks.items()}
        self.best_bid *= step
        self.best_ask *= step
        if self.dislocation is not None and self.dislocation.slot is not None:
            self.dislocation.slot *= step
        self.step_ticks = 1
        self.unit = self.tick
        self.unit_float = float(self.tick)
        self._prices.clear()
        self._bid_levels.clear()  # keyed by the old slots
        self._ask_levels.clear()

    # -- reading and taking -----------------------------------------------------------------

    def snapshot(self) -> SimBook:
        """The whole book, best first. Shared by every caller until the next change: its
        lists are read-only."""
        cached = self._snapshot
        if cached is not None and cached.seq == self.seq:
            return cached
        bids = self._levels(self.bids, self._bid_levels, sorted(self.bids, reverse=True))
        asks = self._levels(self.asks, self._ask_levels, sorted(self.asks))
        self._snapshot = snapshot = SimBook(self.symbol, self.seq, bids, asks, self.ts_ns)
        return snapshot

    def _levels(self, side: dict[int, int], known: dict[int, SimLevel], slots: list[int]
                ) -> list[SimLevel]:  # fmt: skip
        """The levels of ``slots`` (best first), made only where no _emit made them yet."""
        levels = []
        for slot in slots:
            level = known.get(slot)
            if level is None:  # the initial ladder, or after _one_tick_ladder
                level = known[slot] = (self.price_of(slot), self.size_of(side[slot]))
            levels.append(level)
        return levels

    def best(self) -> tuple[Decimal | None, Decimal | None]:
        """Best bid and ask prices actually in the book (holes skipped)."""
        bid = self.price_of(max(self.bids)) if self.bids else None
        ask = self.price_of(min(self.asks)) if self.asks else None
        return bid, ask

    def take(
        self, side: Side, limit: Decimal, lots: int, ts_ns: int
    ) -> tuple[list[tuple[Decimal, int]], SimBookUpdate | None]:
        """A taker order of ``lots`` at ``limit``: consume levels best first.

        Returns the fills (price, lots) and the book update they caused (None if none).
        """
        if side is Side.BUY:
            book = self.asks
            bound = int((limit / self.unit).to_integral_value(ROUND_FLOOR))
            slots = sorted(s for s in book if s <= bound)
        else:
            book = self.bids
            bound = int((limit / self.unit).to_integral_value(ROUND_CEILING))
            slots = sorted((s for s in book if s >= bound), reverse=True)
        fills: list[tuple[Decimal, int]] = []
        changes: dict[int, int] = {}
        dislocation = self.dislocation
        for slot in slots:
            if lots <= 0:
                break
            available = book[slot]
            taken = min(available, lots)
            lots -= taken
            fills.append((self.price_of(slot), taken))
            if taken == available:
                del book[slot]
                changes[slot] = 0
            else:
                book[slot] = changes[slot] = available - taken
            if dislocation is not None and dislocation.slot == slot:
                dislocation.remaining = max(0, dislocation.remaining - taken)
        if not changes:
            return fills, None
        if side is Side.BUY:
            return fills, self._emit({}, changes, ts_ns)
        return fills, self._emit(changes, {}, ts_ns)

    def available(self, side: Side, limit: Decimal) -> int:
        """Lots a taker order on ``side`` could take up to ``limit`` right now."""
        if side is Side.BUY:
            bound = int((limit / self.unit).to_integral_value(ROUND_FLOOR))
            return sum(v for s, v in self.asks.items() if s <= bound)
        bound = int((limit / self.unit).to_integral_value(ROUND_CEILING))
        return sum(v for s, v in self.bids.items() if s >= bound)


def _size_quantum(touch_lots: float) -> int:
    """Sizes are multiples of this many lots: about 4 significant digits at the touch."""
    if touch_lots <= 1000:
        return 1
    return int(10 ** (math.floor(math.log10(touch_lots)) - 3))


__all__ = ["BookParams", "Dislocation", "SimLevel", "VenueBook"]
