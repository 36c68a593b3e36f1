"""Depth- and fee-aware sizing of one buy-here, sell-there trade. Pure: no I/O, floats only.

Buy ``q`` base on the buy venue's asks (ascending) and sell ``q`` on the sell venue's bids
(descending). With ``N(q)`` the quote paid on the asks and ``S(q)`` the quote received on the
bids, both before fees, and taker fees ``f_buy``/``f_sell``::

    net profit   P(q) = (1 - f_sell) * S(q) - (1 + f_buy) * N(q)
    net edge     E(q) = P(q) / N(q)            (edge_bps = E * 1e4)

Between two level boundaries the marginal profit ``(1 - f_sell) * bid - (1 + f_buy) * ask``
is constant, and it never increases from one segment to the next, so ``P`` is concave and
piecewise linear: its maximum on an interval lies at a level boundary or at the interval's
end, which is where the merged walk below stops. ``E`` never increases either (the bid VWAP
falls, the ask VWAP rises), so "edge >= threshold" is an upper bound on ``q`` like the caps.

Every constraint is then an interval ``[q_low, q_cap]``: the lower end from the minimum size
and minimum notionals of both venues, the upper end from the visible depth, the quote
balance on the buy venue (fees included), the base balance on the sell venue, the max
notional and the edge threshold. A concave function's best point on a grid inside an
interval is one of the two grid points around its continuous maximum on that interval, so
only two lot-grid sizes are ever priced exactly.

Float tolerances are relative to one lot step (``_GRID_EPS``): a size within a billionth of
a step of a cap counts as on it, so float noise never costs a whole lot.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

Levels = Sequence[tuple[float, float]]

_GRID_EPS = 1e-9  # in lot steps
_EDGE_EPS = 1e-12  # in edge fraction (1e-8 bps)


class Rejection(enum.StrEnum):
    """Why no trade came out (also the gated-out reason in the metrics)."""

    NO_EDGE = "no_edge"  # no size clears both fees and the edge threshold
    NO_CAPACITY = "no_capacity"  # depth, balances or max notional leave no whole lot
    BELOW_MINIMUM = "below_minimum"  # the minimum size/notional does not fit under the caps


@dataclass(frozen=True, slots=True)
class SizingLimits:
    """Everything besides the two books that bounds one trade."""

    buy_fee: float  # taker fee fraction on the buy venue
    sell_fee: float  # taker fee fraction on the sell venue
    step: float  # lot step valid on both venues (a common multiple of both lot sizes)
    min_size: float = 0.0  # the larger of both venues' minimum order sizes
    min_notional_buy: float = 0.0  # quote, on the buy venue
    min_notional_sell: float = 0.0  # quote, on the sell venue
    quote_available: float = math.inf  # quote free on the buy venue (pays notional + fee)
    base_available: float = math.inf  # base free on the sell venue
    max_notional: float = math.inf  # quote, buy notional before fees
    min_edge: float = 0.0  # net edge fraction every traded size must keep (bps / 1e4)


@dataclass(frozen=True, slots=True)
class Trade:
    """The chosen size, priced exactly through both books."""

    lots: int  # size = lots * step
    size: float
    buy_notional: float  # N: quote paid before the fee
    sell_notional: float  # S: quote received before the fee
    buy_worst: float  # highest ask touched: the buy IOC limit
    sell_worst: float  # lowest bid touched: the sell IOC limit
    gross_profit: float  # S - N
    net_profit: float  # (1 - f_sell) S - (1 + f_buy) N
    edge: float  # net_profit / buy_notional

    @property
    def buy_vwap(self) -> float:
        return self.buy_notional / self.size

    @property
    def sell_vwap(self) -> float:
        return self.sell_notional / self.size

    @property
    def edge_bps(self) -> float:
        return self.edge * 1e4


def top_edge(asks: Levels, bids: Levels, buy_fee: float, sell_fee: float) -> float:
    """Net edge of the first unit traded at the two tops: an upper bound on any size's edge."""
    return bids[0][0] * (1.0 - sell_fee) / asks[0][0] - (1.0 + buy_fee)


def walk(levels: Levels, size: float, tolerance: float = 0.0) -> tuple[float, float] | None:
    """(notional, worst price) of taking ``size`` from ``levels``; None if they are too thin."""
    remaining = size
    notional = 0.0
    for price, amount in levels:
        if amount <= 0.0:
            continue
        take = amount if amount < remaining else remaining
        notional += take * price
        remaining -= take
        if remaining <= tolerance:
            return notional, price
    return None


def size_for_notional(levels: Levels, budget: float) -> float:
    """The size whose notional through ``levels`` equals ``budget``; inf past the depth."""
    if budget <= 0.0:
        return 0.0
    size = 0.0
    spent = 0.0
    for price, amount in levels:
        cost = price * amount
        if spent + cost >= budget:
            return size + (budget - spent) / price
        spent += cost
        size += amount
    return math.inf


def _depth(levels: Levels) -> float:
    total = 0.0
    for _, amount in levels:
        if amount > 0.0:
            total += amount
    return total


def continuous_optimum(
    asks: Levels,
    bids: Levels,
    buy_factor: float,
    sell_factor: float,
    edge_factor: float,
    cap: float,
) -> float:
    """The size up to ``cap`` where profit stops rising or the edge falls to the threshold.

    ``buy_factor`` = 1 + f_buy, ``sell_factor`` = 1 - f_sell, ``edge_factor`` = buy_factor +
    min_edge. G(q) = sell_factor S - edge_factor N is >= 0 exactly while E(q) >= min_edge.
    """
    na = len(asks)
    nb = len(bids)
    i = j = 0
    left_ask = asks[0][1]
    left_bid = bids[0][1]
    q = 0.0
    g = 0.0
    while q < cap:
        if left_ask <= 0.0:
            i += 1
            if i == na:
                break
            left_ask = asks[i][1]
            continue
        if left_bid <= 0.0:
            j += 1
            if j == nb:
                break
            left_bid = bids[j][1]
            continue
        ask = asks[i][0]
        bid = bids[j][0]
        if sell_factor * bid - buy_factor * ask <= 0.0:
            break  # marginal profit <= 0 from here on: P is at its maximum
        step = left_ask if left_ask < left_bid else left_bid
        if cap - q < step:
            step = cap - q
        slope = sell_factor * bid - edge_factor * ask
        if slope < 0.0 and g + slope * step < 0.0:
            return q + g / -slope  # the average edge reaches the threshold inside this segment
        g += slope * step
        q += step
        left_ask -= step
        left_bid -= step
    return q if q < cap else cap


def price_lots(asks: Levels, bids: Levels, lots: int, limits: SizingLimits) -> Trade | None:
    """The trade of exactly ``lots`` steps through both books; None if either is too thin."""
    size = lots * limits.step
    tolerance = _GRID_EPS * limits.step
    bought = walk(asks, size, tolerance)
    sold = walk(bids, size, tolerance)
    if bought is None or sold is None:
        return None
    buy_notional, buy_worst = bought
    sell_notional, sell_worst = sold
    net = (1.0 - limits.sell_fee) * sell_notional - (1.0 + limits.buy_fee) * buy_notional
    return Trade(
        lots=lots,
        size=size,
        buy_notional=buy_notional,
        sell_notional=sell_notional,
        buy_worst=buy_worst,
        sell_worst=sell_worst,
        gross_profit=sell_notional - buy_notional,
        net_profit=net,
        edge=net / buy_notional,
    )


def find_best_trade(asks: Levels, bids: Levels, limits: SizingLimits) -> Trade | Rejection:
    """The lot-grid size with the highest net profit within every limit, or why there is none.

    Never returns a trade whose net profit is not positive or whose edge is below
    ``limits.min_edge``.
    """
    if not asks or not bids:
        return Rejection.NO_EDGE
    buy_factor = 1.0 + limits.buy_fee
    sell_factor = 1.0 - limits.sell_fee
    first = sell_factor * bids[0][0] / asks[0][0] - buy_factor
    if first <= 0.0 or first < limits.min_edge:
        return Rejection.NO_EDGE

    step = limits.step
    budget = min(limits.quote_available / buy_factor, limits.max_notional)
    cap = min(_depth(asks), _depth(bids), limits.base_available, size_for_notional(asks, budget))
    top_lot = math.floor(cap / step + _GRID_EPS) if cap > 0.0 else 0
    if top_lot < 1:
        return Rejection.NO_CAPACITY
    low = max(
        limits.min_size,
        size_for_notional(asks, limits.min_notional_buy),
        size_for_notional(bids, limits.min_notional_sell),
    )
    if low == math.inf:
        return Rejection.BELOW_MINIMUM
    low_lot = max(1, math.ceil(low / step - _GRID_EPS))
    if low_lot > top_lot:
        return Rejection.BELOW_MINIMUM

    target = continuous_optimum(
        asks, bids, buy_factor, sell_factor, buy_factor + limits.min_edge, cap
    )
    lots = math.floor(target / step + _GRID_EPS)
    lots = min(max(lots, low_lot), top_lot)
    best: Trade | None = None
    for candidate in (lots, lots + 1):
        if candidate > top_lot:
            break
        trade = price_lots(asks, bids, candidate, limits)
        if (
            trade is not None
            and trade.net_profit > 0.0
            and trade.edge >= limits.min_edge - _EDGE_EPS
            and (best is None or trade.net_profit > best.net_profit)
        ):
            best = trade
    if best is None:
        return Rejection.NO_EDGE
    return best
