"""Shard leases against a real Redis: claims, standby takeover, renewal, loss, release."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from arb_runtime.metrics import HealthState
from arb_runtime.shards import ShardLease, ShardLeaseLost, hold_shard
from arb_structs.constants import shard_lease_key

pytestmark = pytest.mark.integration

TTL_MS = 300


def lease(redis, token: str, count: int = 2, ttl_ms: int = TTL_MS, **kw) -> ShardLease:
    return ShardLease(
        redis, service="detector", group="g", count=count, token=token, ttl_ms=ttl_ms, **kw
    )


async def test_two_claimers_get_different_indices_lowest_first(redis):
    a, b = lease(redis, "a"), lease(redis, "b")
    assert await a.try_claim() == 0
    assert await b.try_claim() == 1
    assert await redis.get(shard_lease_key("detector", "g", 2, 0)) == b"a"
    assert await redis.get(shard_lease_key("detector", "g", 2, 1)) == b"b"
    assert 0 < await redis.pttl(a.key) <= TTL_MS


async def test_a_third_claimer_stands_by_and_takes_over_a_released_lease(redis):
    a, b, c = lease(redis, "a"), lease(redis, "b"), lease(redis, "c")
    await a.try_claim()
    await b.try_claim()
    health = HealthState(service="detector", instance="c")
    stopping = asyncio.Event()
    waiting = asyncio.create_task(c.claim(stopping, health))
    await asyncio.sleep(0.15)
    assert not waiting.done()  # all held: standing by
    assert health.detail["shard"].startswith("standby")
    assert await b.release()
    assert await asyncio.wait_for(waiting, 2.0) == 1
    assert await redis.get(c.key) == b"c"


async def test_a_standby_takes_over_when_a_lease_expires_unrenewed(redis):
    a, b, c = lease(redis, "a"), lease(redis, "b"), lease(redis, "c")
    await a.try_claim()
    await b.try_claim()
    loop = asyncio.get_running_loop()
    started = loop.time()
    keeper = asyncio.create_task(a.keep(asyncio.Event()))  # a stays alive; b "crashed"
    try:
        assert await asyncio.wait_for(c.claim(asyncio.Event()), 2.0) == 1
        waited = loop.time() - started
        assert TTL_MS / 1000 * 0.8 <= waited <= TTL_MS / 1000 + 0.5
        assert await redis.get(shard_lease_key("detector", "g", 2, 0)) == b"a"  # renewed
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def test_renewing_a_lease_another_holds_reports_loss_and_leaves_it_alone(redis):
    a = lease(redis, "a")
    await a.try_claim()
    await redis.set(a.key, "intruder", px=5_000)  # a's lease expired and another claimed it
    assert not await a.renew()
    assert await redis.get(a.key) == b"intruder"
    assert 1_000 < await redis.pttl(a.key) <= 5_000  # not extended to a's TTL


async def test_a_flushed_lease_is_taken_back_on_renewal(redis):
    a = lease(redis, "a")
    await a.try_claim()
    await redis.flushdb()
    assert await a.renew()
    assert await redis.get(a.key) == b"a"


async def test_release_never_deletes_another_replicas_lease(redis):
    a = lease(redis, "a")
    await a.try_claim()
    await redis.set(a.key, "b", px=5_000)
    assert not await a.release()
    assert await redis.get(a.key) == b"b"
    await redis.set(a.key, "a", px=5_000)
    assert await a.release()
    assert await redis.exists(a.key) == 0


async def test_the_keeper_stops_the_service_when_its_lease_is_stolen(redis, caplog):
    stopping = asyncio.Event()
    with pytest.raises(ShardLeaseLost, match="held by intruder"):
        async with hold_shard(
            redis, stopping, service="ingest", group="okx", count=1, instance="me", ttl_ms=TTL_MS
        ) as held:
            assert held is not None and held.index == 0
            await redis.set(held.key, "intruder", px=5_000)
            await asyncio.wait_for(stopping.wait(), 2.0)  # the keeper noticed at its renewal
    assert await redis.get(shard_lease_key("ingest", "okx", 1, 0)) == b"intruder"
    assert "stopping so the service restarts" in caplog.text


async def test_hold_shard_keeps_the_lease_alive_and_releases_it_on_a_clean_stop(redis):
    stopping = asyncio.Event()
    health = HealthState(service="ingest", instance="me")
    async with hold_shard(
        redis, stopping, service="ingest", group="okx", count=2, instance="me",
        ttl_ms=TTL_MS, health=health,
    ) as held:  # fmt: skip
        assert held is not None
        await asyncio.sleep(TTL_MS / 1000 * 3)  # three TTLs: only renewals keep it
        assert (await redis.get(held.key)).startswith(b"me:")
        assert health.detail["shard"] == "0/2 (auto)"
    assert await redis.exists(shard_lease_key("ingest", "okx", 2, 0)) == 0


async def test_hold_shard_yields_none_when_stopped_while_standing_by(redis):
    await redis.set(shard_lease_key("ingest", "okx", 1, 0), "other", px=5_000)
    stopping = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, stopping.set)
    async with hold_shard(
        redis, stopping, service="ingest", group="okx", count=1, instance="me", ttl_ms=TTL_MS
    ) as held:
        assert held is None
    assert await redis.get(shard_lease_key("ingest", "okx", 1, 0)) == b"other"
