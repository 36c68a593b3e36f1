"""The state-of-record tests' builders: a Redis that can be killed -9 and come back empty on
the same port, the simulator's ledger as the independent truth, executor processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from arb_runtime.embedded import EmbeddedRedis
from arb_simulator import default_credentials
from arb_structs import ExposureEvent
from arb_structs.codec import EXPOSURE
from arb_structs.constants import EXPOSURE_OPEN_KEY, EXPOSURE_STREAM, PAYLOAD_FIELD
from arb_structs.trading import Side
from arb_venues.common.clientids import is_engine_client_order_id
from arb_venues.simapi import SimOrder

from tests.integration.executor.live_support import SimStack
from tests.support_proc import reap

D = Decimal


class DisposableRedis:
    """A private redis-server that a test kills with SIGKILL and restarts empty on its port."""

    def __init__(self) -> None:
        self.server = EmbeddedRedis().start()
        self.port = self.server.port
        self.url = self.server.url

    def kill9(self) -> None:
        pid = self.server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        self.server.stop()  # reaps the dead process, removes its (empty) directory

    def start_empty(self) -> None:
        self.server = EmbeddedRedis(port=self.port).start()

    def close(self) -> None:
        self.server.stop()


@contextlib.asynccontextmanager
async def disposable_redis() -> AsyncIterator[tuple[DisposableRedis, aioredis.Redis]]:
    server = DisposableRedis()
    client = aioredis.Redis.from_url(server.url)
    try:
        yield server, client
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()
        server.close()


def engine_orders(stack: SimStack, venue: str) -> list[SimOrder]:
    """The engine's orders in the simulator's own ledger (default account)."""
    market = stack.sim.venue_markets[venue]
    return [o for o in market.orders(default_credentials(venue).api_key)
            if is_engine_client_order_id(o.client_order_id)]  # fmt: skip


def net_base(stack: SimStack, venues: Iterable[str]) -> Decimal:
    """Base the engine's orders left open across the venues (+ long): 0 = nothing naked."""
    return sum(
        (o.filled if o.side is Side.BUY else -o.filled
         for v in venues for o in engine_orders(stack, v)),
        D(0),
    )  # fmt: skip


def ledger_cash(orders: Iterable[SimOrder]) -> Decimal:
    """Quote the orders moved at the venues, fees included (a base fee at its fill price)."""
    cash = D(0)
    for o in orders:
        cash += o.quote_filled if o.side is Side.SELL else -o.quote_filled
        if o.fee:
            quote_fee = o.fee if o.fee_asset == "USDT" else o.fee * o.avg_price
            cash -= quote_fee
    return cash


def ledger_fee(order: SimOrder) -> Decimal:
    return order.fee if order.fee_asset == "USDT" else order.fee * order.avg_price


async def exposure_events(redis: aioredis.Redis) -> list[ExposureEvent]:
    r: Any = redis
    return [EXPOSURE.decode(f[PAYLOAD_FIELD]) for _, f in await r.xrange(EXPOSURE_STREAM)]


async def open_exposure(redis: aioredis.Redis) -> list[ExposureEvent]:
    r: Any = redis
    return [EXPOSURE.decode(v) for v in (await r.hgetall(EXPOSURE_OPEN_KEY)).values()]


def spawn_executor(env: dict[str, str], **settings: str) -> subprocess.Popen[bytes]:
    """``python -m arb_executor`` with ``env`` plus ``ARB_EXECUTOR_<NAME>`` settings."""
    full = dict(env)
    full.update({f"ARB_EXECUTOR_{k.upper()}": v for k, v in settings.items()})
    return subprocess.Popen([sys.executable, "-m", "arb_executor"], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


async def stop_executor(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> str:
    """SIGTERM, wait, then reap; what it wrote to stderr (for failure messages)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(proc.wait, timeout_s)
    err = b""
    if proc.stderr is not None and proc.poll() is not None:
        err = await asyncio.to_thread(proc.stderr.read)
    reap(proc)
    return err.decode(errors="replace")[-3000:]
