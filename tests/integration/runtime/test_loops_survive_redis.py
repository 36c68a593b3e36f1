"""The runtime's two loops against a real redis-server that is killed (-9) and restarted on
the same port: empty, from its append-only file, and from an AOF that lacks the last writes.

The truth is the list of entries written; a loop passes only if it hands each one over
exactly once, in order, and never exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from arb_runtime.backoff import Backoff
from arb_runtime.consume import GroupConsumer, StreamLoop, StreamReader
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.entries import Entry
from arb_structs.constants import PAYLOAD_FIELD

pytestmark = pytest.mark.integration

FAST = Backoff(base_s=0.02, cap_s=0.2)  # the shape of REDIS_BACKOFF, quicker for the tests
STREAM = "t:survive"


async def eventually(check: Callable[[], bool | Awaitable[bool]], what: str, bound: float = 30):
    """Poll until ``check`` holds; the bound only keeps a broken build from hanging."""
    deadline = asyncio.get_running_loop().time() + bound
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.02)


async def write(client: aioredis.Redis, *values: str) -> None:
    for value in values:
        await client.xadd(STREAM, {PAYLOAD_FIELD: value})


async def write_when_up(client: aioredis.Redis, *values: str) -> None:
    """Write once the restarted server answers (redis-py reconnects by itself)."""
    await eventually(lambda: _pings(client), "the restarted server to answer")
    await write(client, *values)


async def _pings(client: aioredis.Redis) -> bool:
    try:
        return bool(await client.ping())
    except Exception:
        return False


@pytest.fixture
def server(tmp_path):
    redis_server = EmbeddedRedis(data_dir=tmp_path / "redis").start()
    try:
        yield redis_server
    finally:
        redis_server.stop()


def restart(server: EmbeddedRedis, *, empty: bool) -> None:
    server.kill()
    if empty:
        server.wipe()
    server.start()


async def test_ordered_loop_reads_every_entry_once_across_empty_and_aof_restarts(server):
    client = aioredis.Redis.from_url(server.url)
    seen: list[bytes] = []
    failures: list[BaseException] = []

    async def handler(entries: list[Entry]) -> None:
        seen.extend(e.payload or b"" for e in entries)

    loop = StreamLoop(StreamReader(client, {STREAM: "$"}), handler, name="test", block_ms=100,
                      backoff=FAST, on_failure=failures.append)  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(loop.run(stopping))
    try:
        await eventually(lambda: loop.reader.positions[STREAM] != "$", "the tail to be pinned")
        await write(client, "1", "2", "3")
        await eventually(lambda: len(seen) == 3, "entries 1-3")

        restart(server, empty=True)  # the stream is gone: read the new one from its start
        await write_when_up(client, "4", "5")
        await eventually(lambda: len(seen) >= 5, "entries 4-5 after an empty restart")

        restart(server, empty=False)  # from the AOF: 1-5 are back and must not come again
        await write_when_up(client, "6")
        await eventually(lambda: len(seen) >= 6, "entry 6 after a restart from the AOF")

        # An AOF without the last writes: 7 and 8 are read but never reach the file, so the
        # restarted stream ends before the position held; 9 is written after the restart.
        await client.config_set("appendonly", "no")
        await write(client, "7", "8")
        await eventually(lambda: len(seen) >= 8, "entries 7-8")
        restart(server, empty=False)
        await write_when_up(client, "9")
        await eventually(lambda: len(seen) >= 9, "entry 9 after the AOF went back")
        await asyncio.sleep(0.3)  # room for a duplicate to show up
        assert seen == [str(i).encode() for i in range(1, 10)]
        assert not task.done(), "the loop exited"
        # A position moves only where the stream now ends before it: after each restart, when
        # the loop's check runs before the new entries are written (their ids, from the clock,
        # are past the old position either way, so whether it moved is a race, and reading
        # every entry once, above, is the property). Never more than once per restart.
        assert loop.moved <= 3, loop.moved
        assert failures, "the outages were never reported to on_failure"
    finally:
        stopping.set()
        await asyncio.wait_for(task, 5)
        await client.aclose()


async def test_group_consumer_recreates_its_group_and_consumes_on_across_restarts(server):
    client = aioredis.Redis.from_url(server.url)
    handled: list[bytes] = []

    async def handler(entry: Entry) -> None:
        handled.append(entry.payload or b"")

    consumer = GroupConsumer(client, STREAM, "g", "me", handler, block_ms=100, backoff=FAST)
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(stopping))
    try:
        await eventually(lambda: _group_exists(client), "the group to be created")
        await write(client, "1", "2")
        await eventually(lambda: len(handled) == 2, "entries 1-2")

        restart(server, empty=True)  # NOGROUP: the group is gone with the stream
        await write_when_up(client, "3", "4")
        await eventually(lambda: len(handled) >= 4, "entries 3-4 after an empty restart")
        assert consumer.groups_recreated == 1

        restart(server, empty=False)  # from the AOF: the group and its acks are back
        await write_when_up(client, "5")
        await eventually(lambda: len(handled) >= 5, "entry 5 after a restart from the AOF")
        await asyncio.sleep(0.3)
        assert handled == [b"1", b"2", b"3", b"4", b"5"]
        assert consumer.groups_recreated == 1
        assert (await client.xpending(STREAM, "g"))["pending"] == 0  # every effect acked
        assert not task.done(), "the consumer exited"
    finally:
        stopping.set()
        await asyncio.wait_for(task, 5)
        await client.aclose()


async def _group_exists(client: aioredis.Redis) -> bool:
    try:
        return bool(await client.xinfo_groups(STREAM))
    except Exception:
        return False
