"""Simulator throughput: how many book updates the market makes, and how many WS frames the
venue protocol servers deliver to a real client.

    from arb_simulator import bench
    report = bench.run(5.0)   # {"generation": {...}, "delivery": {...}}

``generation``: the market stepped as fast as it can (no I/O), updates per second and CPU
microseconds per update. ``delivery``: the full simulator on loopback at ``rate`` updates/s
per venue, one client per venue connected the way ingest connects (the venue's own
MarketDataProtocol: its URL and subscribe messages), counting frames per second received.
Client and server share this process and its CPU, as on the 2-core box they share two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
from arb_venues import get_venue
from arb_venues.base import Endpoints

from arb_simulator.app import Simulator
from arb_simulator.catalog import DEFAULT_SYMBOLS, DEFAULT_VENUES
from arb_simulator.config import SimulatorSettings
from arb_simulator.market import Market, MarketConfig, VenueParams


def generation(seconds: float, rate: float = 2_000.0) -> dict[str, Any]:
    """Step a 5-venue market as fast as possible for ``seconds``."""
    market = Market(MarketConfig(venue=VenueParams(rate=rate)))
    sink: list[object] = []
    for venue in market.venues:
        market.subscribe(venue, sink.append)
    updates = 0
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    while time.perf_counter() - wall_start < seconds:
        for _ in range(10):
            updates += market.step()
        sink.clear()
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    return {
        "updates": updates,
        "updates_per_second": round(updates / wall),
        "cpu_us_per_update": round(cpu / updates * 1e6, 2) if updates else None,
        "venues": len(market.venues),
        "simulated_seconds": round(market.steps * market.dt_s, 2),
    }


async def _client(venue: str, urls: dict[str, str], sim: Simulator, counts: dict[str, int],
                  stop: asyncio.Event) -> None:  # fmt: skip
    spec = get_venue(venue)
    protocol = spec.market(
        Endpoints(
            ws_url=urls["ws"], rest_url=urls["rest"], ws_private_url=urls.get("ws_private", "")
        )
    )
    instruments = list(sim.venue_markets[venue].instruments.values())
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(protocol.ws_url(instruments), max_msg_size=0) as ws,
    ):
        for subscribe in protocol.subscribe_messages(instruments):
            await ws.send_str(subscribe)
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.receive(), 0.5)
            except TimeoutError:
                continue
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                counts[venue] += 1
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                  aiohttp.WSMsgType.ERROR):  # fmt: skip
                break


async def delivery(seconds: float, rate: float = 2_000.0) -> dict[str, Any]:
    """Run the simulator at ``rate`` per venue with one WS client per venue."""
    settings = SimulatorSettings(
        venues=list(DEFAULT_VENUES), symbols=list(DEFAULT_SYMBOLS), rate=rate,
        inject_interval_s=0, tick_hz=50,
    )  # fmt: skip
    async with Simulator(settings) as sim:
        counts = {venue: 0 for venue in sim.urls}
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_client(venue, urls, sim, counts, stop))
            for venue, urls in sim.urls.items()
        ]
        await asyncio.sleep(1.0)  # connect, subscribe, snapshots
        assert sim.market is not None
        start_counts, start_updates = dict(counts), dict(sim.market.updates_total)
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        frames = {v: counts[v] - start_counts[v] for v in counts}
        made = {v: sim.market.updates_total[v] - start_updates[v] for v in counts}
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 2.0)
        errors = [repr(t.exception()) for t in tasks if t.done() and t.exception() is not None]
    return {
        "rate_per_venue": rate,
        "seconds": round(wall, 2),
        "frames_per_second": {v: round(n / wall) for v, n in frames.items()},
        "updates_per_second": {v: round(n / wall) for v, n in made.items()},
        "total_frames_per_second": round(sum(frames.values()) / wall),
        "process_cpu_fraction": round(cpu / wall, 2),
        "skipped_venues": sim.skipped,
        "client_errors": errors,
    }


def run(seconds: float = 5.0, rate: float = 2_000.0) -> dict[str, Any]:
    """Both measurements; ``seconds`` each."""
    return {
        "generation": generation(seconds, rate),
        "delivery": asyncio.run(delivery(seconds, rate)),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0), indent=2))
