"""Redis Streams the way the performance budget wants them.

- StreamProducer: everything produced in one event-loop turn goes out in ONE pipelined round
  trip, by one writer task (so per-stream order is kept); producers never await Redis. Every
  XADD is bounded (MAXLEN ~).
- StreamReader: the ordered reader for sharded streams (book, detector): XREAD of many
  streams from remembered positions, COUNT-batched.
- GroupConsumer: work distribution (executor): drain own pending on start, XREADGROUP > with
  BLOCK, XACK after the effect, reclaim entries idle too long (dead consumers), dead-letter
  after N deliveries, stable consumer names.

Cancellation: redis-py may lose a CancelledError raised while a command waits (it surfaces
as a ConnectionError, or not at all), so every loop here calls ``raise_if_cancelling()``
after its awaits and in its retry branches: a cancelled reader stops at once instead of
blocking in one more XREAD (see arb_runtime.tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from arb_structs.constants import DEAD_LETTER_MAXLEN, PAYLOAD_FIELD, dead_letter_stream
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from arb_runtime import metrics
from arb_runtime.tasks import raise_if_cancelling, stop_task

log = logging.getLogger("arb.streams")

_RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class StreamProducer:
    """Buffered writes flushed once per loop turn. ``await flush()`` waits for durability."""

    def __init__(
        self, redis: aioredis.Redis, *, maxlen: int = 100_000, max_pending: int = 1_000_000
    ) -> None:
        self.redis = redis
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

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5.0)
        self._closed = True
        await stop_task(self._writer)

    async def _write_loop(self) -> None:
        backoff = 0.05
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._ops:
                ops, self._ops = self._ops, []
                try:
                    await self._send(ops)
                    backoff = 0.05
                except _RETRYABLE as exc:
                    self._ops[:0] = ops  # keep order; try again
                    raise_if_cancelling()  # a cancel redis-py turned into a connection error
                    log.error("redis write failed (%s); %d commands waiting; retrying in %.1fs",
                              exc, len(self._ops), backoff)  # fmt: skip
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                self._written += len(ops)
                self._resolve_waiters()

    async def _send(self, ops: list[tuple[Any, ...]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for op in ops:
            pipe.execute_command(*op)
        results = await pipe.execute(raise_on_error=False)
        self.round_trips += 1
        self.commands += len(ops)
        metrics.PRODUCER_ROUND_TRIPS.inc()
        metrics.PRODUCER_BATCH_SIZE.observe(len(ops))
        for op, result in zip(ops, results, strict=False):
            if isinstance(result, Exception):
                if isinstance(result, _RETRYABLE):
                    raise result
                metrics.PRODUCER_ERRORS.inc()
                log.error("redis refused %s %s: %s", op[0], op[1], result)

    def _resolve_waiters(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._waiters:
            if self._written >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    id: bytes
    payload: bytes | None  # None when the entry lacks the payload field
    deliveries: int = 1


def _entries(stream: str, raw: Sequence[Any], deliveries: int = 1) -> list[Entry]:
    out = []
    for entry_id, fields in raw:
        if fields is None:  # deleted while pending
            out.append(Entry(stream, entry_id, None, deliveries))
            continue
        out.append(Entry(stream, entry_id, fields.get(PAYLOAD_FIELD), deliveries))
    return out


class StreamReader:
    """Ordered reads of several streams from remembered positions (``$`` = only new ones)."""

    def __init__(self, redis: aioredis.Redis, positions: dict[str, str | bytes]) -> None:
        self.redis = redis
        self.positions: dict[str, str | bytes] = dict(positions)

    async def read(self, count: int = 500, block_ms: int | None = 1000) -> list[Entry]:
        """Entries of all streams in one XREAD (per stream in order); [] after the block."""
        r: Any = self.redis
        try:
            response = await r.xread(self.positions, count=count, block=block_ms)
        except _RETRYABLE:
            raise_if_cancelling()  # the caller's cancel, turned into a connection error
            raise
        raise_if_cancelling()  # the caller's cancel, lost inside the client
        entries: list[Entry] = []
        for stream_name, raw in response or ():
            stream = stream_name.decode() if isinstance(stream_name, bytes) else stream_name
            batch = _entries(stream, raw)
            if batch:
                self.positions[stream] = batch[-1].id
                entries.extend(batch)
        return entries

    async def resolve_tail(self) -> None:
        """Pin ``$`` positions to the current last id, so no entry slips between reads."""
        for stream, position in list(self.positions.items()):
            if position in ("$", b"$"):
                info = (
                    await self.redis.xinfo_stream(stream)
                    if await self.redis.exists(stream)
                    else None
                )
                raise_if_cancelling()
                self.positions[stream] = info["last-generated-id"] if info else "0-0"


Handler = Callable[[Entry], Awaitable[None]]


class GroupConsumer:
    """One consumer of a consumer group. The handler's effect must be durable when it returns;
    then the entry is XACKed. An entry whose handler raises stays pending, is retried after
    ``claim_idle_ms``, and goes to the dead-letter stream after ``max_deliveries``."""

    def __init__(
        self,
        redis: aioredis.Redis,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        count: int = 100,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        claim_every_s: float = 5.0,
        max_deliveries: int = 5,
        start_id: str = "$",
    ) -> None:
        self.redis = redis
        self._r: Any = redis  # redis-py's stream reply stubs are narrower than the replies
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.handler = handler
        self.count = count
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.claim_every_s = claim_every_s
        self.max_deliveries = max_deliveries
        self.start_id = start_id
        self.dead_letter = dead_letter_stream(stream)
        self.processed = 0
        self.failed = 0
        self.dead_lettered = 0
        self.reclaimed = 0

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id=self.start_id, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stopping: asyncio.Event) -> None:
        await self.ensure_group()
        await self._drain_own_pending()
        next_claim = asyncio.get_running_loop().time() + self.claim_every_s
        while not stopping.is_set():
            try:
                response = await self._r.xreadgroup(
                    self.group, self.consumer, {self.stream: ">"}, count=self.count,
                    block=self.block_ms,
                )  # fmt: skip
                raise_if_cancelling()
                for _, raw in response or ():
                    await self._handle_all(_entries(self.stream, raw))
                if asyncio.get_running_loop().time() >= next_claim:
                    await self.reclaim()
                    next_claim = asyncio.get_running_loop().time() + self.claim_every_s
            except _RETRYABLE as exc:
                raise_if_cancelling()
                log.error("%s: redis read failed (%s); retrying", self.stream, exc)
                await asyncio.sleep(0.5)
                continue
            except ResponseError as exc:  # Redis came back empty: the group is gone
                if "NOGROUP" not in str(exc):
                    raise
                log.error("%s: consumer group %s is gone (Redis lost its data?); recreating "
                          "it", self.stream, self.group)  # fmt: skip
                await asyncio.sleep(0.1)
                with contextlib.suppress(*_RETRYABLE):
                    await self.ensure_group()

    async def _drain_own_pending(self) -> None:
        """Entries this consumer name was given before a restart and never acked."""
        last: str | bytes = "0"
        while True:
            response = await self._r.xreadgroup(
                self.group, self.consumer, {self.stream: last}, count=self.count
            )
            raise_if_cancelling()
            raw = response[0][1] if response else []
            if not raw:
                return
            entries = _entries(self.stream, raw, deliveries=2)
            await self._handle_all(entries)
            last = entries[-1].id

    async def reclaim(self) -> None:
        """Take over entries idle longer than claim_idle_ms (dead consumers, failed handlers);
        dead-letter those delivered max_deliveries times already."""
        pending = await self._r.xpending_range(
            self.stream, self.group, min="-", max="+", count=self.count, idle=self.claim_idle_ms
        )
        if not pending:
            return
        to_claim: list[bytes] = []
        for item in pending:
            if item["times_delivered"] >= self.max_deliveries:
                await self._dead_letter(item["message_id"], item["times_delivered"])
            else:
                to_claim.append(item["message_id"])
        if not to_claim:
            return
        raw = await self._r.xclaim(
            self.stream, self.group, self.consumer, self.claim_idle_ms, to_claim
        )
        deliveries = {item["message_id"]: item["times_delivered"] + 1 for item in pending}
        entries = [
            Entry(e.stream, e.id, e.payload, deliveries.get(e.id, 2))
            for e in _entries(self.stream, raw)
        ]
        self.reclaimed += len(entries)
        metrics.CONSUMER_RECLAIMED.labels(self.stream).inc(len(entries))
        await self._handle_all(entries)

    async def _dead_letter(self, entry_id: bytes, deliveries: int) -> None:
        raw = await self._r.xrange(self.stream, min=entry_id, max=entry_id)
        payload = raw[0][1].get(PAYLOAD_FIELD, b"") if raw else b""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(
            self.dead_letter,
            {PAYLOAD_FIELD: payload, b"id": entry_id, b"deliveries": str(deliveries),
             b"group": self.group},
            maxlen=DEAD_LETTER_MAXLEN, approximate=True,
        )  # fmt: skip
        pipe.xack(self.stream, self.group, entry_id)
        await pipe.execute()
        self.dead_lettered += 1
        metrics.CONSUMER_DEAD_LETTERED.labels(self.stream).inc()
        log.error("%s: entry %s dead-lettered to %s after %d deliveries",
                  self.stream, entry_id.decode(), self.dead_letter, deliveries)  # fmt: skip

    async def _handle_all(self, entries: list[Entry]) -> None:
        acked: list[bytes] = []
        for entry in entries:
            try:
                await self.handler(entry)
            except asyncio.CancelledError:
                raise
            except Exception:
                raise_if_cancelling()  # not a failure of the entry: we are stopping
                self.failed += 1
                metrics.CONSUMER_FAILURES.labels(self.stream).inc()
                log.exception("%s: handler failed on %s (delivery %d); it stays pending",
                              self.stream, entry.id.decode(), entry.deliveries)  # fmt: skip
                continue
            acked.append(entry.id)
        if acked:
            await self.redis.xack(self.stream, self.group, *acked)
            self.processed += len(acked)
            metrics.CONSUMER_PROCESSED.labels(self.stream).inc(len(acked))
