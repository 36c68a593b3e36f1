"""The shared fair price: one geometric random walk per symbol, deterministic under a seed.

Every venue quotes around the same fair price (with its own noise and lag, see book.py), so
venues agree the way real ones do and only injected dislocations cross them by a tradable
amount. The walk advances in fixed steps of ``dt_s``: its path depends on the seed and the
number of steps only, never on wall-clock time.
"""

from __future__ import annotations

import math
import random
from collections import deque

SECONDS_PER_YEAR = 365.0 * 24 * 3600


class FairPrice:
    """Fair price of one symbol, with a short history so lagging venues can look back."""

    __slots__ = ("_drift", "_history", "_rng", "_shock", "price", "steps")

    def __init__(
        self,
        start: float,
        volatility: float,
        dt_s: float,
        seed: int | str,
        history: int = 256,
    ) -> None:
        """``volatility`` is annualised (0.6 = 60 %/year, about 1 bp per second)."""
        if start <= 0:
            raise ValueError(f"fair price start {start}: must be > 0")
        if volatility < 0 or dt_s <= 0:
            raise ValueError(f"volatility {volatility} / dt_s {dt_s}: need >= 0 and > 0")
        sigma = volatility * math.sqrt(dt_s / SECONDS_PER_YEAR)
        self._shock = sigma
        self._drift = -0.5 * sigma * sigma  # keeps the walk a martingale in price
        self._rng = random.Random(f"fair:{seed}")
        self._history: deque[float] = deque([start], maxlen=max(2, history))
        self.price = start
        self.steps = 0

    def step(self) -> float:
        self.price *= math.exp(self._drift + self._shock * self._rng.gauss(0.0, 1.0))
        self._history.append(self.price)
        self.steps += 1
        return self.price

    def lagged(self, steps_back: int) -> float:
        """The price ``steps_back`` steps ago (the oldest kept if further back)."""
        history = self._history
        if steps_back <= 0:
            return history[-1]
        if steps_back >= len(history):
            return history[0]
        return history[-1 - steps_back]
