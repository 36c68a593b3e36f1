"""The hot path's own connection (arb_runtime.lean) against a real Redis: replies in order,
error replies in their place, a cancel or an outage never leaves a reply for the next command,
RESP2 and RESP3 read alike, and the client's aclose() closes it."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.entries import entries_from_flat
from arb_runtime.lean import LeanLink, lean_link
from arb_runtime.redis import REDIS_RETRYABLE
from arb_runtime.streams import StreamProducer, StreamReader
from arb_structs.constants import PAYLOAD_FIELD
from redis.exceptions import ResponseError

from tests.support_redis import losing_client

pytestmark = pytest.mark.integration


async def test_a_pipeline_answers_in_order_with_an_error_reply_in_its_place(
    redis: aioredis.Redis,
) -> None:
    await redis.set("t:text", "not a stream")
    link = LeanLink(redis)
    replies = await link.pipeline([
        ("XADD", "t:lean", "*", PAYLOAD_FIELD, b"1"),
        ("XADD", "t:text", "*", PAYLOAD_FIELD, b"2"),  # WRONGTYPE: an answer, not an outage
        ("XADD", "t:lean", "*", PAYLOAD_FIELD, b"3"),
    ])  # fmt: skip
    assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
    entries = await redis.xrange("t:lean")
    assert [e[0] for e in entries] == [replies[0], replies[2]]
    assert [e[1][PAYLOAD_FIELD] for e in entries] == [b"1", b"3"]
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await link.command("XLEN", "t:text")
    assert await link.command("XLEN", "t:lean") == 2  # still in step after error replies
    await link.close()


async def test_a_cancelled_blocking_read_leaves_no_reply_for_the_next_command(
    redis: aioredis.Redis,
) -> None:
    await redis.xadd("t:block", {PAYLOAD_FIELD: b"old"})
    link = LeanLink(redis)
    read = asyncio.create_task(
        link.command("XREAD", "BLOCK", 10_000, "STREAMS", "t:block", "$", block_ms=10_000)
    )
    await asyncio.sleep(0.2)  # blocked in Redis now
    read.cancel()
    done, _ = await asyncio.wait({read}, timeout=1.0)
    assert done and read.cancelled()
    await redis.xadd("t:block", {PAYLOAD_FIELD: b"new"})  # would wake the cancelled read
    # The next command gets its own reply: the old connection, and its late reply, are gone.
    assert await link.command("PING") in (b"PONG", "PONG", True)
    assert await link.command("XLEN", "t:block") == 2
    await link.close()


async def test_two_callers_at_once_are_refused_and_the_first_is_untouched(
    redis: aioredis.Redis,
) -> None:
    link = LeanLink(redis)
    first = asyncio.create_task(
        link.command("XREAD", "BLOCK", 300, "STREAMS", "t:none", "$", block_ms=300)
    )
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="one task at a time"):
        await link.command("PING")
    assert await first is None  # its block ran out with no entry: its own reply
    assert await link.command("PING") in (b"PONG", "PONG", True)
    await link.close()


async def test_redis_going_away_is_an_outage_then_the_link_reconnects() -> None:
    server = EmbeddedRedis().start()
    client = aioredis.Redis.from_url(server.url)
    link = LeanLink(client)
    restarted = None
    try:
        await link.pipeline([("XADD", "t:away", "*", PAYLOAD_FIELD, b"1")])
        port = server.port
        server.stop()
        with pytest.raises(REDIS_RETRYABLE):
            await link.pipeline([("XADD", "t:away", "*", PAYLOAD_FIELD, b"2")])
        restarted = EmbeddedRedis(port=port).start()
        await link.pipeline([("XADD", "t:away", "*", PAYLOAD_FIELD, b"3")])
        entries = await client.xrange("t:away")
        assert [e[1][PAYLOAD_FIELD] for e in entries] == [b"3"]  # a fresh server, one write
    finally:
        await link.close()
        await client.aclose()
        if restarted is not None:
            restarted.stop()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_the_ordered_reader_reads_the_same_on_resp2_and_resp3(
    redis_url: str, protocol: int
) -> None:
    client = aioredis.Redis.from_url(redis_url, protocol=protocol)
    await client.delete("t:resp-a", "t:resp-b")
    producer = StreamProducer(client)
    for i in range(3):
        producer.xadd("t:resp-a", f"a{i}".encode())
        producer.xadd("t:resp-b", f"b{i}".encode())
    await producer.flush()
    reader = StreamReader(client, {"t:resp-a": "0", "t:resp-b": "0"})
    try:
        entries = await reader.read(count=10, block_ms=100)
        assert [(e.stream, e.payload) for e in entries] == (
            [("t:resp-a", f"a{i}".encode()) for i in range(3)]
            + [("t:resp-b", f"b{i}".encode()) for i in range(3)]
        )
        assert await reader.read(count=10, block_ms=50) == []  # positions moved on
    finally:
        await reader.close()
        await producer.close()
        await client.aclose()


async def test_the_clients_aclose_closes_the_links_connection(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    link = LeanLink(client)
    await link.command("PING")
    conn = link._conn
    assert conn is not None and conn.is_connected
    await client.aclose()
    assert not conn.is_connected


def test_a_cluster_or_a_subclassed_client_keeps_redis_pys_path(redis_url: str) -> None:
    assert lean_link(losing_client(redis_url, "return")) is None
    assert lean_link(aioredis.Redis.from_url(redis_url)) is not None


def test_entries_of_a_flat_reply_find_the_payload_in_any_place() -> None:
    raw = [
        [b"1-0", [PAYLOAD_FIELD, b"p1"]],
        [b"2-0", [b"other", b"x", PAYLOAD_FIELD, b"p2"]],
        [b"3-0", [b"other", b"x"]],
        [b"4-0", None],
    ]
    assert [(e.id, e.payload) for e in entries_from_flat("s", raw)] == [
        (b"1-0", b"p1"), (b"2-0", b"p2"), (b"3-0", None), (b"4-0", None),
    ]  # fmt: skip


async def test_a_reply_late_past_the_socket_timeout_is_an_outage_and_a_block_is_not(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=0.3)
    link = LeanLink(client)
    try:
        # BLPOP holds its reply 5 s: past the 0.3 s timeout, so the link gives up and drops
        # the connection (the late reply never reaches the next command).
        with pytest.raises(REDIS_RETRYABLE):
            await link.command("BLPOP", "t:never", 5)
        assert await link.command("PING") in (b"PONG", "PONG", True)
        # A read that may block 0.5 s in Redis gets its block on top of the timeout.
        answer = await link.command("XREAD", "BLOCK", 500, "STREAMS", "t:quiet", "$",
                                    block_ms=500)  # fmt: skip
        assert answer is None
    finally:
        await link.close()
        await client.aclose()
