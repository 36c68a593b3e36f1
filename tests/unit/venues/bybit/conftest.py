"""The Bybit sim app on a real socket on 127.0.0.1, over the test-only FakeMarket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from arb_venues.bybit.sim import create_app

from tests.unit.venues.bybit.simmarket import FakeMarket


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket()


@pytest.fixture
async def server(market: FakeMarket) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(market), host="127.0.0.1")  # type: ignore[arg-type]
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
