"""Rate budgets: a token bucket per endpoint bucket, with the venue's request weights.

A reconnect of 200 symbols must not burst 200 snapshot calls: snapshot fetches acquire the
venue's snapshot budget, which paces them at the configured rate. ``pause_until`` honours a
venue's Retry-After for every caller of the bucket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BucketLimit:
    """``capacity`` weight units, refilled at ``per_second`` units per second."""

    capacity: float
    per_second: float


class Limiter(Protocol):
    """What a RestClient needs from a limiter: this module's RateLimiter (per process) or
    shared_ratelimit.RedisRateLimiter (every process of a deployment)."""

    async def acquire(self, name: str = "default", weight: float = 1.0) -> float: ...

    def pause_all(self, seconds: float) -> None: ...

    def capacity(self, name: str = "default") -> float: ...


class TokenBucket:
    __slots__ = ("_lock", "_paused_until", "_tokens", "_updated", "limit")

    def __init__(self, limit: BucketLimit) -> None:
        self.limit = limit
        self._tokens = limit.capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        self._updated = now
        self._tokens = min(self.limit.capacity, self._tokens + elapsed * self.limit.per_second)

    async def acquire(self, weight: float = 1.0) -> float:
        """Wait until ``weight`` units are available; returns the seconds waited."""
        if weight > self.limit.capacity:
            raise ValueError(f"weight {weight} exceeds bucket capacity {self.limit.capacity}")
        waited = 0.0
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._refill(now)
                    if self._tokens >= weight:
                        self._tokens -= weight
                        return waited
                    delay = (weight - self._tokens) / self.limit.per_second
                waited += delay
                await asyncio.sleep(delay)

    def pause_for(self, seconds: float) -> None:
        """Honour a Retry-After: nobody acquires from this bucket for ``seconds``."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._tokens = 0.0


class RateLimiter:
    """Named buckets of one venue. Unknown bucket names use ``default``."""

    def __init__(self, limits: Mapping[str, BucketLimit]) -> None:
        if "default" not in limits:
            raise ValueError("a RateLimiter needs a 'default' bucket")
        self._buckets = {name: TokenBucket(limit) for name, limit in limits.items()}

    def bucket(self, name: str) -> TokenBucket:
        return self._buckets.get(name) or self._buckets["default"]

    async def acquire(self, name: str = "default", weight: float = 1.0) -> float:
        return await self.bucket(name).acquire(weight)

    def capacity(self, name: str = "default") -> float:
        return self.bucket(name).limit.capacity

    def pause_all(self, seconds: float) -> None:
        for bucket in self._buckets.values():
            bucket.pause_for(seconds)
