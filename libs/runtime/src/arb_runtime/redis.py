"""Redis connections from ARB_REDIS_URL, with errors that say what to do."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from arb_runtime.errors import ConfigError, RedisUnavailable


async def connect(url: str, *, ping: bool = True, timeout_s: float = 5.0) -> aioredis.Redis:
    """A client for ``url`` (PING'd first); one clear error line when it is wrong or down."""
    try:
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, health_check_interval=30
        )
    except ValueError as exc:
        raise ConfigError(
            f"ARB_REDIS_URL={url}: {exc}; use redis://host:port/db, or unset it to use the "
            "embedded server"
        ) from None
    if ping:
        try:
            await client.ping()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            await client.aclose()
            raise RedisUnavailable(
                f"ARB_REDIS_URL={url}: {_reason(exc)}; start Redis there or unset ARB_REDIS_URL "
                "to use the embedded server"
            ) from None
        except RedisError as exc:
            await client.aclose()
            raise RedisUnavailable(f"ARB_REDIS_URL={url}: {exc}") from None
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "refused" in text.lower() or "connect call failed" in text.lower():
        return "connection refused"
    if "timeout" in text.lower() or isinstance(exc, RedisTimeoutError):
        return "timed out"
    return text or type(exc).__name__
