"""Redis Streams the way the performance budget wants them.

- StreamProducer: everything produced in one event-loop turn goes out in ONE pipelined round
  trip, by one writer task (so per-stream order is kept); producers never await Redis. Every
  XADD is bounded (MAXLEN ~). A service's ordered read loop may carry those writes instead
  (``carry``): they go out in the same write as its next XREAD, while the writer task waits.
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
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AskError

from arb_runtime import metrics
from arb_runtime.backoff import REDIS_BACKOFF, Attempts, Backoff
from arb_runtime.entries import Entry, entries_from
from arb_runtime.lean import lean_link
from arb_runtime.redis import REDIS_RETRYABLE, is_cluster, torn_connection
from arb_runtime.tasks import raise_if_cancelling, stop_task

log = logging.getLogger("arb.streams")

# What an op's result may say that means "send it again": an outage, or (Redis Cluster) its
# slot has moved to another node (MOVED, and ASK while a slot migrates: both AskError).
_RESEND: tuple[type[BaseException], ...] = (*REDIS_RETRYABLE, AskError)

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
        # Redis Cluster: the producer's own connection to each primary, and whether the
        # shared client's slot map must be reloaded before the next send (see _send_cluster)
        self._node_clients: dict[str, aioredis.Redis] = {}
        self._slot_map_stale = False
        self._link = lean_link(redis)  # one server: the writer's own connection (lean.py)
        self.carried_batches = 0  # batches a reader's XREAD carried (``carry``)
        self._sending = False  # the writer task has ops out (sent, or waiting out a failure)
        self._carrying = False  # a reader has ops out; the writer task waits for it
        self._held = 0  # ops written while earlier ones wait to be sent again

    @property
    def carries(self) -> bool:
        """Whether a reader may carry this producer's writes (one server: lean.py)."""
        return self._link is not None

    def carry(self) -> list[tuple[Any, ...]] | None:
        """Every pending write, for a reader to send before its next command on its own
        connection (``LeanLink.command_after``), which must hand the outcome to ``carried``.
        None when nothing is pending, on a Redis Cluster, or while the writer task has ops
        out or a carry is in flight: per-stream order holds, because only one of the two
        sends at a time, and the writer task sends nothing until ``carried``."""
        if self._link is None or not self._ops or self._sending or self._carrying:
            return None
        ops, self._ops = self._ops, []
        self._carrying = True
        return ops

    def carried(self, ops: list[tuple[Any, ...]], replies: list[Any] | BaseException) -> None:
        """The outcome of a carry: ``ops``' replies in order, or what ended the round trip
        before they came (those ops go back to the front, for the writer task to send again
        with its backoff: the one at-least-once case, as for its own sends)."""
        self._carrying = False
        if isinstance(replies, BaseException):
            self._ops[:0] = ops
        else:
            self.carried_batches += 1
            failed = self._account(ops, replies)
            if failed:
                self._held += len(ops) - len(failed)
                self._ops[:0] = failed
            else:
                self._written += len(ops) + self._held
                self._held = 0
                self._resolve_waiters()
        if self._ops or self._waiters:
            self._wakeup.set()  # the writer task sends what is left

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
        if self._link is not None:
            await self._link.close()
        for client in self._node_clients.values():
            await client.aclose()
        self._node_clients.clear()

    async def _write_loop(self) -> None:
        retry = self.backoff.attempts()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                while self._ops and not self._carrying:  # a carry in flight: it goes first
                    self._sending = True
                    await self._write_once(retry)
            finally:
                self._sending = False

    async def _write_once(self, retry: Attempts) -> None:
        ops, self._ops = self._ops, []
        try:
            failed = await self._send(ops)
            if failed and self._last_failure is not None:
                # Some ops went through, others met an outage (a Redis Cluster node away, or
                # a carry's): those that went through count as written once the rest is, so
                # flush() waits for all of them.
                self._held += len(ops) - len(failed)
                ops = failed
                raise self._last_failure
            if retry.attempt:
                log.warning("redis writes go through again; %d commands sent", len(ops))
            retry.reset()
        except _RESEND as exc:
            self._ops[:0] = ops  # keep order; try again
            raise_if_cancelling()  # a cancel redis-py turned into a connection error
            delay = retry.next_delay()
            if retry.attempt == 1 or retry.attempt % 20 == 0:
                log.error("redis write failed (%s); %d commands waiting; retrying "
                          "(attempt %d)", exc, len(self._ops), retry.attempt)  # fmt: skip
            await asyncio.sleep(delay)
            return
        self._written += len(ops) + self._held
        self._held = 0
        self._resolve_waiters()

    async def _send(self, ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Send ``ops`` in one pipeline; the ops that met an outage, to send again.

        One server fails a pipeline as a whole (raised). On a Redis Cluster each primary
        gets its own pipeline (_send_cluster): the ops of a node that is away come back as
        errors while the other nodes applied theirs, so only those are sent again (per stream
        in order: one stream lives on one node), not the ones that went through."""
        if is_cluster(self.redis):
            results = await self._send_cluster(ops)
        elif self._link is not None:
            results = await self._link.pipeline(ops)
        else:
            pipe = self.redis.pipeline(transaction=False)
            for op in ops:
                pipe.execute_command(*op)
            try:
                results = await pipe.execute(raise_on_error=False)
            except AttributeError as exc:  # a torn connection, as on a cluster (see redis.py)
                raise torn_connection(exc) from exc
        self.round_trips += 1
        metrics.PRODUCER_ROUND_TRIPS.inc()
        return self._account(ops, results)

    def _account(self, ops: list[tuple[Any, ...]], results: list[Any]) -> list[tuple[Any, ...]]:
        """Count a sent batch and log what Redis refused; the ops to send again."""
        self.commands += len(ops)
        metrics.PRODUCER_BATCH_SIZE.observe(len(ops))
        failed: list[tuple[Any, ...]] = []
        for op, result in zip(ops, results, strict=False):
            if isinstance(result, Exception):
                if isinstance(result, _RESEND):
                    failed.append(op)
                    self._last_failure = result
                    continue
                metrics.PRODUCER_ERRORS.inc()
                log.error("redis refused %s %s: %s", op[0], op[1], result)
        return failed

    async def _send_cluster(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        """One pipeline per primary, on the producer's own connections; results in ``ops``'
        order (an exception in the slot of each op that did not go through).

        Not redis-py's cluster pipeline: when one node fails, that pipeline closes every
        node's connections (its own and other tasks' on the same client, whose replies may
        still be on the way) and resends everything it has no reply for, so entries a
        healthy primary had taken were written twice. Here nothing is resent by the client
        (no retry on these connections): a node that is away fails only its own ops, which
        the write loop sends again after the slot map is reloaded; a node whose connection
        broke after the send is the one at-least-once case left, as on one server."""
        cluster: Any = self.redis
        if self._slot_map_stale:
            await cluster.nodes_manager.initialize()
            self._slot_map_stale = False
        groups: dict[str, tuple[Any, list[int]]] = {}
        for i, op in enumerate(ops):
            node = cluster.get_node_from_key(_key_of(op))
            groups.setdefault(node.name, (node, []))[1].append(i)
        results: list[Any] = [None] * len(ops)
        sent = await asyncio.gather(
            *(self._node_pipeline(node, [ops[i] for i in idx]) for node, idx in groups.values()),
            return_exceptions=True,
        )
        for (node, idx), answer in zip(groups.values(), sent, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, REDIS_RETRYABLE):
                    raise answer
                self._slot_map_stale = True  # a primary away: its replica may be promoted
                client = self._node_clients.pop(node.name, None)
                if client is not None:
                    await client.aclose()
                answer = [answer] * len(idx)
            for i, result in zip(idx, answer, strict=True):
                if isinstance(result, _RESEND):  # MOVED/ASK, CLUSTERDOWN, TRYAGAIN: reload
                    self._slot_map_stale = True
                results[i] = result
        return results

    async def _node_pipeline(self, node: Any, ops: list[tuple[Any, ...]]) -> list[Any]:
        client = self._node_clients.get(node.name)
        if client is None:
            kwargs = {**node.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
            pool = aioredis.ConnectionPool(connection_class=node.connection_class, **kwargs)
            client = self._node_clients[node.name] = aioredis.Redis.from_pool(pool)
        pipe = client.pipeline(transaction=False)
        for op in ops:
            pipe.execute_command(*op)
        return list(await pipe.execute(raise_on_error=False))

    def _resolve_waiters(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._waiters:
            if self._written >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still


def _key_of(op: tuple[Any, ...]) -> Any:
    """The key an op writes (its slot picks the node): the first key of EVAL/EVALSHA, else
    the command's first argument. Every op the services send names one key (or keys of one
    slot: a script's keys share a hash tag)."""
    if str(op[0]).upper() in ("EVAL", "EVALSHA"):
        return op[3]
    return op[1]


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
