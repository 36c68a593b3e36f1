"""Redis Streams the way the performance budget wants them.

- StreamProducer: everything produced in one event-loop turn goes out in ONE pipelined round
  trip, by one writer task (so per-stream order is kept); producers never await Redis. Every
  XADD is bounded (MAXLEN ~).
- Reading (arb_runtime.consume, re-exported here): StreamReader, the ordered reader of
  sharded streams; StreamLoop, the ordered read loop every ordered reader runs (book,
  detector, ingest control); GroupConsumer, the consumer-group loop (executor).

Every retry goes through the one retryable-error set (arb_runtime.redis.REDIS_RETRYABLE) and
the one backoff (arb_runtime.backoff.REDIS_BACKOFF).

Cancellation: redis-py may lose a CancelledError raised while a command waits (it surfaces
as a ConnectionError, or not at all), so every loop here calls ``raise_if_cancelling()``
after its awaits and in its retry branches: a cancelled reader stops at once instead of
blocking in one more XREAD (see arb_runtime.tasks).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis
from arb_structs.constants import PAYLOAD_FIELD

from arb_runtime import metrics
from arb_runtime.backoff import REDIS_BACKOFF, Backoff
from arb_runtime.entries import Entry, entries_from
from arb_runtime.redis import REDIS_RETRYABLE, torn_connection
from arb_runtime.tasks import raise_if_cancelling, stop_task

log = logging.getLogger("arb.streams")

# The names other modules and tests import from here.
_entries = entries_from


class StreamProducer:
    """Buffered writes flushed once per loop turn. ``await flush()`` waits for durability."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        maxlen: int = 100_000,
        max_pending: int = 1_000_000,
        backoff: Backoff = REDIS_BACKOFF,
    ) -> None:
        self.redis = redis
        self.backoff = backoff
        self.maxlen = maxlen
        self.max_pending = max_pending
        self.round_trips = 0
        self.commands = 0
        self.dropped = 0
        self._ops: list[tuple[Any, ...]] = []
        self._enqueued = 0
        self._written = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._last_failure: BaseException | None = None

    def xadd(self, stream: str, payload: bytes, maxlen: int | None = None) -> None:
        self._push(("XADD", stream, "MAXLEN", "~", maxlen or self.maxlen, "*",
                    PAYLOAD_FIELD, payload))  # fmt: skip

    def hset(self, key: str, field: str | bytes, value: bytes) -> None:
        self._push(("HSET", key, field, value))

    def set(self, key: str, value: bytes | str, px: int | None = None) -> None:
        self._push(("SET", key, value) if px is None else ("SET", key, value, "PX", px))

    def command(self, *args: Any) -> None:
        """Any other write to send in the same batch."""
        self._push(args)

    def _push(self, op: tuple[Any, ...]) -> None:
        if self._closed:
            raise RuntimeError("StreamProducer is closed")
        self._ops.append(op)
        self._enqueued += 1
        if len(self._ops) > self.max_pending:  # Redis has been away for long: shed oldest
            del self._ops[0]
            self.dropped += 1
            metrics.PRODUCER_DROPPED.inc()
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._ops)

    async def flush(self) -> None:
        """Wait until everything buffered so far has been written."""
        target = self._enqueued
        if self._written >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._wakeup.set()
        await future

    async def close(self, timeout_s: float = 5.0) -> None:
        """Flush for up to ``timeout_s``, then stop; what Redis has not taken by then is lost,
        and said so (the journal's restore and the venues' reconciliation cover a saga's)."""
        try:
            await asyncio.wait_for(self.flush(), timeout_s)
        except Exception as exc:  # closing: report, never raise
            log.error("closing: %d Redis writes not flushed within %.1fs (%s); they are lost",
                      self._enqueued - self._written, timeout_s, type(exc).__name__)  # fmt: skip
        self._closed = True
        await stop_task(self._writer)

    async def _write_loop(self) -> None:
        retry = self.backoff.attempts()
        held = 0  # ops a Redis Cluster node took while another was away
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._ops:
                ops, self._ops = self._ops, []
                try:
                    failed = await self._send(ops)
                    if failed and self._last_failure is not None:
                        # Redis Cluster: one node away, the others took theirs. They count
                        # as written once the rest is, so flush() waits for all of them.
                        held += len(ops) - len(failed)
                        ops = failed
                        raise self._last_failure
                    if retry.attempt:
                        log.warning("redis writes go through again; %d commands sent",
                                    len(ops))  # fmt: skip
                    retry.reset()
                except REDIS_RETRYABLE as exc:
                    self._ops[:0] = ops  # keep order; try again
                    raise_if_cancelling()  # a cancel redis-py turned into a connection error
                    delay = retry.next_delay()
                    if retry.attempt == 1 or retry.attempt % 20 == 0:
                        log.error("redis write failed (%s); %d commands waiting; retrying "
                                  "(attempt %d)", exc, len(self._ops), retry.attempt)  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                self._written += len(ops) + held
                held = 0
                self._resolve_waiters()

    async def _send(self, ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Send ``ops`` in one pipeline; the ops that met an outage, to send again.

        One server fails a pipeline as a whole (raised). A Redis Cluster pipeline goes to
        each node separately: the ops of a node that is away come back as errors while the
        other nodes applied theirs, so only those are sent again (per stream in order: one
        stream lives on one node), not the ones that went through."""
        pipe = self.redis.pipeline(transaction=False)
        for op in ops:
            pipe.execute_command(*op)
        try:
            results = await pipe.execute(raise_on_error=False)
        except AttributeError as exc:  # Redis Cluster: another task's failover tore it down
            raise torn_connection(exc) from exc
        self.round_trips += 1
        self.commands += len(ops)
        metrics.PRODUCER_ROUND_TRIPS.inc()
        metrics.PRODUCER_BATCH_SIZE.observe(len(ops))
        failed: list[tuple[Any, ...]] = []
        for op, result in zip(ops, results, strict=False):
            if isinstance(result, Exception):
                if isinstance(result, REDIS_RETRYABLE):
                    failed.append(op)
                    self._last_failure = result
                    continue
                metrics.PRODUCER_ERRORS.inc()
                log.error("redis refused %s %s: %s", op[0], op[1], result)
        return failed

    def _resolve_waiters(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._waiters:
            if self._written >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still


# The readers and their loops live in arb_runtime.consume; importable from here as before.
from arb_runtime.consume import GroupConsumer, Handler, StreamLoop, StreamReader  # noqa: E402

__all__ = [
    "Entry",
    "GroupConsumer",
    "Handler",
    "StreamLoop",
    "StreamProducer",
    "StreamReader",
]
