"""A real Redis client that loses one task cancellation, the way redis-py can.

It talks to the real server; only a CancelledError raised while a command waits is handled
the way the bug does: returned as an empty reply ("return") or turned into a ConnectionError
("convert"), once. The task's cancel request stays recorded (``Task.cancelling()``), which is
what the runtime's loops must notice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError


class CancelLosingRedis(aioredis.Redis):
    mode = "return"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost = 0

    def _lose_once(self) -> Any:
        """Called in an ``except CancelledError``: re-raise it, or lose it the first time."""
        if self.lost:
            raise asyncio.CancelledError
        self.lost += 1
        if self.mode == "convert":
            raise RedisConnectionError("Connection closed by server.")
        return None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)
        except asyncio.CancelledError:
            return self._lose_once()

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        async def losing_execute(raise_on_error: bool = True) -> Any:
            try:
                return await execute(raise_on_error=raise_on_error)
            except asyncio.CancelledError:
                return self._lose_once()

        pipe.execute = losing_execute  # type: ignore[method-assign]
        return pipe


def losing_client(url: str, mode: str) -> CancelLosingRedis:
    client = CancelLosingRedis.from_url(url)
    client.mode = mode
    return client


async def health_detail(redis: Any, service: str, instance: str) -> dict[str, str]:
    """The detail a running service last wrote to its health key ({} before it wrote one).

    A process's health key is its instance name plus what tells processes on one host apart
    (``ing-a:okx:shard-0``, ``det-a:auto-4242`` until it claims a shard): the newest key of
    ``instance`` or ``instance:*`` is the one read."""
    from arb_structs.codec import HEALTH
    from arb_structs.constants import health_key

    key = health_key(service, instance)
    keys = [key, *[k async for k in redis.scan_iter(match=f"{key}:*", count=500)]]
    found = [HEALTH.decode(raw) for raw in await redis.mget(keys) if raw]
    return dict(max(found, key=lambda h: h.ts).detail) if found else {}
