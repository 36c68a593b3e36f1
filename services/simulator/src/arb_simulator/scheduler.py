"""Dislocations injected on a schedule, so a run can be scored against ground truth.

Every ``interval_s`` (counted in market ticks, so a seed fixes the whole schedule) one book
that is not already dislocated is picked at random and dislocated by a random number of bps
for a random duration, offering a random notional at the crossing price. Pure: it only calls
``Market.inject``, which hands the TruthEvent to the market's truth listeners.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from arb_structs import TruthEvent

from arb_simulator.market import Market


@dataclass(frozen=True, slots=True)
class InjectionPlan:
    interval_s: float = 2.0  # 0 = no scheduled injections
    bps_min: float = 25.0
    bps_max: float = 60.0
    duration_min_s: float = 0.3
    duration_max_s: float = 1.5
    notional_min: float = 2_000.0  # quote units offered at the crossing price
    notional_max: float = 20_000.0

    def __post_init__(self) -> None:
        if self.interval_s < 0:
            raise ValueError(f"injection interval_s {self.interval_s}: must be >= 0")
        for low, high, name in (
            (self.bps_min, self.bps_max, "bps"),
            (self.duration_min_s, self.duration_max_s, "duration_s"),
            (self.notional_min, self.notional_max, "notional"),
        ):
            if not 0 < low <= high:
                raise ValueError(f"injection {name} range {low}..{high}: need 0 < min <= max")


class DislocationScheduler:
    def __init__(self, market: Market, plan: InjectionPlan, seed: int = 1) -> None:
        self.market = market
        self.plan = plan
        self._rng = random.Random(f"inject:{seed}")
        self._every = max(1, round(plan.interval_s / market.dt_s)) if plan.interval_s else 0
        self._countdown = self._every

    def on_step(self) -> TruthEvent | None:
        """Call after each market step; injects when the interval has passed."""
        if not self._every:
            return None
        self._countdown -= 1
        if self._countdown > 0:
            return None
        self._countdown = self._every
        return self.inject_random()

    def inject_random(self) -> TruthEvent | None:
        """One dislocation on a random free book; None when every book is dislocated."""
        market, plan, rng = self.market, self.plan, self._rng
        busy = set(market.active_dislocations())
        free = [(v, s) for v in market.venues for s in market.symbols if (v, s) not in busy]
        if not free:
            return None
        venue, symbol = rng.choice(free)
        notional = rng.uniform(plan.notional_min, plan.notional_max)
        size = notional / market.fair[symbol].price
        lot = float(market.book(venue, symbol).lot)
        size = max(size, lot)
        return market.inject(
            venue,
            symbol,
            rng.choice(("up", "down")),
            round(rng.uniform(plan.bps_min, plan.bps_max), 1),
            size,
            round(rng.uniform(plan.duration_min_s, plan.duration_max_s), 3),
        )
