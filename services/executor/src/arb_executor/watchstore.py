"""Where watched orders live: orders the saga concluded were never placed but whose request
may still land at the venue until its validity window ends (see latewatch.py).

Redis layout: hash ``LATE_ORDERS_KEY`` (``arb:{exec}:late``), field = client order id, value =
MessagePack ``WatchedOrder``. Written before the saga is marked done, removed only after the
order was reconciled or its deadline passed, so the watch survives a restart. With a producer
the writes are write-behind (in order with the journal's: the watch entry still lands before
the saga's "done"); reads go to Redis.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from arb_runtime.streams import StreamProducer
from arb_structs.constants import LATE_ORDERS_KEY
from arb_structs.trading import WatchedOrder

log = logging.getLogger("arb.executor")
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(WatchedOrder)


class WatchStore(Protocol):
    async def put(self, order: WatchedOrder) -> None: ...

    async def remove(self, client_order_id: str) -> None: ...

    async def all(self) -> list[WatchedOrder]: ...


class MemoryWatchStore:
    """In-process store (unit tests, bench)."""

    def __init__(self) -> None:
        self.orders: dict[str, WatchedOrder] = {}

    async def put(self, order: WatchedOrder) -> None:
        self.orders[order.intent.client_order_id] = order

    async def remove(self, client_order_id: str) -> None:
        self.orders.pop(client_order_id, None)

    async def all(self) -> list[WatchedOrder]:
        return list(self.orders.values())


class RedisWatchStore:
    def __init__(self, redis: aioredis.Redis, producer: StreamProducer | None = None) -> None:
        self.redis = redis
        self.producer = producer

    async def put(self, order: WatchedOrder) -> None:
        value = _ENCODER.encode(order)
        if self.producer is not None:
            self.producer.hset(LATE_ORDERS_KEY, order.intent.client_order_id, value)
            return
        await self.redis.hset(LATE_ORDERS_KEY, order.intent.client_order_id, value)

    async def remove(self, client_order_id: str) -> None:
        if self.producer is not None:
            self.producer.command("HDEL", LATE_ORDERS_KEY, client_order_id)
            return
        await self.redis.hdel(LATE_ORDERS_KEY, client_order_id)

    async def all(self) -> list[WatchedOrder]:
        r: Any = self.redis  # bytes replies (no decode_responses)
        raw: dict[bytes, bytes] = await r.hgetall(LATE_ORDERS_KEY)
        out: list[WatchedOrder] = []
        for field, value in raw.items():
            try:
                out.append(_DECODER.decode(value))
            except msgspec.DecodeError as exc:  # an incompatible writer: say so, keep it
                log.error("%s field %r does not decode as a WatchedOrder (%s); inspect it with "
                          "HGET and delete it once the order is settled", LATE_ORDERS_KEY,
                          field.decode(errors="replace"), exc)  # fmt: skip
        return out
