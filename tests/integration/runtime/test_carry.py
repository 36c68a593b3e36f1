"""A producer's writes carried by a reader's next XREAD (``StreamProducer.carry``,
``LeanLink.command_after``) against a real Redis: the writes land and are answered before the
read returns, an error reply stays in its place, an outage hands them back to the writer
task, which sends them once Redis answers, and per-stream order holds with the writer task
sending beside the carries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from arb_runtime.backoff import Backoff
from arb_runtime.consume import StreamLoop
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.entries import Entry
from arb_runtime.lean import LeanLink
from arb_runtime.redis import REDIS_RETRYABLE
from arb_runtime.streams import StreamProducer, StreamReader
from arb_structs.constants import PAYLOAD_FIELD
from redis.exceptions import ResponseError

pytestmark = pytest.mark.integration

QUICK = Backoff(base_s=0.02, cap_s=0.1)


async def test_carried_writes_land_and_are_answered_while_the_read_still_blocks(
    redis: aioredis.Redis,
) -> None:
    await redis.set("t:text", "not a stream")
    link = LeanLink(redis)
    told: list[Any] = []
    read = asyncio.create_task(
        link.command_after(
            [("XADD", "t:out", "*", PAYLOAD_FIELD, b"1"),
             ("XADD", "t:text", "*", PAYLOAD_FIELD, b"2"),  # WRONGTYPE: an answer in place
             ("SET", "t:checkpoint", b"9-0")],
            told.append, "XREAD", "BLOCK", 5_000, "STREAMS", "t:in", "$", block_ms=5_000,
        )
    )  # fmt: skip
    for _ in range(100):
        if told:
            break
        await asyncio.sleep(0.01)
    assert not read.done()  # the read blocks in Redis; the writes were answered before it
    assert len(told) == 1 and isinstance(told[0], list)
    replies = told[0]
    assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
    assert [e[0] for e in await redis.xrange("t:out")] == [replies[0]]
    assert await redis.get("t:checkpoint") == b"9-0"
    await redis.xadd("t:in", {PAYLOAD_FIELD: b"wake"})
    answer = await asyncio.wait_for(read, 2.0)
    streams = answer.items() if isinstance(answer, dict) else answer
    assert [[f for f in e[1]] for _, entries in streams for e in entries] == [
        [PAYLOAD_FIELD, b"wake"]
    ]
    assert told == [replies]  # told once
    assert await link.command("XLEN", "t:out") == 1  # in step after the carry
    await link.close()


async def test_an_outage_under_a_carry_hands_the_writes_back_and_the_writer_sends_them() -> None:
    server = EmbeddedRedis().start()
    port = server.port
    client = aioredis.Redis.from_url(server.url, socket_connect_timeout=0.5)
    producer = StreamProducer(client, backoff=QUICK)
    reader = StreamReader(client, {"t:in": "0"})
    restarted = None
    try:
        assert producer.carries and reader.carries
        await client.ping()
        server.stop()
        for i in range(3):
            producer.xadd("t:out", str(i).encode())
        with pytest.raises(REDIS_RETRYABLE):
            await reader.read(count=10, block_ms=100, writes=producer)
        # Handed back, in order, for the writer task (which backs off while Redis is away).
        assert producer.pending == 3 and producer.carried_batches == 0
        restarted = EmbeddedRedis(port=port).start()
        await asyncio.wait_for(producer.flush(), 10)
        entries = await client.xrange("t:out")
        assert [e[1][PAYLOAD_FIELD] for e in entries] == [b"0", b"1", b"2"]  # each once
    finally:
        await reader.close()
        await producer.close()
        await client.aclose()
        if restarted is not None:
            restarted.stop()


async def test_a_loop_carries_its_batches_writes_and_order_holds_beside_the_writer(
    redis: aioredis.Redis,
) -> None:
    """The loop's handler and a second task write one numbered sequence to one stream: the
    handler's writes go with the loop's reads, the other task's by the writer task. The
    stream holds the sequence in the order it was written, each number once."""
    producer = StreamProducer(redis)
    reader = StreamReader(redis, {"t:feed": "0"})
    stopping = asyncio.Event()
    numbers = iter(range(1_000_000))
    handled = 0
    total = 300

    async def handler(entries: list[Entry]) -> None:
        nonlocal handled
        for _ in entries:
            producer.xadd("t:seq", str(next(numbers)).encode())
        producer.set("t:checkpoint", entries[-1].id)
        handled += len(entries)
        if handled >= total:
            stopping.set()

    async def beside() -> None:
        while not stopping.is_set():
            producer.xadd("t:seq", str(next(numbers)).encode())
            await asyncio.sleep(0.001)

    async def feed() -> None:
        for i in range(total):
            await redis.xadd("t:feed", {PAYLOAD_FIELD: str(i)})
            if i % 3 == 0:
                await asyncio.sleep(0.001)

    loop = StreamLoop(reader, handler, name="test", block_ms=200, producer=producer)
    other = asyncio.create_task(beside())
    await asyncio.wait_for(asyncio.gather(loop.run(stopping), feed()), 20)
    await other
    await producer.flush()
    written = [int(e[1][PAYLOAD_FIELD]) for e in await redis.xrange("t:seq")]
    assert written == sorted(written) and len(set(written)) == len(written)
    assert written == list(range(len(written)))  # nothing lost either
    assert producer.carried_batches > 0  # the handler's writes rode on reads
    assert producer.round_trips > 0  # and the other task's went by the writer
    last = (await redis.xrevrange("t:feed", count=1))[0][0]
    assert await redis.get("t:checkpoint") == last
    await producer.close()
