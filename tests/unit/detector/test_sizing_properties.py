"""Properties of the sizing search against an exact brute force over every lot-grid size.

The brute force is exact: every input is the decimal it stands for (``D(0.01)`` is 1/100, as
on the venue), and a size is a whole number of decimal lot steps. The search works in
floats with tolerances of about a billionth, so the comparison is a sandwich: the search must
do at least as well as the best size that satisfies every limit tightened by 1e-9, and what it
returns must satisfy every limit loosened by 1e-9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
from arb_detector.sizing import Rejection, SizingLimits, Trade, find_best_trade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

SLACK = Fraction(1, 10**9)


def D(value: float) -> Fraction:
    """The decimal a float stands for (the generators only make short decimals)."""
    return Fraction(repr(value))


@dataclass
class Exact:
    lots: int
    net: Fraction
    buy_notional: Fraction
    sell_notional: Fraction


def exact_walk(levels, size: Fraction) -> Fraction | None:
    remaining = size
    notional = Fraction(0)
    for price, amount in levels:
        take = min(D(amount), remaining)
        notional += take * D(price)
        remaining -= take
        if remaining == 0:
            return notional
    return None


def exact_price(asks, bids, limits: SizingLimits, lots: int) -> Exact | None:
    size = lots * D(limits.step)
    bought = exact_walk(asks, size)
    sold = exact_walk(bids, size)
    if bought is None or sold is None:
        return None
    net = (1 - D(limits.sell_fee)) * sold - (1 + D(limits.buy_fee)) * bought
    return Exact(lots, net, bought, sold)


def feasible(e: Exact, limits: SizingLimits, slack: Fraction) -> bool:
    """Every limit, loosened (slack > 0) or tightened (slack < 0) by a relative amount."""
    size = e.lots * D(limits.step)
    loose = 1 + slack
    tight = 1 - slack

    def at_most(value: Fraction, bound: float) -> bool:
        return math.isinf(bound) or value <= D(bound) * loose

    def at_least(value: Fraction, bound: float) -> bool:
        return value * loose >= D(bound)

    return (
        e.net > 0
        and at_least(size, limits.min_size)
        and at_least(e.buy_notional, limits.min_notional_buy)
        and at_least(e.sell_notional, limits.min_notional_sell)
        and at_most(e.buy_notional * (1 + D(limits.buy_fee)), limits.quote_available)
        and at_most(size, limits.base_available)
        and at_most(e.buy_notional, limits.max_notional)
        and e.net * loose >= D(limits.min_edge) * e.buy_notional * tight
    )


def brute_force(asks, bids, limits: SizingLimits, slack: Fraction) -> Exact | None:
    depth = min(sum(D(a) for _, a in asks), sum(D(b) for _, b in bids))
    best: Exact | None = None
    for lots in range(1, int(depth / D(limits.step)) + 1):
        e = exact_price(asks, bids, limits, lots)
        if e is not None and feasible(e, limits, slack) and (best is None or e.net > best.net):
            best = e
    return best


STEPS = [0.01, 0.02, 0.03, 0.05, 0.006, 0.1]


@st.composite
def books(draw):
    top_ask = draw(st.integers(9_900, 10_100)) / 100
    spread = draw(st.integers(-50, 300)) / 100  # top bid - top ask
    asks, bids = [], []
    price = top_ask
    for _ in range(draw(st.integers(1, 4))):
        asks.append((price, draw(st.integers(1, 60)) / 100))
        price = round(price + draw(st.integers(1, 150)) / 100, 2)
    price = round(top_ask + spread, 2)
    for _ in range(draw(st.integers(1, 4))):
        bids.append((price, draw(st.integers(1, 60)) / 100))
        price = round(price - draw(st.integers(1, 150)) / 100, 2)
    return asks, bids


optional = st.one_of(st.just(math.inf), st.floats(0.0, 400.0, allow_nan=False))

limit_sets = st.builds(
    SizingLimits,
    buy_fee=st.sampled_from([0.0, 0.0005, 0.001, 0.0026]),
    sell_fee=st.sampled_from([0.0, 0.0005, 0.001, 0.0026]),
    step=st.sampled_from(STEPS),
    min_size=st.sampled_from([0.0, 0.0, 0.05, 0.2]),
    min_notional_buy=st.sampled_from([0.0, 0.0, 5.0, 30.0]),
    min_notional_sell=st.sampled_from([0.0, 0.0, 5.0, 30.0]),
    quote_available=optional,
    base_available=st.one_of(st.just(math.inf), st.floats(0.0, 2.0, allow_nan=False)),
    max_notional=optional,
    min_edge=st.sampled_from([0.0, 0.0, 0.0005, 0.002, 0.01]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=books(), limits=limit_sets)
def test_search_matches_the_brute_force_optimum_over_the_lot_grid(book, limits):
    asks, bids = book
    result = find_best_trade(asks, bids, limits)
    best = brute_force(asks, bids, limits, -SLACK)
    if best is not None:
        assert isinstance(result, Trade), f"missed {best} ({result})"
    if isinstance(result, Trade):
        found = exact_price(asks, bids, limits, result.lots)
        assert found is not None, "size beyond the visible depth"
        assert feasible(found, limits, SLACK), f"limits broken by {result}"
        if best is not None:
            tolerance = SLACK * (1 + abs(best.net))
            assert found.net >= best.net - tolerance, (result.lots, best.lots)
        assert float(found.net) == pytest.approx(result.net_profit, rel=1e-9, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(book=books(), limits=limit_sets)
def test_a_trade_is_never_unprofitable_nor_beyond_depth_or_balances(book, limits):
    asks, bids = book
    result = find_best_trade(asks, bids, limits)
    if isinstance(result, Rejection):
        return
    eps = 1e-9
    assert result.net_profit > 0
    assert result.edge >= limits.min_edge - 1e-12
    assert result.size <= sum(a for _, a in asks) * (1 + eps)
    assert result.size <= sum(b for _, b in bids) * (1 + eps)
    assert result.size <= limits.base_available * (1 + eps)
    assert result.buy_notional * (1 + limits.buy_fee) <= limits.quote_available * (1 + eps)
    assert result.buy_notional <= limits.max_notional * (1 + eps)
    assert result.buy_worst >= asks[0][0] and result.sell_worst <= bids[0][0]
