"""RedisRateLimiter: one venue budget and one Retry-After pause shared by separate clients
(two limiters on two independent Redis connections, as two executor processes would be)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from arb_structs.constants import rate_limit_pause_key
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.shared_ratelimit import RedisRateLimiter

pytestmark = pytest.mark.integration

LIMITS = {"default": BucketLimit(10, 100), "orders": BucketLimit(5, 10)}


@pytest.fixture
async def second(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)  # another connection pool: another "process"
    try:
        yield client
    finally:
        await client.aclose()


async def test_a_budget_spent_by_one_client_makes_the_other_wait(
    redis: aioredis.Redis, second: aioredis.Redis
) -> None:
    one = RedisRateLimiter(redis, "binance", LIMITS)
    two = RedisRateLimiter(second, "binance", LIMITS)
    for _ in range(5):
        assert await one.acquire("orders") == 0.0  # the whole burst of 5
    started = time.monotonic()
    waited = await two.acquire("orders")  # refills at 10/s: about 100 ms
    elapsed = time.monotonic() - started
    assert waited >= 0.05 and 0.05 <= elapsed < 1.0
    assert await two.acquire("default") == 0.0  # other buckets are not affected


async def test_retry_after_seen_by_one_client_holds_the_other_for_the_full_pause(
    redis: aioredis.Redis, second: aioredis.Redis
) -> None:
    one = RedisRateLimiter(redis, "bybit", LIMITS)
    two = RedisRateLimiter(second, "bybit", LIMITS)
    assert await two.acquire() == 0.0  # free to go before the 429
    one.pause_all(0.5)  # a 429 with Retry-After: 0.5 s, seen by the first client only
    await one.flush()
    assert await second.get(rate_limit_pause_key("bybit")) is not None
    started = time.monotonic()
    await two.acquire("orders")  # every bucket of the venue waits
    assert time.monotonic() - started >= 0.45


async def test_venues_do_not_share_budgets_or_pauses(redis: aioredis.Redis) -> None:
    a = RedisRateLimiter(redis, "binance", LIMITS)
    b = RedisRateLimiter(redis, "kraken", LIMITS)
    a.pause_all(5.0)
    await a.flush()
    assert await b.acquire("orders") == 0.0
