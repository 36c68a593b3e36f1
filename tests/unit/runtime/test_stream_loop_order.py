"""StreamLoop and StreamProducer together: a batch's writes leave before the next read.

The producer is the real one; its Redis is a stand-in that records when a pipeline is sent
(no I/O), and the reader one that records when a read is sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arb_runtime.consume import StreamLoop
from arb_runtime.entries import Entry
from arb_runtime.streams import StreamProducer

pytestmark = pytest.mark.unit


class Pipeline:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.ops: list[tuple[Any, ...]] = []

    def execute_command(self, *args: Any) -> None:
        self.ops.append(args)

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        self.events.append(f"send {len(self.ops)}")
        await asyncio.sleep(0.001)  # the round trip
        return [b"1-1"] * len(self.ops)


class Redis:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def pipeline(self, transaction: bool = True) -> Pipeline:
        return Pipeline(self.events)


class Reader:
    """Hands out ``batches`` one per read, then blocks; records each read."""

    carries = False  # its writes go by the writer task (the carry: tests/integration)

    def __init__(self, events: list[str], batches: list[list[Entry]]) -> None:
        self.events = events
        self.batches = batches

    async def verify(self) -> dict[str, tuple[str, str]]:
        return {}

    async def read(
        self, count: int = 500, block_ms: int | None = 1000, writes: object = None
    ) -> list[Entry]:
        assert writes is None  # it does not carry (``carries``)
        self.events.append("read")  # sent: the reply comes in a later loop turn
        await asyncio.sleep(0)
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(0.01)
        return []

    async def close(self) -> None:
        return None


async def _run(with_producer: bool) -> list[str]:
    events: list[str] = []
    producer = StreamProducer(Redis(events))  # type: ignore[arg-type]
    entry = Entry("in", b"1-0", b"x")
    reader = Reader(events, [[entry], [entry]])
    stopping = asyncio.Event()

    async def handler(entries: list[Entry]) -> None:
        for _ in entries:
            producer.xadd("out", b"view")
            producer.set("checkpoint", b"1-0")
        if not reader.batches:
            stopping.set()

    loop = StreamLoop(reader, handler, name="test",  # type: ignore[arg-type]
                      producer=producer if with_producer else None)  # fmt: skip
    await asyncio.wait_for(loop.run(stopping), 2.0)
    await producer.close()
    return events


async def test_a_batch_s_writes_are_sent_before_the_next_read() -> None:
    assert await _run(with_producer=True) == ["read", "send 2", "read", "send 2"]


async def test_without_the_producer_the_next_read_goes_first() -> None:
    # What the loop did before it knew the producer: the writes waited behind the next read.
    assert (await _run(with_producer=False))[:3] == ["read", "read", "send 2"]
