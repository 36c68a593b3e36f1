"""The one retry pause of the project: capped exponential backoff with full jitter.

    backoff = Backoff(base_s=0.05, cap_s=2.0)
    retry = backoff.attempts()
    while True:
        try:
            return await do()
        except SomethingRetryable:
            await wait_or_stop(stopping, retry.next_delay())

Delay of attempt n (0-based): uniform in [0, min(cap, base * 2**n)]. The jitter spreads a
fleet that failed together (every service when Redis restarts, every ingest when a venue
drops its sockets) over the window instead of retrying in lockstep: the "full jitter" of
https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ .

This module imports nothing but the standard library, so the venue library (WebSocket
reconnects, REST retries) and the Redis loops of the runtime share it without pulling redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before retry ``attempt`` (0 = the first retry)."""

    base_s: float = 0.5
    cap_s: float = 30.0

    def __post_init__(self) -> None:
        if not (self.base_s > 0 and self.cap_s >= self.base_s):
            raise ValueError(
                f"Backoff(base_s={self.base_s}, cap_s={self.cap_s}): need 0 < base_s <= cap_s"
            )

    def ceiling(self, attempt: int) -> float:
        """The upper end of attempt ``attempt``'s window: min(cap, base * 2**attempt)."""
        return min(self.cap_s, self.base_s * float(2 ** min(attempt, 62)))

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, ceiling(attempt)]."""
        return random.uniform(0.0, self.ceiling(attempt))

    def attempts(self) -> Attempts:
        """A counter of consecutive failures that hands out this backoff's delays."""
        return Attempts(self)


class Attempts:
    """Consecutive failures of one loop: ``next_delay()`` after a failure, ``reset()`` after
    a success."""

    __slots__ = ("attempt", "backoff")

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.attempt = 0

    def next_delay(self) -> float:
        delay = self.backoff.delay(self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


# The pause of every Redis retry loop (readers, consumer groups, the batched writer): short
# first retries so a blip costs little, capped at 2 s so a restarted Redis is found quickly.
REDIS_BACKOFF = Backoff(base_s=0.05, cap_s=2.0)


async def wait_or_stop(stopping: asyncio.Event | None, seconds: float) -> bool:
    """Sleep ``seconds``, or less if ``stopping`` is set meanwhile; True if it was set."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()
