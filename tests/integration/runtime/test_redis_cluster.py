"""The runtime on a real Redis Cluster (3 primaries + 3 replicas of the redis-server binary,
tests/conftest.py ``redis_cluster``), through the ``redis+cluster://`` URL every service
takes.

What must hold, checked against what was written (the producer's numbered entries) and
against the cluster's own view (which node serves which slot), not the loops' counters:
- streams of several venues land on different primaries and one ordered reader reads every
  one of them (one XREAD per slot); shard leases and dead letters work on one slot;
- a primary SIGKILLed mid-flow: its replica takes over, the producer and the readers carry
  on without a restart, and every entry written is read exactly once, in order, by the
  ordered reader and by the consumer group (no loss, no duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from typing import Any

import pytest
from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.redis import REDIS_RETRYABLE, connect, is_cluster
from arb_runtime.shards import ShardLease
from arb_runtime.streams import GroupConsumer, StreamLoop, StreamProducer, StreamReader
from arb_structs.constants import dead_letter_stream, md_stream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

VENUES = ["binance", "okx", "bybit", "kraken", "coinbase", "bitfinex"]


async def _client(cluster: EmbeddedCluster) -> Any:
    redis = await connect(cluster.url, wait_s=10)
    assert is_cluster(redis)
    await redis.flushall(target_nodes="primaries")
    return redis


async def test_streams_of_venues_spread_over_primaries_and_one_reader_reads_all(
    redis_cluster: EmbeddedCluster,
) -> None:
    redis = await _client(redis_cluster)
    try:
        streams = [md_stream(v) for v in VENUES]
        owners = {redis_cluster.port_of_slot(redis.keyslot(s)) for s in streams}
        assert len(owners) >= 2, "the venues' hash tags should not all map to one primary"
        producer = StreamProducer(redis)
        for i in range(20):
            for s in streams:
                producer.xadd(s, f"{s}|{i}".encode())
        await producer.flush()
        reader = StreamReader(redis, dict.fromkeys(streams, "0"))
        got: dict[str, list[bytes]] = {s: [] for s in streams}
        deadline = time.monotonic() + 10
        while sum(map(len, got.values())) < 20 * len(streams) and time.monotonic() < deadline:
            for entry in await reader.read(count=7, block_ms=200):
                got[entry.stream].append(entry.payload or b"")
        await reader.close()
        for s in streams:
            assert got[s] == [f"{s}|{i}".encode() for i in range(20)]
        # leases of one group in one slot (MGET), and a dead letter beside its stream
        lease = ShardLease(redis, service="ingest", group="okx", count=3, token="t1")
        assert await lease.try_claim() == 0
        assert await lease.holders() == ["t1", "", ""]
        assert await lease.release()
        for stream in ("arb:opportunities", md_stream("okx")):
            assert redis.keyslot(dead_letter_stream(stream)) == redis.keyslot(stream)
        await producer.close()
    finally:
        await redis.aclose()


def _numbered(entries: list[bytes]) -> list[int]:
    return [int(p.rsplit(b"|", 1)[1]) for p in entries]


async def test_primary_killed_mid_flow_nothing_lost_or_duplicated(
    redis_cluster: EmbeddedCluster,
) -> None:
    redis = await _client(redis_cluster)
    consumer_redis = await connect(redis_cluster.url)
    streams = [md_stream(v) for v in VENUES]
    group_stream = "arb:opportunities"
    victim = redis_cluster.port_of_slot(redis.keyslot(streams[0]))
    on_victim = [s for s in [*streams, group_stream]
                 if redis_cluster.port_of_slot(redis.keyslot(s)) == victim]  # fmt: skip
    stopping = asyncio.Event()
    read: dict[str, list[bytes]] = {s: [] for s in streams}
    handled: list[bytes] = []
    first_after_kill: dict[str, float] = {}
    killed_at = 0.0
    total = 400

    async def on_batch(entries: list[Any]) -> None:
        for e in entries:
            read[e.stream].append(e.payload)
            # the first entry written after the kill, read from a stream of the killed node
            if killed_at and e.stream in on_victim and _numbered([e.payload])[0] > total // 4:
                first_after_kill.setdefault(e.stream, time.monotonic() - killed_at)

    async def on_entry(entry: Any) -> None:
        handled.append(entry.payload)

    loop = StreamLoop(StreamReader(redis, dict.fromkeys(streams, "0")), on_batch,
                      name="cluster-test", block_ms=200, verify_every_s=1.0)  # fmt: skip
    consumer = GroupConsumer(consumer_redis, group_stream, "executor", "c1", on_entry,
                             start_id="0", block_ms=200, claim_idle_ms=1000,
                             claim_every_s=0.5)  # fmt: skip
    tasks = [asyncio.create_task(loop.run(stopping)), asyncio.create_task(consumer.run(stopping))]
    producer = StreamProducer(redis)
    try:
        for i in range(total):
            for s in [*streams, group_stream]:
                producer.xadd(s, f"{s}|{i}".encode())
            await asyncio.sleep(0.01)
            if i == total // 4:
                await producer.flush()
                redis_cluster.kill_primary(victim)
                killed_at = time.monotonic()
        await asyncio.wait_for(producer.flush(), 60)
        written_s = time.monotonic() - killed_at
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (  # noqa: ASYNC110 - polls three counters
            any(len(v) < total for v in read.values()) or len(handled) < total
        ):
            await asyncio.sleep(0.1)
        healed_s = await asyncio.to_thread(redis_cluster.wait_healthy, 30)
        ends = [t.done() and "".join(traceback.format_exception(t.exception())) for t in tasks]
        state = {s: len(v) for s, v in read.items()}, ends, len(handled)
        for s in streams:
            assert _numbered(read[s]) == list(range(total)), f"{s}: lost or duplicated {state}"
        assert sorted(_numbered(handled)) == list(range(total)), "group: lost or duplicated"
        assert len(handled) == total
        recovered = max(first_after_kill.values())
        print(f"\nfailover: streams on the killed primary read again {recovered:.2f}s after "
              f"the kill; all writes in {written_s:.2f}s; cluster healthy +{healed_s:.2f}s; "
              f"producer round trips {producer.round_trips}, reader outages "
              f"{loop.outage.outages}, group outages {consumer.outage.outages}")  # fmt: skip
        assert recovered < 15
    finally:
        stopping.set()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(t, 10)
        await producer.close()
        await redis.aclose()
        await consumer_redis.aclose()
        if not redis_cluster.node(victim).alive:
            redis_cluster.restart(victim)  # back as a replica of its successor
        await asyncio.to_thread(redis_cluster.wait_healthy, 30)


async def _until(check: Any, timeout_s: float = 30.0) -> Any:
    """Poll ``check`` (it may meet the failover: retried) until it gives something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(*REDIS_RETRYABLE):
            found = await check()
            if found:
                return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up after {timeout_s}s")


async def test_executor_on_cluster_trades_each_opportunity_once_across_a_failover(
    redis_cluster: EmbeddedCluster,
) -> None:
    """The executor service (paper) on the cluster: an opportunity is filled; the primary
    holding arb:opportunities is killed; the next opportunity, delivered twice, is filled
    once, and no saga is left open (every journal write went through the new primary)."""
    from arb_executor.app import main as app_main
    from arb_executor.config import ExecutorSettings
    from arb_runtime.service import serve
    from arb_structs.codec import BOOK, EXECUTION, OPPORTUNITY
    from arb_structs.constants import (
        EXECUTIONS_STREAM,
        EXECUTOR_GROUP,
        OPEN_SAGAS_KEY,
        OPPORTUNITIES_STREAM,
        PAYLOAD_FIELD,
        book_latest_key,
    )
    from arb_structs.trading import ExecutionStatus

    from tests.unit.executor.support import opportunity, view

    redis = await _client(redis_cluster)
    await redis.hset(
        book_latest_key("binance"),
        "BTC-USDT",
        BOOK.encode(view("binance", bids=[(99.9, 1.0)], asks=[(100.0, 1.0)])),
    )
    sell = view("okx", bids=[(101.0, 1.0)], asks=[(101.5, 1.0)])
    await redis.hset(book_latest_key("okx"), "BTC-USDT", BOOK.encode(sell))
    settings = ExecutorSettings(
        redis_url=redis_cluster.url, instance="executor-cluster", pair_cooldown_ms=0,
        paper_balances={"binance": {"USDT": "1000"}, "okx": {"BTC": "1"}},
    )  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(serve("executor", settings, app_main, stopping))
    victim = redis_cluster.port_of_slot(redis.keyslot(OPPORTUNITIES_STREAM))

    async def results() -> list[Any]:
        raw = await redis.xrange(EXECUTIONS_STREAM)
        return [EXECUTION.decode(f[PAYLOAD_FIELD]) for _, f in raw]

    async def send(opp: Any) -> None:
        await _until(lambda: redis.xadd(OPPORTUNITIES_STREAM,
                                        {PAYLOAD_FIELD: OPPORTUNITY.encode(opp)}))  # fmt: skip

    async def group_ready() -> bool:
        if not await redis.exists(OPPORTUNITIES_STREAM):
            return False
        groups = await redis.xinfo_groups(OPPORTUNITIES_STREAM)
        return any(g["name"] in (EXECUTOR_GROUP, EXECUTOR_GROUP.encode()) for g in groups)

    try:
        await _until(group_ready)
        await send(opportunity("opp-before", size="0.1"))
        await _until(lambda: _ids_of(results, "opp-before"))
        redis_cluster.kill_primary(victim)
        await send(opportunity("opp-after", size="0.1"))
        await send(opportunity("opp-after", size="0.1"))  # delivered twice
        await send(opportunity("opp-end", size="0.1"))  # marks the end
        done = await _until(lambda: _ids_of(results, "opp-end"), 60)
        assert [r.opportunity_id for r in done] == ["opp-before", "opp-after", "opp-end"]
        assert all(r.status is ExecutionStatus.FILLED for r in done)
        assert not await redis.smembers(OPEN_SAGAS_KEY)
        assert not task.done(), "the executor must ride out the failover, not exit"
    finally:
        stopping.set()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 15)
        await redis.aclose()
        if not redis_cluster.node(victim).alive:
            redis_cluster.restart(victim)
        await asyncio.to_thread(redis_cluster.wait_healthy, 30)


async def _ids_of(results: Any, last: str) -> list[Any] | None:
    found = await results()
    return found if any(r.opportunity_id == last for r in found) else None
