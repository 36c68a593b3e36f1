"""Redis connections from ARB_REDIS_URL, with errors that say what to do, and the one set of
errors every Redis loop retries.

``REDIS_RETRYABLE``: the server is away or not ready (connection refused/reset/closed, a
timeout, ``LOADING`` while a restarted server reads its AOF: redis-py's BusyLoadingError is a
ConnectionError; on a Redis Cluster also CLUSTERDOWN/TRYAGAIN while a replica takes over).
Anything else (a ResponseError such as NOGROUP or WRONGTYPE) is an answer, not an outage,
and each loop decides what it means.

Redis Cluster: ``redis+cluster://host:port,host:port`` selects redis-py's cluster client
(``cluster_client``); docs/scaling.md has the slot layout.

Error texts carry the URL with its password masked (arb_runtime.redact).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode
from redis.exceptions import (
    AuthenticationError,
    ClusterError,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from arb_runtime.backoff import REDIS_BACKOFF
from arb_runtime.errors import ConfigError, RedisUnavailable
from arb_runtime.redact import redact

log = logging.getLogger("arb.redis")

REDIS_RETRYABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    # Redis Cluster while a primary fails over: CLUSTERDOWN / MASTERDOWN (no node serves a
    # slot yet; ClusterDownError is a ClusterError), redis-py's "TTL exhausted" (redirections
    # used up while the slot map changes), TRYAGAIN (a multi-key command during a
    # resharding), and "no node known for this slot" until the client reloaded the map.
    ClusterError,
    TryAgainError,
    SlotNotCoveredError,
)


async def connect(
    url: str, *, ping: bool = True, timeout_s: float = 5.0, wait_s: float = 0.0
) -> aioredis.Redis:
    """A client for ``url`` (PING'd first); one clear error line when it is wrong or down.
    ``wait_s``: how long a server that does not answer yet (refused, timed out, loading its
    AOF) is waited for, retrying with the Redis backoff, before that error is raised; wrong
    credentials and a malformed URL are never waited for."""
    deadline = time.monotonic() + wait_s
    retry = REDIS_BACKOFF.attempts()
    while True:
        try:
            return await _connect_once(url, ping=ping, timeout_s=timeout_s)
        except _NotYet as exc:
            pause = retry.next_delay()
            if time.monotonic() + pause >= deadline:
                raise RedisUnavailable(str(exc)) from None
            if retry.attempt == 1:
                log.warning("%s; waiting up to %.0fs for it", exc, wait_s)
            await asyncio.sleep(pause)


class _NotYet(Exception):
    """The server did not answer (yet): worth waiting for at start."""


CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster_url(url: str) -> bool:
    """``redis+cluster://host:port,host:port`` (``rediss+cluster://`` for TLS)."""
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def is_cluster(redis: object) -> bool:
    return isinstance(redis, aioredis.RedisCluster)


def torn_connection(exc: AttributeError) -> RedisConnectionError:
    """The outage a Redis Cluster client reports as an AttributeError: when one command
    meets a failed node, redis-py's cluster client closes every node's connections to reload
    the slot map, including ones other tasks of the same client are using; those commands
    then fail inside the client (``'NoneType' object has no attribute 'writelines'``, its
    writer is gone). The callers that share one client across tasks (the producer, the
    per-slot reads) raise this instead, so the outage is retried like any other."""
    return RedisConnectionError(f"connection closed while the slot map reloaded ({exc})")


async def server_infos(redis: object, section: str) -> list[dict[str, Any]]:
    """INFO ``section`` of the one server, or of every primary of a Redis Cluster (whose INFO
    redis-py sends to every node and answers as {node: info})."""
    r: Any = redis
    if is_cluster(r):
        replies = await r.info(section, target_nodes=aioredis.RedisCluster.PRIMARIES)
        if isinstance(replies, dict) and all(isinstance(v, dict) for v in replies.values()):
            return [replies[name] for name in sorted(replies)]
        return [replies]
    return [await r.info(section)]


def cluster_client(url: str, *, timeout_s: float = 5.0) -> aioredis.RedisCluster:
    """A redis-py cluster client for ``redis+cluster://[user:password@]h1:p1,h2:p2,...``:
    every listed node is a seed (one that answers is enough); the client learns the slot map
    from it, follows MOVED/ASK, and reloads the map after a node fails."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    nodes = []
    for seed in hosts.split(","):
        host, _, port = seed.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"seed {seed!r} is not host:port")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    if parts.path.strip("/") not in ("", "0"):
        raise ValueError("a Redis Cluster has database 0 only")
    return aioredis.RedisCluster(
        startup_nodes=nodes,
        username=unquote(user) or None,
        password=unquote(password) or None,
        ssl=parts.scheme.lower().startswith("rediss"),
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
    )


async def _connect_once(url: str, *, ping: bool, timeout_s: float) -> aioredis.Redis:
    shown = redact(url)
    try:
        if is_cluster_url(url):
            # The services type their client as Redis; RedisCluster has the same command
            # methods (and keyslot/get_primaries), so code that must differ asks is_cluster().
            client = cast(aioredis.Redis, cluster_client(url, timeout_s=timeout_s))
        else:
            client = aioredis.Redis.from_url(
                url, socket_connect_timeout=timeout_s, health_check_interval=30
            )
    except ValueError as exc:
        raise ConfigError(
            f"ARB_REDIS_URL={shown}: {redact(str(exc))}; use redis://host:port/db, "
            "redis+cluster://host:port,host:port for a Redis Cluster, or unset it to use the "
            "embedded server"
        ) from None
    if ping:
        try:
            await client.ping()
        except AuthenticationError as exc:  # a ConnectionError in redis-py, but not an outage
            await client.aclose()
            raise RedisUnavailable(
                f"ARB_REDIS_URL={shown}: the server refused the credentials ({redact(str(exc))});"
                " put the right user and password in the URL (redis://user:password@host:port/0)"
            ) from None
        except REDIS_RETRYABLE as exc:
            await client.aclose()
            raise _NotYet(
                f"ARB_REDIS_URL={shown}: {_reason(exc)}; start Redis there or unset "
                "ARB_REDIS_URL to use the embedded server"
            ) from None
        except RedisError as exc:
            await client.aclose()
            raise RedisUnavailable(f"ARB_REDIS_URL={shown}: {redact(str(exc))}") from None
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "refused" in text.lower() or "connect call failed" in text.lower():
        return "connection refused"
    if "timeout" in text.lower() or isinstance(exc, RedisTimeoutError):
        return "timed out"
    return redact(text) or type(exc).__name__
