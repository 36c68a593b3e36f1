"""Redis connections from ARB_REDIS_URL, with errors that say what to do, and the one set of
errors every Redis loop retries.

``REDIS_RETRYABLE``: the server is away or not ready (connection refused/reset/closed, a
timeout, ``LOADING`` while a restarted server reads its AOF: redis-py's BusyLoadingError is a
ConnectionError). Anything else (a ResponseError such as NOGROUP or WRONGTYPE) is an answer,
not an outage, and each loop decides what it means.

Error texts carry the URL with its password masked (arb_runtime.redact).
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, RedisError
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


async def _connect_once(url: str, *, ping: bool, timeout_s: float) -> aioredis.Redis:
    shown = redact(url)
    try:
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, health_check_interval=30
        )
    except ValueError as exc:
        raise ConfigError(
            f"ARB_REDIS_URL={shown}: {redact(str(exc))}; use redis://host:port/db, or unset it "
            "to use the embedded server"
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
