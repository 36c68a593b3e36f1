"""``any_redis``: the same test on one server and on a Redis Cluster (3 + 3, tests/conftest.py
``redis_cluster``), each emptied first, through the client every service gets from
ARB_REDIS_URL (arb_runtime.redis.connect)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from arb_runtime.redis import connect, is_cluster


@pytest.fixture(params=["standalone", "cluster"])
async def any_redis(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster").url
    else:
        url = request.getfixturevalue("redis_url")
    client: Any = await connect(url, wait_s=10)
    assert is_cluster(client) == (request.param == "cluster")
    if is_cluster(client):
        await client.flushall(target_nodes="primaries")
    else:
        await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()
