"""Reading streams: the ordered reader and loop, and the consumer-group loop.

- StreamReader: XREAD of many streams from remembered positions, COUNT-batched.
- StreamLoop: the ordered read loop of every ordered reader (book, detector, ingest control):
  read, hand the batch to the service, repeat.
- GroupConsumer: the consumer-group loop (executor): drain own pending on start, XREADGROUP >
  with BLOCK, XACK after the effect, reclaim entries idle too long (dead consumers),
  dead-letter after N deliveries, stable consumer names.

Both loops survive Redis going away and coming back, empty or from its AOF, without exiting:

- a retryable error (arb_runtime.redis.REDIS_RETRYABLE) is logged once per outage and
  retried after the one jittered backoff (arb_runtime.backoff.REDIS_BACKOFF);
- StreamLoop checks its positions after every outage, at start and every ``verify_every_s``
  (StreamReader.verify): a stream that vanished is read from its start when it comes back,
  one that now ends before the position held (an AOF without the last writes) from its end.
  redis-py reconnects by itself on the next command, so a restart can also pass unseen
  between two reads; the periodic check covers that;
- GroupConsumer recreates a group that is gone (NOGROUP) at the last id it knows the group
  had delivered, or the stream's end if that is lower, or 0 for a stream that is gone too;
  then it acks what it had handled but could not ack during the outage and drains its own
  pending entries (delivered to it, never acked) before reading new ones.

Cancellation: redis-py may lose a CancelledError raised while a command waits (it surfaces
as a ConnectionError, or not at all), so the loops call ``raise_if_cancelling()`` after
their awaits and in their retry branches (see arb_runtime.tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from arb_structs.constants import DEAD_LETTER_MAXLEN, PAYLOAD_FIELD, dead_letter_stream
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from arb_runtime import metrics
from arb_runtime.backoff import REDIS_BACKOFF, Attempts, Backoff, wait_or_stop
from arb_runtime.entries import (
    ZERO_ID,
    Entry,
    StreamId,
    entries_from,
    entries_from_flat,
    format_id,
    parse_id,
    tails,
    text,
)
from arb_runtime.lean import LeanLink, lean_link
from arb_runtime.redis import REDIS_RETRYABLE, is_cluster
from arb_runtime.tasks import raise_if_cancelling

if TYPE_CHECKING:
    from arb_runtime.streams import StreamProducer

log = logging.getLogger("arb.streams")

Handler = Callable[[Entry], Awaitable[None]]
BatchHandler = Callable[[list[Entry]], Awaitable[None]]
EntriesReader = Callable[[str, Any], list[Entry]]
FailureHook = Callable[[BaseException], None]


class StreamReader:
    """Ordered reads of several streams from remembered positions (``$`` = only new ones)."""

    def __init__(self, redis: aioredis.Redis, positions: dict[str, str | bytes]) -> None:
        self.redis = redis
        self.positions: dict[str, str | bytes] = dict(positions)
        # Redis Cluster: one XREAD per hash slot (a command's keys must share one), each a
        # task that stays in flight across calls until it answers.
        self._inflight: dict[int, asyncio.Task[Any]] = {}
        self._link = lean_link(redis)  # one server: the reader's own connection (lean.py)

    def _slots(self) -> dict[int, list[str]]:
        r: Any = self.redis
        groups: dict[int, list[str]] = {}
        for stream in self.positions:
            groups.setdefault(int(r.keyslot(stream)), []).append(stream)
        return groups

    @property
    def carries(self) -> bool:
        """Whether ``read`` can carry a producer's writes (one server: its own connection)."""
        return self._link is not None

    async def read(
        self,
        count: int = 500,
        block_ms: int | None = 1000,
        writes: StreamProducer | None = None,
    ) -> list[Entry]:
        """Entries of all streams in one XREAD (per stream in order); [] after the block.
        On a Redis Cluster whose streams sit in several slots: one blocking XREAD per slot,
        the entries of those that answered within the block (the others stay in flight).

        ``writes``: a producer whose pending writes go out in the same write as the XREAD,
        ahead of it (``StreamProducer.carry``), where both are on one server; elsewhere its
        writer task sends them."""
        r: Any = self.redis
        if self._link is not None:
            return await self._read_lean(self._link, count, block_ms, writes)
        if is_cluster(r):
            groups = self._slots()
            if len(groups) > 1:
                return await self._read_slots(groups, count, block_ms)
        try:
            response = await r.xread(self.positions, count=count, block=block_ms)
        except REDIS_RETRYABLE:
            raise_if_cancelling()  # the caller's cancel, turned into a connection error
            raise
        raise_if_cancelling()  # the caller's cancel, lost inside the client
        return self._take(response)

    async def _read_lean(
        self, link: LeanLink, count: int, block_ms: int | None, writes: StreamProducer | None
    ) -> list[Entry]:
        """The same XREAD on the reader's own connection, after ``writes``' pending ones;
        its reply as the parser gave it."""
        positions = self.positions
        block = () if block_ms is None else ("BLOCK", block_ms)
        xread = ("XREAD", "COUNT", count, *block, "STREAMS", *positions, *positions.values())
        ops = writes.carry() if writes is not None else None
        try:
            if writes is not None and ops:
                done = partial(writes.carried, ops)
                response = await link.command_after(ops, done, *xread, block_ms=block_ms)
            else:
                response = await link.command(*xread, block_ms=block_ms)
        except REDIS_RETRYABLE:
            raise_if_cancelling()
            raise
        raise_if_cancelling()
        return self._take(response, entries_from_flat)

    def _take(self, response: Any, read: EntriesReader = entries_from) -> list[Entry]:
        entries: list[Entry] = []
        # RESP3 (redis-py 8's default, and what a LeanLink gets): a map; RESP2: pairs
        for stream_name, raw in response.items() if type(response) is dict else response or ():
            stream = text(stream_name)
            batch = read(stream, raw)
            if batch:
                self.positions[stream] = batch[-1].id
                entries.extend(batch)
        return entries

    async def _read_slots(
        self, groups: dict[int, list[str]], count: int, block_ms: int | None
    ) -> list[Entry]:
        r: Any = self.redis
        for slot, streams in groups.items():
            if slot not in self._inflight:
                positions = {s: self.positions[s] for s in streams}
                self._inflight[slot] = asyncio.ensure_future(
                    _xread_on_cluster(r, positions, count, block_ms)
                )
        timeout = None if block_ms is None else block_ms / 1000 + 1.0
        done, _ = await asyncio.wait(
            self._inflight.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        raise_if_cancelling()
        entries: list[Entry] = []
        failure: BaseException | None = None
        for slot, task in list(self._inflight.items()):
            if task not in done:
                continue
            del self._inflight[slot]
            exc = task.exception()
            if exc is not None:
                failure = failure or exc
                continue
            entries.extend(self._take(task.result()))
        if failure is not None and not entries:
            raise failure
        return entries

    async def close(self) -> None:
        """Cancel the reads still in flight; close the reader's own connection."""
        await self._cancel_reads()
        if self._link is not None:
            await self._link.close()

    async def _cancel_reads(self) -> None:
        """Cancel the reads still in flight (Redis Cluster, several slots)."""
        tasks, self._inflight = list(self._inflight.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def resolve_tail(self) -> None:
        """Pin ``$`` positions to the current last id, so no entry slips between reads."""
        waiting = [s for s, p in self.positions.items() if p in ("$", b"$")]
        for stream, tail in (await tails(self.redis, waiting)).items():
            self.positions[stream] = format_id(tail) if tail else ZERO_ID
        raise_if_cancelling()

    async def verify(self) -> dict[str, tuple[str, str]]:
        """Move each position back to where its stream ends now, if it ends before it.

        A stream that no longer exists (Redis restarted empty, the key was deleted) is read
        from its start when it comes back; one that ends before our position (Redis
        restarted from an AOF without its last writes) is read on from its end: every entry
        after that was written after the restart, so nothing new is skipped and nothing
        read before is read again. Returns ``{stream: (old, new)}`` of the positions moved.
        """
        await self._cancel_reads()  # a read in flight would set a position from before the check
        await self.resolve_tail()
        held = {s: parse_id(p) for s, p in self.positions.items()}
        ends = await tails(self.redis, [s for s, p in held.items() if p is not None])
        raise_if_cancelling()
        moved: dict[str, tuple[str, str]] = {}
        for stream, tail in ends.items():
            position = held[stream]
            if position is not None and position > (tail or (0, 0)):
                new = ZERO_ID if tail is None else format_id(tail)
                moved[stream] = (text(self.positions[stream]), new.decode())
                self.positions[stream] = new
        return moved


async def _xread_on_cluster(
    r: Any, positions: dict[str, str | bytes], count: int, block_ms: int | None
) -> Any:
    """One slot's XREAD. When a command of the same client meets a failed node, redis-py's
    cluster client closes every node's connections to reload the slot map, including one a
    concurrent XREAD is using; that read then fails with an AttributeError from inside the
    client (its writer is gone). It is the same outage, so it is raised as one."""
    try:
        return await r.xread(positions, count=count, block=block_ms)
    except AttributeError as exc:
        raise RedisConnectionError(
            f"connection closed while the slot map reloaded ({exc})"
        ) from exc


class _Outage:
    """One loop's view of Redis being away: log the first failure and the recovery, count."""

    def __init__(self, name: str, backoff: Backoff) -> None:
        self.name = name
        self.retry: Attempts = backoff.attempts()
        self.failures = 0
        self.outages = 0

    def failed(self, what: str, exc: BaseException) -> float:
        self.failures += 1
        if self.retry.attempt == 0:
            self.outages += 1
            log.error("%s: %s failed (%s); retrying with backoff until Redis answers",
                      self.name, what, exc or type(exc).__name__)  # fmt: skip
        return self.retry.next_delay()

    def succeeded(self) -> None:
        if self.retry.attempt:
            log.warning("%s: Redis answers again after %d failed attempts", self.name,
                        self.retry.attempt)  # fmt: skip
            self.retry.reset()


class StreamLoop:
    """Read ``reader``'s streams in order and hand every batch to ``handler`` until
    ``stopping`` is set, through any Redis outage (see the module docstring).

    ``handler`` gets each non-empty batch (every read, empty ones too, with
    ``handle_empty=True``: for services that do timed work between reads). Its own
    exceptions propagate: the positions have moved past the batch already.

    ``producer``: the service's StreamProducer. The writes a batch's handling left in it go
    out with the next XREAD, ahead of it in the same write (``StreamReader.read``'s
    ``writes``), when the reader and the producer are on one server and the producer's
    writer task has nothing out. Otherwise the loop yields once before it reads again, so
    the writer task (woken by those writes, and so queued ahead of the loop) sends them
    first, or as soon as its own round trip in flight is answered.
    """

    def __init__(
        self,
        reader: StreamReader,
        handler: BatchHandler,
        *,
        name: str,
        count: int = 500,
        block_ms: int = 1000,
        handle_empty: bool = False,
        verify_every_s: float = 5.0,
        backoff: Backoff = REDIS_BACKOFF,
        on_failure: FailureHook | None = None,
        producer: StreamProducer | None = None,
    ) -> None:
        self.reader = reader
        self.handler = handler
        self.producer = producer
        self.name = name
        self.count = count
        self.block_ms = block_ms
        self.handle_empty = handle_empty
        self.verify_every_s = verify_every_s
        self.on_failure = on_failure
        self.outage = _Outage(name, backoff)
        self.moved = 0  # positions moved back because a stream vanished or went back
        # the producer whose writes each read carries (one server), else None
        carries = producer is not None and producer.carries and reader.carries
        self._carrier: StreamProducer | None = producer if carries else None

    @property
    def failures(self) -> int:
        return self.outage.failures

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            await self._run(stopping)
        finally:
            await self.reader.close()

    async def _run(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_verify = 0.0  # verify first: a checkpoint may point past a stream's end
        while not stopping.is_set():
            raise_if_cancelling()
            try:
                if loop.time() >= next_verify:
                    self._report(await self.reader.verify())
                    next_verify = loop.time() + self.verify_every_s
                entries = await self.reader.read(self.count, self.block_ms, self._carrier)
            except REDIS_RETRYABLE as exc:
                raise_if_cancelling()
                delay = self.outage.failed("reading", exc)
                next_verify = 0.0  # Redis may come back empty or from an older AOF
                if self.on_failure is not None:
                    self.on_failure(exc)
                await wait_or_stop(stopping, delay)
                continue
            self.outage.succeeded()
            if entries or self.handle_empty:
                await self.handler(entries)
                producer = self.producer
                if producer is not None and producer.pending and self._carrier is None:
                    await asyncio.sleep(0)  # the producer's writer sends the batch's writes

    def _report(self, moved: dict[str, tuple[str, str]]) -> None:
        for stream, (old, new) in moved.items():
            self.moved += 1
            if new == ZERO_ID.decode():
                log.warning("%s: %s is gone (Redis restarted empty, or the key was deleted); "
                            "reading it from its start when it comes back (position was %s)",
                            self.name, stream, old)  # fmt: skip
            else:
                log.warning("%s: %s ends at %s, before the position %s held (Redis restarted "
                            "from an older AOF); reading on from its end",
                            self.name, stream, new, old)  # fmt: skip


def _is_nogroup(exc: ResponseError) -> bool:
    return str(exc).startswith("NOGROUP")


class GroupConsumer:
    """One consumer of a consumer group. The handler's effect must be durable when it returns;
    then the entry is XACKed. An entry whose handler raises stays pending, is retried after
    ``claim_idle_ms``, and goes to the dead-letter stream after ``max_deliveries``. A handler
    that raises a Redis outage error (REDIS_RETRYABLE) ends the batch: the rest of it stays
    pending and is drained, with that entry, once Redis answers again."""

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
        backoff: Backoff = REDIS_BACKOFF,
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
        self.outage = _Outage(f"{stream} group {group}", backoff)
        self.processed = 0
        self.failed = 0
        self.dead_lettered = 0
        self.reclaimed = 0
        self.groups_recreated = 0
        self._delivered: StreamId | None = None  # the highest id the group delivered, known
        self._unacked: list[bytes] = []  # handled, but the XACK did not get through

    async def ensure_group(self) -> None:
        """Create the group if it is missing: at ``start_id`` the first time; after it was
        lost, where it had got to (see the module docstring)."""
        start: str | bytes = self.start_id
        if self._delivered is not None:
            end = (await tails(self.redis, [self.stream]))[self.stream]
            start = "0" if end is None else format_id(min(self._delivered, end))
        try:
            await self.redis.xgroup_create(self.stream, self.group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        else:
            if self._delivered is not None:
                self.groups_recreated += 1
                log.warning("%s: consumer group %s was gone (Redis restarted empty?); "
                            "recreated at %s", self.stream, self.group, text(start))  # fmt: skip
        raise_if_cancelling()
        for info in await self._r.xinfo_groups(self.stream):
            if text(info["name"]) == self.group:
                self._saw(info["last-delivered-id"])

    def _saw(self, entry_id: bytes | str) -> None:
        parsed = parse_id(entry_id)
        if parsed is not None and (self._delivered is None or parsed > self._delivered):
            self._delivered = parsed

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set; the group is ensured and this consumer's own
        pending entries are handled first, even when ``stopping`` is set already."""
        loop = asyncio.get_running_loop()
        prepared = False
        next_claim = loop.time() + self.claim_every_s
        while True:
            raise_if_cancelling()
            try:
                if not prepared:
                    await self._prepare()
                    prepared = True
                if stopping.is_set():
                    return
                response = await self._r.xreadgroup(
                    self.group, self.consumer, {self.stream: ">"}, count=self.count,
                    block=self.block_ms,
                )  # fmt: skip
                raise_if_cancelling()
                for _, raw in response or ():
                    await self._handle_all(entries_from(self.stream, raw))
                if loop.time() >= next_claim:
                    await self.reclaim()
                    next_claim = loop.time() + self.claim_every_s
            except REDIS_RETRYABLE as exc:  # before ResponseError: CLUSTERDOWN is one
                raise_if_cancelling()
                prepared = False  # the group may be gone, acks may be owed
                if await wait_or_stop(stopping, self.outage.failed("reading", exc)):
                    return
                continue
            except ResponseError as exc:
                if not _is_nogroup(exc):
                    raise
                raise_if_cancelling()
                prepared = False  # recreate the group, then read on
                if await wait_or_stop(stopping, self.outage.failed("the consumer group", exc)):
                    return
                continue
            self.outage.succeeded()

    async def _prepare(self) -> None:
        """Group present, acks owed from an outage sent, own pending entries handled."""
        await self.ensure_group()
        if self._unacked:
            owed, self._unacked = self._unacked, []
            await self.redis.xack(self.stream, self.group, *owed)
        await self._drain_own_pending()

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
            entries = entries_from(self.stream, raw, deliveries=2)
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
            for e in entries_from(self.stream, raw)
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
        try:
            for entry in entries:
                self._saw(entry.id)
                try:
                    await self.handler(entry)
                except asyncio.CancelledError:
                    raise
                except REDIS_RETRYABLE as exc:
                    raise_if_cancelling()
                    log.error("%s: handling %s needed Redis, which is away (%s); it and the "
                              "rest of its batch stay pending", self.stream, entry.id.decode(),
                              exc or type(exc).__name__)  # fmt: skip
                    raise  # an outage, not a bad entry
                except Exception:
                    raise_if_cancelling()  # not a failure of the entry: we are stopping
                    self.failed += 1
                    metrics.CONSUMER_FAILURES.labels(self.stream).inc()
                    log.exception("%s: handler failed on %s (delivery %d); it stays pending",
                                  self.stream, entry.id.decode(), entry.deliveries)  # fmt: skip
                    continue
                acked.append(entry.id)
        except BaseException:
            self._unacked.extend(acked)  # their effects are done: acked once Redis answers
            raise
        if acked:
            await self._ack(acked)

    async def _ack(self, acked: list[bytes]) -> None:
        try:
            await self.redis.xack(self.stream, self.group, *acked)
        except REDIS_RETRYABLE:
            self._unacked.extend(acked)  # sent first thing once Redis answers again
            raise
        self.processed += len(acked)
        metrics.CONSUMER_PROCESSED.labels(self.stream).inc(len(acked))
