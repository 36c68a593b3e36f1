"""Simulator throughput: how many book updates the market makes, and how many WS messages the
venue protocol servers deliver to real clients.

    from arb_bench import simulator
    report = simulator.run(seconds=5.0, rate=2000.0)
    report["delivered_per_second"]          # {"binance": 2310, "okx": 2480, ...}
    report["sim_cpu_seconds_per_message"]   # simulator process CPU / messages delivered
    report["meets_2000_per_venue"]          # every venue delivered >= 2,000 msgs/s

``generation``: the market stepped as fast as it can (no I/O), updates per second and CPU
microseconds per update.

``delivery``: the simulator runs as its own process (``python -m arb_simulator --json``, as in
the demo and compose), all five venues; this process opens one client per venue the way ingest
does (the venue's own MarketDataProtocol: its URL and subscribe messages) and counts the WS
messages it receives. The simulator's CPU comes from its control API (``cpu_seconds``).

A venue's protocol decides how many messages its updates become, so the run is sized for the
slowest one: Binance's ``@depth@100ms`` stream sends at most one message per symbol per 100 ms,
so ``rate`` msgs/s need at least rate / 10 symbols (the run uses 20 % more); Kraken and Bybit
send only changes inside the subscribed depth, so the books are ``BOOK_DEPTH`` levels deep and
every update lands inside it. The market is offered ``OFFERED_FACTOR`` x ``rate`` updates/s per
venue; the report shows offered and delivered apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp
from arb_simulator.catalog import DEFAULT_SYMBOLS, DEFAULT_VENUES, make_instrument
from arb_simulator.market import Market, MarketConfig, VenueParams
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.common.rest import RestClient

TARGET_PER_VENUE = 2_000.0
OFFERED_FACTOR = 1.25  # market updates offered per venue, relative to the delivery target
SYMBOL_FACTOR = 1.2  # symbols relative to the Binance minimum (rate / 10)
BINANCE_MESSAGES_PER_SYMBOL = 10.0  # @depth@100ms
BOOK_DEPTH = 10  # levels per side: inside Kraken's smallest depth (10) and Bybit's (50)
WARMUP_S = 2.0  # connect, subscribe, snapshots before counting
START_TIMEOUT_S = 60.0


def generation(seconds: float, rate: float = TARGET_PER_VENUE) -> dict[str, Any]:
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


def bench_symbols(rate: float) -> list[str]:
    """Enough symbols for Binance's 100 ms stream to carry ``rate`` msgs/s: BTC, ETH, SOL and
    generic ones (S004-USDT, ...)."""
    count = max(len(DEFAULT_SYMBOLS), math.ceil(rate / BINANCE_MESSAGES_PER_SYMBOL * SYMBOL_FACTOR))
    extra = [f"S{i:03d}-USDT" for i in range(len(DEFAULT_SYMBOLS) + 1, count + 1)]
    return [*DEFAULT_SYMBOLS, *extra]


async def _client(venue: str, urls: dict[str, str], symbols: list[str], counts: dict[str, int],
                  stop: asyncio.Event) -> None:  # fmt: skip
    spec = get_venue(venue)
    protocol = spec.market(
        Endpoints(
            ws_url=urls["ws"], rest_url=urls["rest"], ws_private_url=urls.get("ws_private", "")
        )
    )
    instruments = [make_instrument(venue, symbol) for symbol in symbols]
    rest = RestClient(venue, urls["rest"])
    try:  # as the feed connects: the venue may hand out its WS URL per connection (KuCoin)
        url = await protocol.connect_url(rest, instruments)
    finally:
        await rest.close()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, max_msg_size=0) as ws,
    ):
        if protocol.connect_delay_s:
            await asyncio.sleep(protocol.connect_delay_s)
        for first in protocol.connect_messages(instruments):
            await ws.send_str(first)
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


def start_simulator(
    symbols: list[str],
    offered: float,
    venues: tuple[str, ...] = DEFAULT_VENUES,
    extra: tuple[str, ...] = ("--inject-interval", "0"),
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], Any]:
    """``python -m arb_simulator --json`` with the bench's market; its printed URLs."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    clean |= {"ARB_SIMULATOR_DEPTH": str(BOOK_DEPTH), "ARB_SIMULATOR_LOG_LEVEL": "WARNING"}
    clean |= env or {}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_simulator", "--venues", ",".join(venues),
         "--symbols", ",".join(symbols), "--rate", str(offered), *extra, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        detail = proc.stderr.read().decode(errors="replace")[-800:] if proc.stderr else ""
        raise RuntimeError(f"bench: the simulator exited ({proc.returncode}): {detail}")
    return proc, json.loads(line)


def stop_simulator(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


async def _status(session: aiohttp.ClientSession, control: str) -> dict[str, Any]:
    async with session.get(f"{control}/control/status") as response:
        status: dict[str, Any] = await response.json()
        return status


def _per_connection(venue: str, symbols: list[str]) -> list[list[str]]:
    """``symbols`` split over as many connections as the venue's subscription limit asks."""
    most = get_venue(venue).market.max_books_per_connection or len(symbols)
    return [symbols[i : i + most] for i in range(0, len(symbols), most)]


async def delivery(seconds: float, rate: float = TARGET_PER_VENUE) -> dict[str, Any]:
    """The simulator in its own process, offered ``OFFERED_FACTOR`` x ``rate`` updates/s per
    venue; one WS client per venue here (more where the venue limits the books of one
    connection); what the clients receive, and the simulator's CPU."""
    symbols = bench_symbols(rate)
    offered = rate * OFFERED_FACTOR
    proc, where = await asyncio.to_thread(start_simulator, symbols, offered)
    try:
        venues: dict[str, dict[str, str]] = where["venues"]
        counts = {venue: 0 for venue in venues}
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_client(venue, urls, part, counts, stop))
            for venue, urls in venues.items()
            for part in _per_connection(venue, symbols)
        ]
        async with aiohttp.ClientSession() as session:
            await asyncio.sleep(WARMUP_S)
            before = await _status(session, where["control"])
            start_counts = dict(counts)
            own_cpu, wall_start = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            wall = time.perf_counter() - wall_start
            own_cpu = time.process_time() - own_cpu
            after = await _status(session, where["control"])
            delivered = {v: counts[v] - start_counts[v] for v in counts}
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 2.0)
        errors = [repr(t.exception()) for t in tasks if t.done() and t.exception() is not None]
    finally:
        await asyncio.to_thread(stop_simulator, proc)
    made = {v: after["updates_total"].get(v, 0) - before["updates_total"].get(v, 0) for v in venues}
    sim_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    total = sum(delivered.values())
    return {
        "rate_per_venue": rate,
        "offered_updates_per_second": offered,
        "symbols": len(symbols),
        "book_depth": BOOK_DEPTH,
        "seconds": round(wall, 2),
        "delivered_per_second": {v: round(n / wall) for v, n in delivered.items()},
        "updates_per_second": {v: round(n / wall) for v, n in made.items()},
        "total_delivered_per_second": round(total / wall),
        "sim_cpu_fraction": round(sim_cpu / wall, 3),
        "sim_cpu_seconds_per_message": sim_cpu / total if total else None,
        "client_cpu_fraction": round(own_cpu / wall, 3),
        "skipped_venues": where.get("skipped", []),
        "client_errors": errors,
    }


def run(seconds: float = 5.0, rate: float = TARGET_PER_VENUE) -> dict[str, Any]:
    """Both measurements (``seconds`` each) and the verdict: does every venue deliver at least
    2,000 msgs/s to its client?"""
    delivered = asyncio.run(delivery(seconds, rate))
    per_venue: dict[str, int] = delivered["delivered_per_second"]
    cpu_per_message = delivered["sim_cpu_seconds_per_message"]
    return {
        "generation": generation(seconds, rate),
        "delivery": delivered,
        "delivered_per_second": per_venue,
        "sim_cpu_seconds_per_message": cpu_per_message,
        "sim_cpu_us_per_message": round(cpu_per_message * 1e6, 2) if cpu_per_message else None,
        "meets_2000_per_venue": len(per_venue) == len(DEFAULT_VENUES)
        and min(per_venue.values()) >= TARGET_PER_VENUE
        and not delivered["client_errors"],
    }


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0), indent=2))
