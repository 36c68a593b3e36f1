"""The simulator's connection bookkeeping holds no closed connection: a soak opens thousands
(rotations, standbys, rolling restarts) and the simulator must not grow with them."""

from __future__ import annotations

import asyncio
import gc
import weakref

import aiohttp
import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings

pytestmark = pytest.mark.integration


async def test_closed_connections_are_described_but_not_held() -> None:
    settings = SimulatorSettings(venues=["kraken"], symbols=["BTC-USDT"], inject_interval_s=0)
    async with Simulator(settings) as sim, aiohttp.ClientSession() as session:
        connections = sim.connections["kraken"]
        held: list[weakref.ref[object]] = []
        for _ in range(5):
            ws = await session.ws_connect(sim.urls["kraken"]["ws"] + "/v2")
            (conn,) = [c for c in connections.open.values() if not c.ws.closed]
            held.append(weakref.ref(conn.ws))
            await ws.close()
            for _ in range(100):  # the server's side of the close
                if conn.ws.closed:
                    break
                await asyncio.sleep(0.01)
            del conn
        await asyncio.sleep(0.2)  # the venue's handler of the last one returns
        connections.sweep()
        gc.collect()
        described = connections.describe()
        assert len(described["closed"]) == 5 and described["open"] == []
        assert all(row["age_s"] >= 0 for row in described["closed"])
        alive = [ref for ref in held if ref() is not None]
        assert alive == [], f"{len(alive)} closed WebSocketResponses still referenced"
