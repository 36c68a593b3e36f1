"""Readers blocked in XREAD / XREADGROUP stop within a second of being cancelled, also when
the Redis client loses the cancellation (returns, or raises a ConnectionError instead)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from arb_runtime.streams import Entry, GroupConsumer, StreamProducer, StreamReader

from tests.support_redis import losing_client

pytestmark = pytest.mark.integration

BLOCK_MS = 10_000  # far longer than the bound: only a stop that works passes


async def _stops_within_a_second(run: Callable[[], Awaitable[None]]) -> float:
    task = asyncio.create_task(run())
    await asyncio.sleep(0.3)  # now blocked inside the read
    assert not task.done()
    started = time.perf_counter()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1.0)
    took = time.perf_counter() - started
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise AssertionError("still running 1 s after cancel")
    assert task.cancelled(), "cancellation must propagate, not end the loop quietly"
    return took


@pytest.mark.parametrize("mode", ["none", "return", "convert"])
async def test_group_consumer_blocked_in_xreadgroup_stops_on_cancel(
    redis: aioredis.Redis, redis_url: str, mode: str
) -> None:
    client = redis if mode == "none" else losing_client(redis_url, mode)

    async def handler(entry: Entry) -> None:
        pass

    consumer = GroupConsumer(client, "t:cancel", "g", "c1", handler, block_ms=BLOCK_MS)
    never = asyncio.Event()
    try:
        await _stops_within_a_second(lambda: consumer.run(never))
        if mode != "none":
            assert client.lost == 1  # type: ignore[attr-defined]
    finally:
        if client is not redis:
            await client.aclose()


@pytest.mark.parametrize("mode", ["none", "return", "convert"])
async def test_stream_reader_loop_blocked_in_xread_stops_on_cancel(
    redis: aioredis.Redis, redis_url: str, mode: str
) -> None:
    client = redis if mode == "none" else losing_client(redis_url, mode)
    reader = StreamReader(client, {"t:cancel-read": "$"})
    never = asyncio.Event()

    async def follow() -> None:  # the shape of every ordered reader loop
        await reader.resolve_tail()
        while not never.is_set():
            try:
                await reader.read(block_ms=BLOCK_MS)
            except ConnectionError:
                await asyncio.sleep(0.5)  # a retrying reader must still stop

    try:
        await _stops_within_a_second(follow)
    finally:
        if client is not redis:
            await client.aclose()


async def test_producer_writer_stops_when_redis_turns_its_cancel_into_an_error(
    redis_url: str,
) -> None:
    client = losing_client(redis_url, "convert")
    producer = StreamProducer(client)
    producer.command("BLPOP", "t:nothing", 10)  # the writer task now waits in Redis
    await asyncio.sleep(0.3)
    writer = producer._writer
    assert writer is not None and not writer.done()
    writer.cancel()
    done, _ = await asyncio.wait({writer}, timeout=1.0)
    assert done, "the writer retried the batch instead of stopping"
    assert writer.cancelled() and client.lost == 1
    producer._closed = True
    await client.aclose()
