"""Shard leases in Redis: replicas started with identical settings split the work between them.

    async with hold_shard(redis, stopping, service="detector", group="binance,okx", count=3,
                          instance="host-a") as lease:
        if lease is None:
            return                      # stopped while standing by
        await run_my_part(lease.index)  # lease.index in range(3)

A replica claims the lowest free index of its group with ``SET key token NX PX ttl`` on
``arb:shard:{service}:{group}:{count}:{index}``, renews the lease every ``ttl / 3`` with a
compare-and-renew script (it never extends a lease another replica holds) and deletes it on a
clean stop with a compare-and-delete script. When every index is held it stands by, retrying,
and takes over the first lease that is released or expires.

A replica that finds its lease gone to someone else (or cannot reach Redis for a whole TTL)
sets ``stopping`` and, once the body has returned, raises ShardLeaseLost: the service exits
with one line and its orchestrator restarts it, so it claims afresh. A lease is only claimed
after the previous owner's has expired, and that owner stops at its next renewal, so two
replicas never own one shard for longer than one renewal period (a third of the TTL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import redis.asyncio as aioredis
from arb_structs.constants import shard_lease_key

from arb_runtime.errors import ArbError
from arb_runtime.metrics import HealthState
from arb_runtime.redis import REDIS_RETRYABLE


def shard_of(symbol: str, count: int, universe: Iterable[str] = ()) -> int:
    """Which of ``count`` shards owns ``symbol``.

    Symbols of ``universe`` (the configured list, the same in every replica) are dealt out by
    their rank in sorted order, so n symbols over k shards differ by at most one per shard;
    any other symbol goes by CRC-32 (stable in every process). A hash alone can leave a shard
    empty: BTC-USDT, ETH-USDT and SOL-USDT all have CRC-32 = 1 (mod 2).
    """
    ranked = sorted(set(universe))
    if symbol in ranked:
        return ranked.index(symbol) % count
    return zlib.crc32(symbol.encode()) % count


log = logging.getLogger("arb.shards")

_UNREACHABLE = REDIS_RETRYABLE
_RENEWAL_FAILED: tuple[type[BaseException], ...] = (TimeoutError, *REDIS_RETRYABLE)

# Extend our own lease; take it back if it vanished (expired, or Redis was flushed) and nobody
# claimed it since; refuse if another token holds it. 1 renewed, 2 retaken, 0 lost.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

# Delete a lock or lease only while we hold it (KEYS[1] holds our token ARGV[1]); 1 deleted.
RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ShardLeaseLost(ArbError):
    """Another replica holds this replica's shard now; restart to claim again."""


def new_token(instance: str) -> str:
    """A lease owner token unique to this process (instance names may repeat across hosts)."""
    return f"{instance}:{os.getpid()}:{secrets.token_hex(4)}"


class ShardLease:
    """One replica's claim on one index of a shard group."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        service: str,
        group: str,
        count: int,
        token: str,
        ttl_ms: int = 10_000,
        renew_ms: int | None = None,
        retry_ms: int | None = None,
    ) -> None:
        if count < 1:
            raise ValueError(f"shard count {count} must be at least 1")
        if ttl_ms < 30:
            raise ValueError(f"shard lease TTL {ttl_ms} ms is too short (at least 30 ms)")
        self._r: Any = redis  # redis-py's reply stubs say bytes | str; this client gives bytes
        self.service = service
        self.group = group
        self.count = count
        self.token = token
        self.ttl_ms = ttl_ms
        self.renew_ms = renew_ms or max(10, ttl_ms // 3)
        self.retry_ms = retry_ms or max(10, ttl_ms // 5)
        if self.renew_ms >= ttl_ms:
            raise ValueError(f"renewal every {self.renew_ms} ms must be well inside the TTL")
        self.index: int | None = None
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self._valid_until = 0.0  # monotonic time our lease surely lasts to
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(RELEASE_IF_OURS)

    @property
    def name(self) -> str:
        """``service/group`` for log lines."""
        return f"{self.service}/{self.group}"

    @property
    def key(self) -> str:
        if self.index is None:
            raise RuntimeError("no shard claimed yet")
        return self.key_of(self.index)

    def key_of(self, index: int) -> str:
        return shard_lease_key(self.service, self.group, self.count, index)

    async def try_claim(self) -> int | None:
        """One pass over the indices, lowest first: the one claimed, or None if all are held."""
        for index in range(self.count):
            sent = time.monotonic()
            if await self._r.set(self.key_of(index), self.token, nx=True, px=self.ttl_ms):
                self.index = index
                self._valid_until = sent + self.ttl_ms / 1000
                return index
        return None

    async def holders(self) -> list[str]:
        """Who holds each index now ('' where free), for log lines and status."""
        values = await self._r.mget([self.key_of(i) for i in range(self.count)])
        return [v.decode() if isinstance(v, bytes) else "" for v in values]

    async def claim(self, stopping: asyncio.Event, health: HealthState | None = None) -> int | None:
        """Claim an index, standing by while all are held; None if ``stopping`` came first."""
        waiting_logged = False
        while not stopping.is_set():
            try:
                index = await self.try_claim()
            except _UNREACHABLE as exc:
                log.error("%s: cannot reach Redis to claim a shard (%s); retrying", self.name, exc)
                index = None
            if index is not None:
                log.info("%s: claimed shard %d/%d (lease %s, ttl %d ms)",
                         self.name, index, self.count, self.key, self.ttl_ms)  # fmt: skip
                return index
            if not waiting_logged:
                waiting_logged = True
                with contextlib.suppress(*_UNREACHABLE):
                    log.warning(
                        "%s: all %d shards are held (by %s); standing by to take over the first "
                        "lease that is released or expires. Run as many replicas as shards; "
                        "extra ones are hot standbys",
                        self.name,
                        self.count,
                        ", ".join(await self.holders()),
                    )
                if health is not None:
                    health.set_detail("shard", f"standby (all {self.count} held)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.retry_ms / 1000)
        return None

    async def renew(self) -> bool:
        """Extend the lease; False if another replica holds it now. Raises if Redis is down."""
        sent = time.monotonic()
        outcome = int(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))
        if outcome == 0:
            return False
        if outcome == 2:
            log.warning("%s: lease %s had vanished (expired or Redis flushed); taken back",
                        self.name, self.key)  # fmt: skip
        self._valid_until = sent + self.ttl_ms / 1000
        return True

    async def release(self) -> bool:
        """Delete the lease if this replica still holds it; True if it was deleted."""
        if self.index is None:
            return False
        return bool(await self._release(keys=[self.key], args=[self.token]))

    def _lose(self, reason: str, stopping: asyncio.Event) -> None:
        self.lost_reason = reason
        self.lost.set()
        log.error("%s: %s; stopping so the service restarts and claims a shard again",
                  self.name, reason)  # fmt: skip
        stopping.set()

    async def keep(self, stopping: asyncio.Event) -> None:
        """Renew until ``stopping``; on loss set ``lost`` and ``stopping`` and return."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.renew_ms / 1000)
            if stopping.is_set():
                return
            left = self._valid_until - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError("the lease TTL passed before a renewal got through")
                held = await asyncio.wait_for(self.renew(), left)
            except _RENEWAL_FAILED as exc:
                if time.monotonic() < self._valid_until:
                    log.error("%s: renewing lease %s failed (%s); retrying",
                              self.name, self.key, exc)  # fmt: skip
                    continue
                self._lose(
                    f"lease {self.key} could not be renewed within its {self.ttl_ms} ms TTL "
                    f"({exc or type(exc).__name__}), so another replica may own shard "
                    f"{self.index}/{self.count} now",
                    stopping,
                )
                return
            if not held:
                holder = ""
                with contextlib.suppress(*_UNREACHABLE):
                    raw = await self._r.get(self.key)
                    holder = raw.decode() if isinstance(raw, bytes) else ""
                self._lose(
                    f"lease {self.key} on shard {self.index}/{self.count} is held by "
                    f"{holder or 'another replica'} now",
                    stopping,
                )
                return

    def describe(self) -> str:
        """``1/3 (auto)`` for health details."""
        return f"{self.index}/{self.count} (auto)"


@contextlib.asynccontextmanager
async def hold_shard(
    redis: aioredis.Redis,
    stopping: asyncio.Event,
    *,
    service: str,
    group: str,
    count: int,
    instance: str,
    ttl_ms: int = 10_000,
    health: HealthState | None = None,
) -> AsyncIterator[ShardLease | None]:
    """Claim a shard (standing by while all are held), keep it renewed, release it at the end.

    Yields None if ``stopping`` is set before a shard could be claimed. Raises ShardLeaseLost
    after the body returns if the lease was lost meanwhile (``stopping`` was set then).
    """
    lease = ShardLease(
        redis, service=service, group=group, count=count, token=new_token(instance), ttl_ms=ttl_ms
    )
    if await lease.claim(stopping, health) is None:
        yield None
        return
    if health is not None:
        health.set_detail("shard", lease.describe())
    keeper = asyncio.create_task(lease.keep(stopping))
    try:
        yield lease
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        if not lease.lost.is_set():
            try:
                if await lease.release():
                    log.info("%s: released shard %d/%d", lease.name, lease.index, count)
            except _UNREACHABLE as exc:
                log.warning("%s: could not release %s (%s); it expires in %d ms",
                            lease.name, lease.key, exc, ttl_ms)  # fmt: skip
    if lease.lost.is_set():
        raise ShardLeaseLost(f"{lease.name}: {lease.lost_reason}")
