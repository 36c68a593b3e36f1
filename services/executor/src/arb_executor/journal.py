"""The saga journal: what is about to be sent, and what every order of a saga was.

Only the first write, ``begin`` (both leg intents), is awaited before anything is sent: if
Redis does not take it, no order goes out (safe). Every later write (a hedge or unwind
intent, the result, the state) goes through the service's StreamProducer, an ordered
write-behind queue that retries until Redis answers and outlives the saga: a hedge is sent
at once, whatever Redis is doing, and its intent reaches Redis as soon as Redis is back.

The journal also keeps, in this process, every saga not yet resolved and every client order
id it recorded over the last ``lookback_ns``. When Redis comes back empty (the reconciler
sees its epoch key gone), ``restore`` writes them again: a saga interrupted by the loss is
still recoverable and its orders are still known, so the reconciliation never adopts them.

Redis layout: hash ``saga_key(id)`` with ``opportunity`` (MessagePack Opportunity), ``state``
(sending | hedging | done | unresolved), ``intent:<role>`` (MessagePack OrderIntent),
``result`` (MessagePack ExecutionResult, the last one published), ``owner`` (instance) and
``attempt`` (the token of the begin that wrote it, for ``abandon``);
the id is in set ``OPEN_SAGAS_KEY`` until the saga is resolved; a resolved saga's hash is kept
``keep_ms``. Sorted set ``EXECUTOR_ORDERS_KEY``: client order id -> ns it was journaled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from arb_runtime.durability import Durability, execute_on_disk
from arb_runtime.streams import StreamProducer
from arb_structs import ExecutionResult, Opportunity, OrderIntent
from arb_structs.codec import EXECUTION, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_MAXLEN,
    EXECUTIONS_STREAM,
    EXECUTOR_ORDERS_KEY,
    OPEN_SAGAS_KEY,
    PAYLOAD_FIELD,
    saga_key,
)

from arb_executor.config import SAGA_KEEP_MS

# ``abandon``: delete a saga's record and its open mark, only if the record holds the token of
# the begin being abandoned (KEYS: the saga, the open set; ARGV: the token, the id).
_ABANDON = """
if redis.call('HGET', KEYS[1], 'attempt') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 0
"""
_INTENT_ENCODER = msgspec.msgpack.Encoder()
_INTENT_DECODER = msgspec.msgpack.Decoder(OrderIntent)

log = logging.getLogger("arb.executor")


@dataclass
class OpenSaga:
    opportunity: Opportunity
    intents: dict[str, OrderIntent]
    state: str = "sending"
    previous: ExecutionResult | None = None  # the last result published for it, if any
    ts: int = field(default_factory=time.time_ns)
    owner: str = ""  # the executor instance that ran it


class Journal(Protocol):
    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        """Durable before anything is sent; raises when it is not."""

    def abandon(self, opportunity_id: str) -> None:
        """A ``begin`` that raised: nothing was sent, and its record, if the write reached
        Redis before the connection failed, is removed (never waits on Redis)."""

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        """Record a hedge/unwind intent before it is sent (never waits on Redis)."""

    async def finish(self, result: ExecutionResult, resolved: bool) -> None: ...

    async def open_sagas(self) -> list[OpenSaga]: ...

    def unresolved(self) -> list[OpenSaga]:
        """This process's sagas whose outcome is still unknown."""

    async def known_ids(self, since_ns: int) -> set[str]:
        """Client order ids journaled since ``since_ns`` (every replica's, and this
        process's own even before Redis has them); the ones read from Redis are remembered
        here too (written back by ``restore``)."""

    def note(self, intent: OrderIntent) -> None:
        """Record an order sent outside a saga's journal (a late order's hedge) as known."""


class _Local:
    """What both journals keep in this process."""

    def __init__(self, lookback_ns: int) -> None:
        self.live: dict[str, OpenSaga] = {}
        self.recent: dict[str, int] = {}  # client order id -> ns journaled
        self.lookback_ns = lookback_ns
        # results published within the lookback (encoded), oldest first: Redis coming back
        # empty takes arb:executions with it, and with it every result the recorder had not
        # read yet (arb chaos found them missing from the trade history); they are published
        # again then (the recorder keys results by opportunity, status and ts_done: a result
        # it has already is not written twice)
        self.results: list[tuple[int, bytes]] = []

    def published(self, payload: bytes, now: int | None = None) -> None:
        """Remember a result just published to arb:executions (see ``results``)."""
        now = time.time_ns() if now is None else now
        self.results.append((now, payload))
        if len(self.results) % 256 == 0:
            cutoff = now - self.lookback_ns
            self.results = [(t, p) for t, p in self.results if t >= cutoff]

    def remember(self, intent: OrderIntent, now: int) -> None:
        self.recent[intent.client_order_id] = now
        if len(self.recent) % 256 == 0:  # prune now and then
            cutoff = now - self.lookback_ns
            self.recent = {k: t for k, t in self.recent.items() if t >= cutoff}

    def unresolved(self) -> list[OpenSaga]:
        return [s for s in self.live.values() if s.state == "unresolved"]

    def _begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        now = time.time_ns()
        self.live[opp.id] = OpenSaga(opp, dict(intents))
        for intent in intents.values():
            self.remember(intent, now)

    def take(self, saga: OpenSaga) -> None:
        """Take over a saga another process left open (a recovery): live here, its order ids
        known to this process (written back if Redis comes back empty, so the reconciliation
        never adopts the orders of a saga already closed)."""
        now = time.time_ns()
        self.live[saga.opportunity.id] = saga
        for intent in saga.intents.values():
            self.remember(intent, now)

    def _add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        saga = self.live.get(opportunity_id)
        if saga is not None:
            saga.intents[role] = intent
            saga.state = "hedging"
        self.remember(intent, time.time_ns())

    def _finish(self, result: ExecutionResult, resolved: bool) -> None:
        if resolved:
            self.live.pop(result.opportunity_id, None)
        elif result.opportunity_id in self.live:
            saga = self.live[result.opportunity_id]
            saga.state, saga.previous = "unresolved", result


class MemoryJournal(_Local):
    """In-process journal (bench, unit tests)."""

    def __init__(self) -> None:
        super().__init__(lookback_ns=86_400 * 10**9)
        self.sagas: dict[str, dict[str, Any]] = {}
        self.open: set[str] = set()

    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        self._begin(opp, intents)
        self.sagas[opp.id] = {"opportunity": opp, "state": "sending", "intents": dict(intents)}
        self.open.add(opp.id)

    def abandon(self, opportunity_id: str) -> None:
        self.live.pop(opportunity_id, None)
        self.sagas.pop(opportunity_id, None)
        self.open.discard(opportunity_id)

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        self._add(opportunity_id, role, intent)
        saga = self.sagas[opportunity_id]
        saga["intents"][role] = intent
        saga["state"] = "hedging"

    async def finish(self, result: ExecutionResult, resolved: bool) -> None:
        self._finish(result, resolved)
        saga = self.sagas[result.opportunity_id]
        saga["state"] = "done" if resolved else "unresolved"
        saga["result"] = result
        if resolved:
            self.open.discard(result.opportunity_id)

    async def open_sagas(self) -> list[OpenSaga]:
        return [
            OpenSaga(self.sagas[i]["opportunity"], dict(self.sagas[i]["intents"]),
                     self.sagas[i]["state"], self.sagas[i].get("result"))
            for i in self.open
        ]  # fmt: skip

    async def known_ids(self, since_ns: int) -> set[str]:
        return {k for k, t in self.recent.items() if t >= since_ns}

    def note(self, intent: OrderIntent) -> None:
        self.remember(intent, time.time_ns())


class RedisJournal(_Local):
    """``durability`` (arb_runtime.durability.probe of this Redis): where the server can
    confirm an fsync (WAITAOF), ``begin`` waits for it before the orders go out."""

    def __init__(self, redis: aioredis.Redis, producer: StreamProducer, *, instance: str = "",
                 keep_ms: int = SAGA_KEEP_MS, lookback_ns: int = 3_600 * 10**9,
                 durability: Durability | None = None) -> None:  # fmt: skip
        super().__init__(lookback_ns)
        self.redis = redis
        self.producer = producer
        self.instance = instance
        self.keep_ms = keep_ms
        self.durability = durability
        self._attempts: dict[str, str] = {}  # opportunity id -> token of its begin in flight

    def _mapping(self, saga: OpenSaga) -> dict[str | bytes, bytes | str]:
        mapping: dict[str | bytes, bytes | str] = {
            "opportunity": OPPORTUNITY.encode(saga.opportunity), "state": saga.state,
            "owner": self.instance,
        }  # fmt: skip
        for role, intent in saga.intents.items():
            mapping[f"intent:{role}"] = _INTENT_ENCODER.encode(intent)
        if saga.previous is not None:
            mapping["result"] = EXECUTION.encode(saga.previous)
        return mapping

    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        now = time.time_ns()
        # This begin's own token in the record: ``abandon`` removes only the record it wrote.
        attempt = self._attempts[opp.id] = secrets.token_hex(8)
        if self.durability is not None and self.durability.confirmed:
            saga_fields = {**self._mapping(OpenSaga(opp, intents)), "attempt": attempt}
            fields = [x for kv in saga_fields.items() for x in kv]
            orders = [x for i in intents.values() for x in (now, i.client_order_id)]
            _, fsynced = await execute_on_disk(self.redis, [
                ("HSET", saga_key(opp.id), *fields), ("SADD", OPEN_SAGAS_KEY, opp.id),
                ("ZADD", EXECUTOR_ORDERS_KEY, *orders),
            ], self.durability)  # fmt: skip
            if not fsynced:  # applied and in the AOF buffer: a Redis crash loses at most it
                log.warning("saga journal of %s not confirmed on disk in time; sending anyway",
                            opp.id, extra={"opportunity_id": opp.id})  # fmt: skip
        else:
            # One transaction: the three keys share the {exec} hash tag, so this is one
            # slot on a Redis Cluster too.
            ids: dict[str, int] = {i.client_order_id: now for i in intents.values()}
            mapping: Any = {**self._mapping(OpenSaga(opp, intents)), "attempt": attempt}
            pipe = self.redis.pipeline(transaction=True)
            pipe.zadd(EXECUTOR_ORDERS_KEY, ids)
            pipe.hset(saga_key(opp.id), mapping=mapping)
            pipe.sadd(OPEN_SAGAS_KEY, opp.id)
            await pipe.execute()
        del self._attempts[opp.id]
        self._begin(opp, intents)

    def abandon(self, opportunity_id: str) -> None:
        # A begin whose reply never came (the connection closed under it) may or may not
        # have been applied. Nothing was sent, so its record must not stay open: a saga of a
        # live owner is recovered by no one until that owner stops (arb run's Ctrl-C test
        # found one so, left "sending"). The script deletes the record only if it still holds
        # this begin's token: a later begin of the same opportunity, a redelivery, keeps its.
        attempt = self._attempts.pop(opportunity_id, None)
        if attempt is not None:
            self.producer.command("EVAL", _ABANDON, 2, saga_key(opportunity_id), OPEN_SAGAS_KEY,
                                  attempt, opportunity_id)  # fmt: skip

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        self._add(opportunity_id, role, intent)
        key = saga_key(opportunity_id)
        self.producer.command("HSET", key, f"intent:{role}", _INTENT_ENCODER.encode(intent),
                              "state", "hedging")  # fmt: skip
        self.producer.command("ZADD", EXECUTOR_ORDERS_KEY, time.time_ns(), intent.client_order_id)

    async def finish(self, result: ExecutionResult, resolved: bool) -> None:
        self._finish(result, resolved)
        key = saga_key(result.opportunity_id)
        self.producer.command("HSET", key, "state", "done" if resolved else "unresolved",
                              "result", EXECUTION.encode(result))  # fmt: skip
        if resolved:
            self.producer.command("SREM", OPEN_SAGAS_KEY, result.opportunity_id)
            self.producer.command("PEXPIRE", key, self.keep_ms)

    def note(self, intent: OrderIntent) -> None:
        now = time.time_ns()
        self.remember(intent, now)
        self.producer.command("ZADD", EXECUTOR_ORDERS_KEY, now, intent.client_order_id)

    def restore(self) -> None:
        """Redis came back empty: write back every unresolved saga and every recent id (the
        results of the lookback follow in ``republish_results``)."""
        for saga in self.live.values():
            mapping = self._mapping(saga)
            args: list[Any] = [x for pair in mapping.items() for x in pair]
            self.producer.command("HSET", saga_key(saga.opportunity.id), *args)
            self.producer.command("SADD", OPEN_SAGAS_KEY, saga.opportunity.id)
        if self.recent:
            scored = [x for cid, ts in self.recent.items() for x in (ts, cid)]
            self.producer.command("ZADD", EXECUTOR_ORDERS_KEY, *scored)

    async def republish_results(self, flush_wait_s: float = 5.0) -> int:
        """After ``restore``: publish again the results of the lookback that the new
        arb:executions lacks (the stream went with Redis); how many. A result already there
        (published after Redis came back, or still queued in the producer from before) is
        not published twice: consumers that count results (the run summary, alerts) would."""
        cutoff = time.time_ns() - self.lookback_ns
        self.results = [(t, p) for t, p in self.results if t >= cutoff]
        if not self.results:
            return 0
        with contextlib.suppress(TimeoutError):  # what is still queued lands first
            await asyncio.wait_for(self.producer.flush(), flush_wait_s)
        r: Any = self.redis
        tail = await r.xrevrange(EXECUTIONS_STREAM, count=4 * len(self.results) + 1000)
        present = {fields.get(PAYLOAD_FIELD) for _, fields in tail or ()}
        missing = [payload for _, payload in self.results if payload not in present]
        for payload in missing:
            self.producer.xadd(EXECUTIONS_STREAM, payload, maxlen=EXECUTIONS_MAXLEN)
        return len(missing)

    async def open_sagas(self) -> list[OpenSaga]:
        out: list[OpenSaga] = []
        r: Any = self.redis  # redis-py's reply stubs are wider than decode_responses=False
        for raw_id in await r.smembers(OPEN_SAGAS_KEY):
            opp_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            fields: dict[bytes, bytes] = await r.hgetall(saga_key(opp_id))
            if b"opportunity" not in fields:  # journal lost: the reconciliation adopts it
                await r.srem(OPEN_SAGAS_KEY, opp_id)
                continue
            intents = {
                k.decode()[len("intent:") :]: _INTENT_DECODER.decode(v)
                for k, v in fields.items()
                if k.startswith(b"intent:")
            }
            previous = EXECUTION.decode(fields[b"result"]) if b"result" in fields else None
            state = fields.get(b"state", b"sending").decode()
            owner = fields.get(b"owner", b"").decode()
            out.append(OpenSaga(OPPORTUNITY.decode(fields[b"opportunity"]), intents, state,
                                previous, owner=owner))  # fmt: skip
        return out

    async def known_ids(self, since_ns: int) -> set[str]:
        r: Any = self.redis
        now = time.time_ns()
        pipe = r.pipeline(transaction=False)
        pipe.zremrangebyscore(EXECUTOR_ORDERS_KEY, "-inf", now - self.keep_ms * 1_000_000)
        pipe.zrangebyscore(EXECUTOR_ORDERS_KEY, since_ns, "+inf", withscores=True)
        _, scored = await pipe.execute()
        # Every replica's ids (and a dead predecessor's) become this process's to write back
        # if Redis comes back empty: kept only in Redis, they went with it, and the
        # reconciliation adopted (and closed again) a saga a killed executor had closed (arb
        # chaos: an unhedged leg sold twice, its exposure left open).
        for raw, score in scored:
            cid = raw.decode() if isinstance(raw, bytes) else str(raw)
            self.recent.setdefault(cid, int(score))
        return {k for k, t in self.recent.items() if t >= since_ns}
