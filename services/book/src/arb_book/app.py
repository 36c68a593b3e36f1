"""Book service wiring: md streams of the configured venues -> books -> views + checkpoints.

The read loop is the runtime's ordered StreamLoop: it survives Redis going away and coming
back empty or from its AOF (positions checked against the streams, arb_runtime.consume);
every read, empty ones too, goes to the shard (apply, publish, sweep for staleness). A
batch's views and checkpoints go out ahead of the loop's next XREAD, in the same write (the
producer's carry), and the health details are refreshed a few times a second, not per
batch: both are off the path a frame waits on.
"""

from __future__ import annotations

import asyncio
import logging

from arb_runtime.consume import StreamLoop
from arb_runtime.entries import Entry
from arb_runtime.service import ServiceContext

from arb_book import health
from arb_book.config import BookSettings
from arb_book.shard import BookShard

log = logging.getLogger("arb.book")

# Flush (and so wait for Redis) once this many writes are waiting: bounds memory when
# the reader outpaces the writer, without a round trip per batch otherwise.
MAX_PENDING_WRITES = 20_000
# Seconds between refreshes of the health details (published every 2 s; ``arb status`` and
# /healthz read them). A read after a failed one refreshes them at once (ready again).
HEALTH_EVERY_S = 0.25


async def main(ctx: ServiceContext) -> None:
    settings: BookSettings = ctx.settings
    shard = BookShard(ctx.redis, ctx.producer, settings)
    await shard.start()
    assert shard.reader is not None
    health.reading(ctx.health, shard)
    clock = asyncio.get_running_loop().time
    next_health = clock() + HEALTH_EVERY_S

    async def on_batch(entries: list[Entry]) -> None:
        nonlocal next_health
        shard.handle(entries)
        now = clock()
        if now >= next_health or not ctx.health.ready:
            health.reading(ctx.health, shard)
            next_health = now + HEALTH_EVERY_S
        if ctx.producer.pending > MAX_PENDING_WRITES:
            await ctx.producer.flush()

    loop = StreamLoop(
        shard.reader, on_batch, name="book", count=settings.read_count,
        block_ms=settings.block_ms, handle_empty=True,
        on_failure=lambda exc: health.read_failed(ctx.health, exc), producer=ctx.producer,
    )  # fmt: skip
    await loop.run(ctx.stopping)
