"""Noticing that Redis restarted, and naming one process's health key.

``RedisRestarts`` asks the server for its ``run_id`` (INFO server) every couple of seconds: a
new one is a new server process, restarted empty or from its AOF. It logs one line and
calls what services registered with ``on_restart``: state a service writes once at start
(ingest's instruments) is written again. The stream loops need no call: they check their
positions after every outage (arb_runtime.consume).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from arb_runtime.backoff import wait_or_stop
from arb_runtime.redis import REDIS_RETRYABLE, server_infos
from arb_runtime.tasks import raise_if_cancelling

log = logging.getLogger("arb.redis")

RestartHook = Callable[[], None]


def process_instance(instance: str, *parts: str | None) -> str:
    """The health instance of one process: the instance name (a host name by default) and
    what tells processes on one host apart (``vm:binance:shard-1``); empty parts are left out."""
    return ":".join([instance, *(p for p in parts if p)])


class RedisRestarts:
    """Watches one client's server for restarts (see the module docstring)."""

    def __init__(self, redis: aioredis.Redis, every_s: float = 2.0) -> None:
        self._r: Any = redis
        self.every_s = every_s
        self.run_id: str | None = None
        self.restarts = 0
        self._hooks: list[RestartHook] = []

    def on_restart(self, hook: RestartHook) -> None:
        self._hooks.append(hook)

    async def check(self) -> bool:
        """Ask once; True if the server is another process than at the last check."""
        # A Redis Cluster: the run_ids of its primaries; one restarted or replaced by its
        # replica (which may lack the last writes) counts as a restart too.
        run_id = ",".join(str(i.get("run_id", "")) for i in await server_infos(self._r, "server"))
        previous, self.run_id = self.run_id, run_id
        if previous is None or previous == run_id:
            return False
        self.restarts += 1
        keys = int(await self._r.dbsize())
        gone = [i[:8] for i in previous.split(",") if i not in run_id.split(",")]
        new = [i[:8] for i in run_id.split(",") if i not in previous.split(",")]
        log.warning("Redis restarted (run_id %s -> %s; %d keys there now); publishing "
                    "start-up state again", ",".join(gone), ",".join(new), keys)  # fmt: skip
        for hook in self._hooks:
            try:
                hook()
            except Exception:
                log.exception("a Redis restart hook failed")
        return True

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.check()
            except REDIS_RETRYABLE:
                raise_if_cancelling()  # Redis is away: the next check sees the new run_id
            if await wait_or_stop(stopping, self.every_s):
                return
