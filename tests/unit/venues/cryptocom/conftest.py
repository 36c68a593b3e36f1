"""The Crypto.com sim app on a real socket on 127.0.0.1, over the simulator's market."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_venues.cryptocom.sim.app import create_app

from tests.unit.venues.cryptocom.instruments import cryptocom_market


@pytest.fixture
def market() -> VenueMarket:
    return cryptocom_market()


@pytest.fixture
async def server(market: VenueMarket) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
