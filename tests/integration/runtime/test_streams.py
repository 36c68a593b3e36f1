"""The stream runtime against a real Redis server."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis
from arb_runtime.embedded import free_port
from arb_runtime.streams import Entry, GroupConsumer, StreamProducer, StreamReader
from arb_structs.constants import PAYLOAD_FIELD, dead_letter_stream

pytestmark = pytest.mark.integration


async def test_a_thousand_events_cost_a_handful_of_round_trips(redis: aioredis.Redis) -> None:
    producer = StreamProducer(redis, maxlen=10_000)
    for i in range(1000):
        producer.xadd("t:batch", str(i).encode())
    await producer.flush()
    assert await redis.xlen("t:batch") == 1000
    assert producer.round_trips <= 3, producer.round_trips
    entries = await redis.xrange("t:batch", count=3)
    assert [e[1][PAYLOAD_FIELD] for e in entries] == [b"0", b"1", b"2"]  # order kept
    await producer.close()


async def test_closing_while_redis_is_away_says_how_many_writes_are_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nobody listens on: every write fails; close() must not hang nor stay silent.
    away = aioredis.Redis(port=free_port(), socket_connect_timeout=0.2)
    producer = StreamProducer(away)
    producer.xadd("t:lost", b"1")
    producer.hset("t:saga", "state", b"done")
    with caplog.at_level(logging.ERROR, logger="arb.streams"):
        await asyncio.wait_for(producer.close(timeout_s=0.3), 5)
    assert "2 Redis writes not flushed within 0.3s" in caplog.text
    await away.aclose()


async def test_streams_stay_bounded_under_a_flood(redis: aioredis.Redis) -> None:
    producer = StreamProducer(redis, maxlen=1000)
    for burst in range(20):
        for i in range(1000):
            producer.xadd("t:flood", f"{burst}:{i}".encode())
        await asyncio.sleep(0)
    await producer.flush()
    length = await redis.xlen("t:flood")
    assert 1000 <= length < 2000, length  # MAXLEN ~ trims whole nodes, never far past the bound
    await producer.close()


async def test_ordered_reader_reads_many_streams_in_order_from_positions(
    redis: aioredis.Redis,
) -> None:
    for i in range(5):
        await redis.xadd("t:a", {PAYLOAD_FIELD: f"a{i}"})
        await redis.xadd("t:b", {PAYLOAD_FIELD: f"b{i}"})
    reader = StreamReader(redis, {"t:a": "0", "t:b": "0"})
    first = await reader.read(count=3, block_ms=None)
    assert [e.payload for e in first if e.stream == "t:a"] == [b"a0", b"a1", b"a2"]
    rest = await reader.read(count=100, block_ms=None)
    assert [e.payload for e in rest if e.stream == "t:a"] == [b"a3", b"a4"]
    assert [e.payload for e in rest if e.stream == "t:b"] == [b"b3", b"b4"]
    assert await reader.read(count=100, block_ms=10) == []


async def test_consumer_killed_mid_batch_loses_nothing(redis: aioredis.Redis) -> None:
    stream, group = "t:work", "g"
    for i in range(10):
        await redis.xadd(stream, {PAYLOAD_FIELD: str(i)})
    seen: list[bytes] = []
    started = asyncio.Event()

    async def slow_handler(entry: Entry) -> None:
        started.set()
        await asyncio.sleep(3600)  # killed before it finishes: nothing acked

    dying = GroupConsumer(redis, stream, group, "dying", slow_handler, count=10, start_id="0")
    task = asyncio.create_task(dying.run(asyncio.Event()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await redis.xpending(stream, group))["pending"] == 10

    async def handler(entry: Entry) -> None:
        assert entry.payload is not None
        seen.append(entry.payload)

    survivor = GroupConsumer(redis, stream, group, "survivor", handler, claim_idle_ms=50)
    await asyncio.sleep(0.1)
    await survivor.reclaim()
    assert sorted(seen, key=int) == [str(i).encode() for i in range(10)]
    assert len(seen) == 10  # each processed once
    assert (await redis.xpending(stream, group))["pending"] == 0


async def test_restarted_consumer_drains_its_own_pending_first(redis: aioredis.Redis) -> None:
    stream, group = "t:own", "g"
    await redis.xgroup_create(stream, group, id="0", mkstream=True)
    await redis.xadd(stream, {PAYLOAD_FIELD: b"x"})
    await redis.xreadgroup(group, "me", {stream: ">"}, count=10)  # delivered, never acked
    seen: list[Entry] = []

    async def handler(entry: Entry) -> None:
        seen.append(entry)

    stopping = asyncio.Event()
    consumer = GroupConsumer(redis, stream, group, "me", handler, block_ms=20)
    stopping.set()  # run drains pending, then sees stop
    await consumer.run(stopping)
    assert [e.payload for e in seen] == [b"x"]
    assert (await redis.xpending(stream, group))["pending"] == 0


async def test_poison_message_lands_in_dead_letters_after_max_deliveries(
    redis: aioredis.Redis,
) -> None:
    stream, group = "t:poison", "g"
    await redis.xadd(stream, {PAYLOAD_FIELD: b"good"})
    await redis.xadd(stream, {PAYLOAD_FIELD: b"poison"})
    good: list[bytes] = []

    async def handler(entry: Entry) -> None:
        if entry.payload == b"poison":
            raise ValueError("cannot decode")
        good.append(entry.payload or b"")

    consumer = GroupConsumer(redis, stream, group, "c", handler, claim_idle_ms=1,
                             max_deliveries=3, start_id="0", block_ms=10)  # fmt: skip
    await consumer.ensure_group()
    stopping = asyncio.Event()
    stopping.set()
    await consumer.run(stopping)  # drains own pending: nothing yet
    response = await redis.xreadgroup(group, "c", {stream: ">"}, count=10)
    from arb_runtime.streams import _entries

    await consumer._handle_all(_entries(stream, response[0][1]))
    for _ in range(4):
        await asyncio.sleep(0.01)
        await consumer.reclaim()
    assert good == [b"good"]
    dead = await redis.xrange(dead_letter_stream(stream))
    assert len(dead) == 1
    assert dead[0][1][PAYLOAD_FIELD] == b"poison"
    assert int(dead[0][1][b"deliveries"]) >= 3
    assert (await redis.xpending(stream, group))["pending"] == 0


async def test_producer_survives_redis_going_away_and_keeps_order(redis_url: str) -> None:
    from arb_runtime.embedded import EmbeddedRedis

    server = EmbeddedRedis().start()
    client = aioredis.Redis.from_url(server.url)
    producer = StreamProducer(client)
    producer.xadd("t:gone", b"1")
    await producer.flush()
    port = server.port
    server.stop()
    producer.xadd("t:gone", b"2")
    producer.xadd("t:gone", b"3")
    await asyncio.sleep(0.3)  # writes fail and wait
    assert producer.pending == 2
    restarted = EmbeddedRedis(port=port).start()
    try:
        await asyncio.wait_for(producer.flush(), 10)
        entries = await client.xrange("t:gone")
        assert [e[1][PAYLOAD_FIELD] for e in entries] == [b"2", b"3"]  # fresh server: 2 then 3
    finally:
        await producer.close()
        await client.aclose()
        restarted.stop()
