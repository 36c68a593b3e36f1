"""Rate budgets shared by every process through Redis, honouring Retry-After for all of them.

One token bucket per (venue, bucket) lives in a Redis hash
(``arb_structs.constants.rate_limit_key``), refilled by a Lua script on Redis's own clock
(``TIME``), so processes on several hosts share one budget without trusting their clocks.
A Retry-After sets ``rate_limit_pause_key(venue)`` to "no request before" (ms), which the
same script checks first: a 429 seen by one process pauses every process of the venue.

Same interface as ``RateLimiter`` (``acquire(name, weight)``, ``pause_all(seconds)``), so a
RestClient takes either. Keys carry the venue's hash tag (Redis Cluster ready).
``venue_limiter`` is how every service builds the limiter of a venue's REST client: the
executor's orders and queries and ingest's snapshots and audits draw from one table of
limits (``VenueSpec.rest_limits``), so N ingest replicas and the executors together stay
inside the venue's IP limit.

An order must never wait for Redis: when Redis does not answer within ``redis_timeout_s``
(down, restarting), this process falls back to its own buckets of the same limits (and keeps
honouring the pauses it learned) until Redis answers again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from arb_structs.constants import rate_limit_key, rate_limit_pause_key

from arb_venues.common.ratelimit import BucketLimit, Limiter, RateLimiter


def _redis_unavailable() -> tuple[type[BaseException], ...]:
    """What the shared budget falls back on. Imported when first needed: a limiter exists
    only with a Redis client, and the venue library must not load redis by itself."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


# KEYS: bucket hash, pause key. ARGV: capacity, per_second, weight.
# Returns 0 when the weight was taken, else the milliseconds to wait before trying again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate / 1000)
local wait = 0
if tokens >= weight then
  tokens = tokens - weight
else
  wait = math.max(1, math.ceil((weight - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""

# KEYS: pause key. ARGV: pause ms. Only ever extends the pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


class RedisRateLimiter:
    """Named buckets of one venue, shared through Redis. Unknown names use ``default``."""

    def __init__(self, redis: Any, venue: str, limits: Mapping[str, BucketLimit],
                 redis_timeout_s: float = 0.25) -> None:  # fmt: skip
        if "default" not in limits:
            raise ValueError("a RedisRateLimiter needs a 'default' bucket")
        self.redis = redis
        self.venue = venue
        self.limits = dict(limits)
        self.redis_timeout_s = redis_timeout_s
        self.local = RateLimiter(limits)  # used while Redis does not answer
        self.fallbacks = 0
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)
        self._paused_until = 0.0  # monotonic; this process knows before Redis answers
        self._pending: set[asyncio.Task[Any]] = set()

    def _bucket(self, name: str) -> tuple[str, BucketLimit]:
        if name in self.limits:
            return name, self.limits[name]
        return "default", self.limits["default"]

    def capacity(self, name: str = "default") -> float:
        return self._bucket(name)[1].capacity

    async def acquire(self, name: str = "default", weight: float = 1.0) -> float:
        """Wait until ``weight`` units of the shared bucket are ours; the seconds waited."""
        bucket, limit = self._bucket(name)
        if weight > limit.capacity:
            raise ValueError(f"weight {weight} exceeds bucket capacity {limit.capacity}")
        await self.flush()  # a pause this process just learned must be in Redis first
        waited = 0.0
        keys = [rate_limit_key(self.venue, bucket), rate_limit_pause_key(self.venue)]
        while True:
            local = self._paused_until - time.monotonic()
            if local > 0:
                waited += local
                await asyncio.sleep(local)
                continue
            args = [limit.capacity, limit.per_second, weight]
            try:
                async with asyncio.timeout(self.redis_timeout_s):
                    wait_ms = int(await self._acquire(keys=keys, args=args))
            except Exception as exc:  # Redis away (or refusing): our own budget
                if not isinstance(exc, _redis_unavailable()):
                    raise
                self.fallbacks += 1
                return waited + await self.local.acquire(name, weight)
            if wait_ms <= 0:
                return waited
            waited += wait_ms / 1000
            await asyncio.sleep(wait_ms / 1000)

    async def flush(self) -> None:
        """Wait until every pause this process learned is written to Redis (at most
        ``redis_timeout_s``: the pause holds here anyway)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=self.redis_timeout_s)

    def pause_all(self, seconds: float) -> None:
        """Honour a Retry-After in this process at once and, through Redis, in every other."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        task = asyncio.ensure_future(
            self._pause(keys=[rate_limit_pause_key(self.venue)], args=[int(seconds * 1000)])
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def venue_limiter(venue: str, limits: Mapping[str, BucketLimit], shared: Any | None) -> Limiter:
    """The limiter of one venue's REST client: with ``shared`` (a Redis client) the budget
    and Retry-After pauses of every process of the deployment, else this process's own."""
    if shared is not None:
        return RedisRateLimiter(shared, venue, limits)
    return RateLimiter(limits)
