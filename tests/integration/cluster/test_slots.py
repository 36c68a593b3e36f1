"""The executor's keys in one hash slot, and the start-up rename of the old names
(arb_executor.layout), on one server and on a Redis Cluster.

The truth each test checks against is what was written under the old names before the
migration (values by DUMP, TTLs, a stream's groups and pending entries), read back under the
new names afterwards, not the migration's own count alone.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from arb_cli.exposure import _close
from arb_executor.exposure import ExposureBook
from arb_executor.journal import RedisJournal
from arb_executor.layout import LAYOUT, migrate, new_name
from arb_executor.riskstore import BLOCKS_KEY, BREAKERS_KEY, RiskStore
from arb_runtime.redis import connect
from arb_runtime.shards import ShardLease
from arb_runtime.streams import GroupConsumer, StreamProducer
from arb_structs import ExposureEvent, ExposureKind, OrderIntent, Side
from arb_structs import constants as c
from arb_structs.codec import EXPOSURE
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.shared_ratelimit import RedisRateLimiter
from redis.crc import key_slot

from tests.unit.executor.support import opportunity

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# Old name -> what to write there (as one server held it before layout 2).
OLD = {
    "arb:exec:saga:opp-1": ("hset", {"state": "sending", "owner": "vm"}),
    "arb:exec:open": ("sadd", ["opp-1"]),
    "arb:exec:orders": ("zadd", {"arb1a": 1.0, "arb1b": 2.0}),
    "arb:exec:seen:opp-1": ("set", "1"),
    "arb:exec:risk:blocks": ("hset", {"BTC-USDT|binance|okx": "99"}),
    "arb:exec:exposure": ("hset", {"x1": "event"}),
    "arb:exec:ledger:{okx}": ("hset", {"ts": "5", "baseline": "{}"}),
    "arb:exec:epoch": ("set", "token"),
}


def test_every_executor_key_is_in_one_slot() -> None:
    names = [
        c.executor_seen_key("o"), c.saga_key("o"), c.saga_claim_key("o"),
        c.executor_risk_key("blocks"), c.executor_ledger_key("okx"), c.EXPOSURE_STREAM,
        c.OPEN_SAGAS_KEY, c.LATE_ORDERS_KEY, c.EXPOSURE_OPEN_KEY, c.EXPOSURE_ACKS_KEY,
        c.EXECUTOR_ORDERS_KEY, c.EXECUTOR_EPOCH_KEY, c.EXECUTOR_LAYOUT_KEY,
        c.EXECUTOR_LAYOUT_LOCK_KEY, f"{c.executor_ledger_key('okx')}:roll",
    ]  # fmt: skip
    assert {key_slot(n.encode()) for n in names} == {key_slot(b"exec")}
    assert new_name("arb:exec:ledger:{okx}:roll") == "arb:{exec}:ledger:okx:roll"
    assert new_name("arb:exposure") == c.EXPOSURE_STREAM
    assert new_name("arb:md:{okx}") is None


async def _seed(redis: Any) -> dict[str, bytes]:
    for key, (kind, value) in OLD.items():
        if kind == "hset":
            await redis.hset(key, mapping=value)
        elif kind == "sadd":
            await redis.sadd(key, *value)
        elif kind == "zadd":
            await redis.zadd(key, value)
        else:
            await redis.set(key, value)
    await redis.pexpire("arb:exec:seen:opp-1", 600_000)
    await redis.pexpire("arb:exec:saga:opp-1", 600_000)
    # the exposure stream, with the recorder's group and one entry delivered, not acked
    await redis.xadd("arb:exposure", {b"d": b"e1"})
    await redis.xgroup_create("arb:exposure", c.RECORDER_GROUP, id="0")
    await redis.xreadgroup(c.RECORDER_GROUP, "rec-1", {"arb:exposure": ">"}, count=1)
    # a recorder of the new version started first: it made the new stream, empty, with a group
    await redis.xgroup_create(c.EXPOSURE_STREAM, c.RECORDER_GROUP, id="0", mkstream=True)
    return {k: await redis.dump(k) for k in OLD}


async def test_old_keys_renamed_once_by_one_of_two_executors_starting_together(
    any_redis: Any,
) -> None:
    redis = any_redis
    before = await _seed(redis)
    moved = await asyncio.gather(migrate(redis), migrate(redis))  # two starts interleaved
    assert sorted(moved) == [0, len(OLD) + 1], moved  # one moved everything, the other none
    for old, dumped in before.items():
        new = new_name(old)
        assert new is not None and new.startswith("arb:{exec}:")
        assert await redis.exists(old) == 0, old
        assert await redis.dump(new) == dumped, f"{old} -> {new} changed its value"
    assert 0 < await redis.pttl(c.executor_seen_key("opp-1")) <= 600_000
    assert 0 < await redis.pttl(c.saga_key("opp-1")) <= 600_000
    assert await redis.pttl(c.OPEN_SAGAS_KEY) == -1
    # the old stream replaced the untouched new one: its entry and the pending delivery kept
    assert await redis.exists("arb:exposure") == 0
    assert [e[1] for e in await redis.xrange(c.EXPOSURE_STREAM)] == [{b"d": b"e1"}]
    pending = await redis.xpending(c.EXPOSURE_STREAM, c.RECORDER_GROUP)
    assert pending["pending"] == 1
    assert await redis.get(c.EXECUTOR_LAYOUT_KEY) == LAYOUT
    assert await redis.exists(c.EXECUTOR_LAYOUT_LOCK_KEY) == 0
    # an old key written after the migration (an executor of the old layout still running)
    # is not picked up by a later start: the layout key says it is done
    await redis.set("arb:exec:seen:late", "1")
    assert await migrate(redis) == 0


async def test_a_new_key_with_data_is_never_overwritten_and_a_dead_mover_is_taken_over(
    any_redis: Any,
) -> None:
    redis = any_redis
    await redis.sadd("arb:exec:open", "old-saga")
    await redis.sadd(c.OPEN_SAGAS_KEY, "new-saga")
    await redis.hset("arb:exec:late", "arb1", "w")
    # a mover that died: its lock is there, with a short TTL, and the layout key is not
    await redis.set(c.EXECUTOR_LAYOUT_LOCK_KEY, "dead-executor", px=300)
    assert await migrate(redis, wait_s=10) == 1  # waited for the lock, then moved `late`
    assert await redis.smembers(c.OPEN_SAGAS_KEY) == {b"new-saga"}
    assert await redis.smembers("arb:exec:open") == {b"old-saga"}  # left, with a warning
    assert await redis.hgetall(c.LATE_ORDERS_KEY) == {b"arb1": b"w"}
    assert await redis.get(c.EXECUTOR_LAYOUT_KEY) == LAYOUT


async def test_two_processes_migrating_at_once_move_each_key_exactly_once(
    any_redis: Any, request: pytest.FixtureRequest
) -> None:
    """Two clients (two executors' connection pools), many keys, started together."""
    redis = any_redis
    for i in range(300):
        await redis.set(f"arb:exec:seen:o{i}", str(i), px=600_000)
    url = (request.getfixturevalue("redis_cluster").url
           if request.node.callspec.params["any_redis"] == "cluster"
           else request.getfixturevalue("redis_url"))  # fmt: skip
    other: Any = await connect(url)
    try:
        moved = await asyncio.gather(migrate(redis, batch=50), migrate(other, batch=50))
    finally:
        await other.aclose()
    assert sorted(moved) == [0, 300]
    for i in range(300):
        assert await redis.get(c.executor_seen_key(f"o{i}")) == str(i).encode()
    leftover = [k async for k in redis.scan_iter(match="arb:exec:*")]
    assert leftover == []


# -- every transaction and script the services run, on both backends --------------------------
#
# The audit (grep for pipeline(transaction=True), EVAL, register_script): arb exposure close,
# the journal's first write, dead-lettering, the shared rate limits, the shard leases, the
# risk store's keep-the-later script and the exposure registry's update-if-open script.
# durability.execute_on_disk is single-server only (probe() never confirms on a cluster).
# Non-transactional pipelines are split per node by the cluster client and need no slot.


async def test_arb_exposure_close_is_one_transaction(any_redis: Any) -> None:
    redis = any_redis
    open_one = ExposureEvent(id="u1", venue="binance", asset="BTC",
                             kind=ExposureKind.UNEXPLAINED, size="0.002")  # fmt: skip
    await redis.hset(c.EXPOSURE_OPEN_KEY, "u1", EXPOSURE.encode(open_one))
    await redis.hset(BLOCKS_KEY, mapping={"BTC-USDT|binance|okx": "9", "ETH-USDT|okx|bybit": "9"})
    acked = await _close(redis, "binance", "BTC", "ops", "checked by hand")
    assert [(e.id, e.kind) for e in acked] == [("u1", ExposureKind.ACKNOWLEDGED)]
    assert await redis.hgetall(c.EXPOSURE_OPEN_KEY) == {}
    record = [EXPOSURE.decode(f[c.PAYLOAD_FIELD]) for _, f in await redis.xrange(c.EXPOSURE_STREAM)]
    assert [(e.id, e.kind, e.actor) for e in record] == [("u1", ExposureKind.ACKNOWLEDGED, "ops")]
    assert list(await redis.hkeys(c.EXPOSURE_ACKS_KEY)) == [b"binance|BTC"]
    assert list(await redis.hkeys(BLOCKS_KEY)) == [b"ETH-USDT|okx|bybit"]


async def test_a_sagas_first_write_is_one_transaction(any_redis: Any) -> None:

    redis = any_redis
    producer = StreamProducer(redis)
    journal = RedisJournal(redis, producer, instance="vm")
    intent = OrderIntent(venue="binance", symbol="BTC-USDT", side=Side.BUY, price="100",
                         size="0.1", client_order_id="arb-t1")  # fmt: skip
    await journal.begin(opportunity("opp-t1"), {"buy": intent})
    assert await redis.smembers(c.OPEN_SAGAS_KEY) == {b"opp-t1"}
    assert (await redis.hget(c.saga_key("opp-t1"), "owner")) == b"vm"
    assert await redis.zscore(c.EXECUTOR_ORDERS_KEY, "arb-t1") is not None
    [saga] = await journal.open_sagas()
    assert saga.intents["buy"] == intent
    await producer.close()


async def test_dead_lettering_moves_and_acks_in_one_transaction(any_redis: Any) -> None:
    redis = any_redis
    stream = c.OPPORTUNITIES_STREAM
    await redis.xadd(stream, {c.PAYLOAD_FIELD: b"poison"})

    async def refuse(entry: Any) -> None:
        raise ValueError("cannot decode")

    consumer = GroupConsumer(redis, stream, "g", "c1", refuse, claim_idle_ms=1,
                             max_deliveries=2, start_id="0", block_ms=10)  # fmt: skip
    await consumer.ensure_group()
    await redis.xreadgroup("g", "c1", {stream: ">"}, count=10)
    for _ in range(4):
        await asyncio.sleep(0.01)
        await consumer.reclaim()
    dead = await redis.xrange(c.dead_letter_stream(stream))
    assert [f[c.PAYLOAD_FIELD] for _, f in dead] == [b"poison"]
    assert (await redis.xpending(stream, "g"))["pending"] == 0


async def test_shared_rate_limit_and_shard_lease_scripts(any_redis: Any) -> None:
    redis = any_redis
    limiter = RedisRateLimiter(redis, "okx", {"default": BucketLimit(2, 1)})
    assert await limiter.acquire() == 0.0 and await limiter.acquire() == 0.0
    assert limiter.fallbacks == 0  # the script answered, no per-process fallback
    limiter.pause_all(30)
    await limiter.flush()
    assert int(await redis.get(c.rate_limit_pause_key("okx"))) > 0
    lease = ShardLease(redis, service="detector", group="binance,okx", count=2, token="t1")
    assert await lease.try_claim() == 0
    assert await lease.renew()
    assert await lease.release()
    assert await lease.holders() == ["", ""]


async def test_risk_and_exposure_scripts_through_the_producer(any_redis: Any) -> None:
    redis = any_redis
    producer = StreamProducer(redis)
    store = RiskStore(producer)
    store.breaker("okx", 200)
    store.breaker("okx", 100)  # the later deadline wins
    store.block(("BTC-USDT", "binance", "okx"), 50)
    book = ExposureBook(producer, "vm")
    opened = book.unhedged(opportunity_id="o1", venue="okx", asset="BTC", size=Decimal("0.1"),
                           entry=Decimal("100"), mark=None, reason="hedge failed")  # fmt: skip
    book.remark(opened.id, Decimal("90"))
    await producer.flush()
    assert await redis.hget(BREAKERS_KEY, "okx") == b"200"
    assert await redis.hget(BLOCKS_KEY, "BTC-USDT|binance|okx") == b"50"
    marked = EXPOSURE.decode(await redis.hget(c.EXPOSURE_OPEN_KEY, opened.id))
    assert (marked.mark_price, Decimal(marked.unrealised_pnl)) == ("90", Decimal("-1"))
    await producer.close()


async def test_arb_exposure_on_an_old_layout_says_to_start_an_executor_first(
    redis: Any, redis_url: str
) -> None:
    await redis.hset("arb:exec:exposure", "x1", "event")  # an old executor's registry

    def exposure() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "arb_cli", "exposure"], capture_output=True,
                              text=True, timeout=30,
                              env={**os.environ, "ARB_REDIS_URL": redis_url})  # fmt: skip

    before = await asyncio.to_thread(exposure)
    assert before.returncode == 2 and before.stderr.strip().count("\n") == 0, before.stderr
    assert "old key names" in before.stderr and "start an executor" in before.stderr
    await migrate(redis)
    after = await asyncio.to_thread(exposure)
    assert after.returncode == 0 and "no open exposure" in after.stdout, after.stderr
