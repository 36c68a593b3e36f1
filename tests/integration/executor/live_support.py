"""The executor in live mode against the simulator over loopback: shared builders.

``SimStack`` starts the simulator (in process, real HTTP servers) with every venue app
wrapped so each REST answer it sends is recorded server-side (time, method, path, status),
including the answers the fault middleware gives (429s), via ``on_response_prepare``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from arb_executor.app import main as app_main
from arb_executor.config import ExecutorSettings
from arb_runtime.service import serve
from arb_simulator import default_credentials
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import ExecutionResult, Opportunity
from arb_structs.codec import EXECUTION, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXECUTOR_GROUP,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
)
from arb_venues import get_venue
from arb_venues.simapi import SimMarket
from redis.exceptions import ConnectionError as RedisConnectionError

SYMBOL = "BTC-USDT"


@dataclass(frozen=True)
class Answer:
    t: float  # time.monotonic() when the answer was prepared
    method: str
    path: str
    status: int


class SimStack:
    def __init__(self, venues: list[str], **settings: Any) -> None:
        self.venues = venues
        self.answers: dict[str, list[Answer]] = {v: [] for v in venues}
        apps = {v: self._recording(v) for v in venues}
        self.sim = Simulator(
            SimulatorSettings(venues=venues, symbols=[SYMBOL], inject_interval_s=0, **settings),
            apps=apps,
        )

    def _recording(self, venue: str) -> Any:
        create = get_venue(venue).sim_app
        answers = self.answers[venue]

        def factory(market: SimMarket) -> web.Application:
            app = create(market)

            async def record(request: web.Request, response: web.StreamResponse) -> None:
                answers.append(Answer(time.monotonic(), request.method, request.path,
                                      response.status))  # fmt: skip

            app.on_response_prepare.append(record)
            return app

        return factory

    async def __aenter__(self) -> SimStack:
        await self.sim.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sim.stop()

    def orders(self, venue: str) -> int:
        """Orders the simulated venue created (accepted and matched), all accounts."""
        return self.sim.venue_markets[venue].orders_total

    def balances(self, venue: str) -> dict[str, tuple[Decimal, Decimal]]:
        return self.sim.venue_markets[venue].balances(default_credentials(venue).api_key)

    def arm(self, venue: str, kind: str, **params: Any) -> None:
        self.sim.faults[venue].arm(kind, **params)

    def credentials(self) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {}
        for venue in self.venues:
            plain = default_credentials(venue)
            out[venue] = {"api_key": plain.api_key, "secret": plain.secret,
                          "passphrase": plain.passphrase,
                          "rest_url": self.sim.urls[venue]["rest"]}  # fmt: skip
        return out

    def env(self, redis_url: str, instance: str) -> dict[str, str]:
        """The environment of a ``python -m arb_executor`` in live mode on this simulator."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
        env.update(
            ARB_REDIS_URL=redis_url, ARB_EXECUTOR_MODE="live", ARB_EXECUTOR_INSTANCE=instance,
            ARB_EXECUTOR_PAIR_COOLDOWN_MS="0", ARB_EXECUTOR_BALANCE_REFRESH_S="60",
            ARB_EXECUTOR_LOG_LEVEL="WARNING",
        )  # fmt: skip
        for venue, creds in self.credentials().items():
            for name, value in creds.items():
                if value is not None:
                    env[f"ARB_EXECUTOR_CREDENTIALS__{venue.upper()}__{name.upper()}"] = value
        return env

    def opportunity(self, opp_id: str, buy: str, sell: str, *, size: str = "0.001",
                    cushion_bps: int = 5) -> Opportunity:  # fmt: skip
        """Buy at ``buy``'s best ask, sell at ``sell``'s best bid, each limit ``cushion_bps``
        beyond the touch (on the venue's tick) so the IOCs fill although the market moves on:
        each venue's price noise alone moves the touch up to ``noise_bps`` (0.8) per update."""
        buy_market, sell_market = self.sim.venue_markets[buy], self.sim.venue_markets[sell]
        buy_tick = Decimal(buy_market.instruments[SYMBOL].tick_size)
        sell_tick = Decimal(sell_market.instruments[SYMBOL].tick_size)
        ask, bid = buy_market.book(SYMBOL).asks[0][0], sell_market.book(SYMBOL).bids[0][0]
        buy_price = ask + (ask * cushion_bps / 10_000 / buy_tick).to_integral_value() * buy_tick
        sell_price = bid - (bid * cushion_bps / 10_000 / sell_tick).to_integral_value() * sell_tick
        now = time.time_ns()
        return Opportunity(
            id=opp_id, symbol=SYMBOL, buy_venue=buy, sell_venue=sell, size=size,
            buy_price=str(buy_price), sell_price=str(sell_price), buy_vwap=float(buy_price),
            sell_vwap=float(sell_price), gross_profit=0.0, net_profit=0.0, edge_bps=0.0,
            buy_seq=1, sell_seq=1, expires_ns=now + 30 * 10**9, ts_event_buy=now,
            ts_event_sell=now, ts_recv=now, ts_book=now, ts_detect=now, quote="USDT",
        )  # fmt: skip


async def wait_for(check: Any, timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it is truthy; a Redis connection error (a restart) is "not yet"."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = await check()
        except RedisConnectionError:
            value = None
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} not met within {timeout_s}s")


async def results(redis: aioredis.Redis) -> list[ExecutionResult]:
    r: Any = redis
    return [EXECUTION.decode(f[PAYLOAD_FIELD]) for _, f in await r.xrange(EXECUTIONS_STREAM)]


async def result_of(redis: aioredis.Redis, opp_id: str, timeout_s: float = 10.0) -> ExecutionResult:
    async def find() -> ExecutionResult | None:
        return next((r for r in await results(redis) if r.opportunity_id == opp_id), None)

    found: ExecutionResult = await wait_for(find, timeout_s, f"result of {opp_id}")
    return found


async def send(redis: aioredis.Redis, opp: Opportunity) -> None:
    await redis.xadd(OPPORTUNITIES_STREAM, {PAYLOAD_FIELD: OPPORTUNITY.encode(opp)})


async def group_ready(redis: aioredis.Redis) -> bool:
    with contextlib.suppress(Exception):
        groups = await redis.xinfo_groups(OPPORTUNITIES_STREAM)
        return any(g["name"] in (EXECUTOR_GROUP, EXECUTOR_GROUP.encode()) for g in groups)
    return False


@contextlib.asynccontextmanager
async def live_executor(stack: SimStack, redis: aioredis.Redis, redis_url: str,
                        **overrides: Any) -> AsyncIterator[None]:  # fmt: skip
    """The real executor service (in this process) in live mode on the simulator."""
    settings = ExecutorSettings(
        redis_url=redis_url, instance="executor-live-test", mode="live",
        credentials=stack.credentials(), pair_cooldown_ms=0, balance_refresh_s=60.0,
        order_query_delay_ms=50.0, **overrides,
    )  # fmt: skip
    async with running_executor(redis, settings):
        yield


@contextlib.asynccontextmanager
async def running_executor(
    redis: aioredis.Redis, settings: ExecutorSettings
) -> AsyncIterator[None]:
    """The real executor service (in this process) with ``settings``, its group ready."""
    stopping = asyncio.Event()
    task = asyncio.create_task(serve("executor", settings, app_main, stopping))
    try:
        await wait_for(lambda: _ready(task, redis), 10.0, "executor consumer group")
        yield
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)


async def _ready(task: asyncio.Task[None], redis: aioredis.Redis) -> bool:
    if task.done():
        task.result()  # raise what stopped it
        raise AssertionError("executor stopped before it was ready")
    return await group_ready(redis)
