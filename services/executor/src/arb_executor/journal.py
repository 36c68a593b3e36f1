"""The saga journal: what was about to be sent, written durably BEFORE it is sent.

Redis layout: hash ``saga_key(id)`` with fields ``opportunity`` (MessagePack Opportunity),
``state`` (sending | hedging | done | unresolved), ``intent:<role>`` (MessagePack OrderIntent)
and ``result`` (MessagePack ExecutionResult); the id is in set ``OPEN_SAGAS_KEY`` until the
saga is resolved. A resolved saga's hash is kept for ``keep_ms`` for inspection.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from arb_structs import ExecutionResult, Opportunity, OrderIntent
from arb_structs.codec import EXECUTION, OPPORTUNITY
from arb_structs.constants import OPEN_SAGAS_KEY, saga_key

_INTENT_ENCODER = msgspec.msgpack.Encoder()
_INTENT_DECODER = msgspec.msgpack.Decoder(OrderIntent)

OpenSaga = tuple[Opportunity, dict[str, OrderIntent]]


class Journal(Protocol):
    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None: ...

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None: ...

    async def finish(self, result: ExecutionResult, resolved: bool) -> None: ...

    async def open_sagas(self) -> list[OpenSaga]: ...


class MemoryJournal:
    """In-process journal (bench, unit tests)."""

    def __init__(self) -> None:
        self.sagas: dict[str, dict[str, Any]] = {}
        self.open: set[str] = set()

    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        self.sagas[opp.id] = {"opportunity": opp, "state": "sending", "intents": dict(intents)}
        self.open.add(opp.id)

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        saga = self.sagas[opportunity_id]
        saga["intents"][role] = intent
        saga["state"] = "hedging"

    async def finish(self, result: ExecutionResult, resolved: bool) -> None:
        saga = self.sagas[result.opportunity_id]
        saga["state"] = "done" if resolved else "unresolved"
        saga["result"] = result
        if resolved:
            self.open.discard(result.opportunity_id)

    async def open_sagas(self) -> list[OpenSaga]:
        return [(self.sagas[i]["opportunity"], dict(self.sagas[i]["intents"])) for i in self.open]


class RedisJournal:
    def __init__(self, redis: aioredis.Redis, keep_ms: int = 7 * 86_400_000) -> None:
        self.redis = redis
        self.keep_ms = keep_ms

    async def begin(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> None:
        mapping: dict[str | bytes, bytes | str] = {
            "opportunity": OPPORTUNITY.encode(opp), "state": "sending"
        }  # fmt: skip
        for role, intent in intents.items():
            mapping[f"intent:{role}"] = _INTENT_ENCODER.encode(intent)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(saga_key(opp.id), mapping=mapping)  # type: ignore[arg-type]
        pipe.sadd(OPEN_SAGAS_KEY, opp.id)
        await pipe.execute()

    async def add(self, opportunity_id: str, role: str, intent: OrderIntent) -> None:
        await self.redis.hset(
            saga_key(opportunity_id),
            mapping={f"intent:{role}": _INTENT_ENCODER.encode(intent), "state": "hedging"},
        )

    async def finish(self, result: ExecutionResult, resolved: bool) -> None:
        key = saga_key(result.opportunity_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"state": "done" if resolved else "unresolved",
                                "result": EXECUTION.encode(result)})  # fmt: skip
        if resolved:
            pipe.srem(OPEN_SAGAS_KEY, result.opportunity_id)
            pipe.pexpire(key, self.keep_ms)
        await pipe.execute()

    async def open_sagas(self) -> list[OpenSaga]:
        out: list[OpenSaga] = []
        r: Any = (
            self.redis
        )  # redis-py's reply stubs are wider than what decode_responses=False gives
        for raw_id in await r.smembers(OPEN_SAGAS_KEY):
            opp_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            fields: dict[bytes, bytes] = await r.hgetall(saga_key(opp_id))
            if b"opportunity" not in fields:  # journal lost: nothing to reconcile from
                await r.srem(OPEN_SAGAS_KEY, opp_id)
                continue
            intents = {
                k.decode()[len("intent:") :]: _INTENT_DECODER.decode(v)
                for k, v in fields.items()
                if k.startswith(b"intent:")
            }
            out.append((OPPORTUNITY.decode(fields[b"opportunity"]), intents))
        return out
