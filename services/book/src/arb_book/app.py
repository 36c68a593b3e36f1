"""Book service wiring: md streams of the configured venues -> books -> views + checkpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from arb_runtime.service import ServiceContext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from arb_book import health
from arb_book.config import BookSettings
from arb_book.shard import BookShard

log = logging.getLogger("arb.book")

# Flush (and so wait for Redis) once this many writes are waiting: bounds memory when
# the reader outpaces the writer, without a round trip per batch otherwise.
MAX_PENDING_WRITES = 20_000


async def main(ctx: ServiceContext) -> None:
    settings: BookSettings = ctx.settings
    shard = BookShard(ctx.redis, ctx.producer, settings)
    await shard.start()
    health.reading(ctx.health, shard)
    me = asyncio.current_task()
    backoff = 0.1
    while not ctx.stopping.is_set():
        # redis-py may absorb a cancellation that lands mid-command (it turns it into a
        # connection error and retries, or hands it to us as one): a cancelled service must
        # stop, not read on.
        if me is not None and me.cancelling():
            raise asyncio.CancelledError
        try:
            await shard.step()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if me is not None and me.cancelling():
                raise asyncio.CancelledError from exc
            health.read_failed(ctx.health, exc)
            log.error("md read failed (%s); retrying in %.1fs", exc, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.stopping.wait(), backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        backoff = 0.1
        health.reading(ctx.health, shard)
        if ctx.producer.pending > MAX_PENDING_WRITES:
            await ctx.producer.flush()
