"""The ingest service (arb_ingest.app.main) against the simulator and a real Redis.

Run in-process with a hand-built ServiceContext so a test can give it a Redis client that
loses a cancellation the way redis-py can, and cancel it while it blocks in XREAD.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
from arb_ingest import app
from arb_ingest.config import IngestSettings
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError
from arb_runtime.metrics import HealthState
from arb_runtime.service import ServiceContext
from arb_runtime.streams import StreamProducer
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookDelta, BookSnapshot, ResyncRequest
from arb_structs.codec import CTL, MD
from arb_structs.constants import PAYLOAD_FIELD, RESYNC_ALL, ctl_stream, md_stream
from arb_venues.kraken.market import KrakenMarketV1

from tests.support_redis import losing_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=[request.param], symbols=["BTC-USDT", "ETH-USDT"],
                                 rate=50, inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as simulator:
        yield simulator


def ingest_settings(sim: Simulator, venue: str, redis_url: str, **extra: object) -> IngestSettings:
    urls = sim.urls[venue]
    return IngestSettings(venue=venue, symbols=["BTC-USDT", "ETH-USDT"], ws_url=urls["ws"],
                          rest_url=urls["rest"], redis_url=redis_url, instance="test",
                          **extra)  # type: ignore[arg-type]  # fmt: skip


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Running:
    def __init__(self, settings: IngestSettings, redis: aioredis.Redis) -> None:
        self.ctx = ServiceContext("ingest", settings, redis, StreamProducer(redis),
                                  asyncio.Event(), HealthState("ingest", "test"))  # fmt: skip
        self.task = asyncio.create_task(app.main(self.ctx))

    async def close(self) -> None:
        self.ctx.stopping.set()
        await asyncio.wait_for(asyncio.gather(self.task, return_exceptions=True), 5)
        await self.ctx.producer.close()


async def md_events(redis: aioredis.Redis, venue: str) -> list[BookSnapshot | BookDelta]:
    entries = await redis.xrange(md_stream(venue))
    events = [MD.decode(fields[PAYLOAD_FIELD]) for _, fields in entries]
    return [e for e in events if isinstance(e, BookSnapshot | BookDelta)]


@pytest.mark.parametrize("sim", ["okx"], indirect=True)
@pytest.mark.parametrize("mode", ["none", "return", "convert"])
async def test_ingest_stops_within_a_second_of_cancel_while_blocked_in_xread(
    sim: Simulator, redis: aioredis.Redis, redis_url: str, mode: str
) -> None:
    client = redis if mode == "none" else losing_client(redis_url, mode)
    running = Running(ingest_settings(sim, "okx", redis_url), client)
    try:
        await until(lambda: running.ctx.health.ready, "the feed to connect")
        await until(lambda: running.ctx.producer.pending == 0, "first writes")
        await asyncio.sleep(0.2)  # the resync follower is now blocked in XREAD (500 ms)
        started = time.perf_counter()
        running.task.cancel()
        done, _ = await asyncio.wait({running.task}, timeout=1.0)
        assert done, f"ingest still running 1 s after cancel (mode {mode})"
        assert time.perf_counter() - started < 1.0
        assert running.task.cancelled()
        if mode != "none":
            assert client.lost == 1  # type: ignore[attr-defined]  # the XREAD lost it
        assert len(await md_events(redis, "okx")) >= 2  # it did ingest before it stopped
    finally:
        await running.close()
        if client is not redis:
            await client.aclose()


async def snapshots_by_symbol(redis: aioredis.Redis, venue: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for event in await md_events(redis, venue):
        if isinstance(event, BookSnapshot):
            out[event.symbol] = out.get(event.symbol, 0) + 1
    return out


@pytest.mark.parametrize("sim", ["okx"], indirect=True)
async def test_resync_all_request_on_ctl_resnapshots_every_book(
    sim: Simulator, redis: aioredis.Redis, redis_url: str
) -> None:
    running = Running(ingest_settings(sim, "okx", redis_url), redis)
    try:
        await until(lambda: running.ctx.health.ready, "the feed to connect")
        before: dict[str, int] = {}

        async def settled() -> None:
            nonlocal before
            for _ in range(100):
                now = await snapshots_by_symbol(redis, "okx")
                if len(now) == 2 and now == before:
                    return
                before = now
                await asyncio.sleep(0.2)

        await settled()
        request = ResyncRequest(venue="okx", symbol=RESYNC_ALL, reason="test", ts=time.time_ns())
        await redis.xadd(ctl_stream("okx"), {PAYLOAD_FIELD: CTL.encode(request)})
        for _ in range(100):
            after = await snapshots_by_symbol(redis, "okx")
            if all(after.get(s, 0) > n for s, n in before.items()):
                break
            await asyncio.sleep(0.05)
        assert all(after[s] > n for s, n in before.items()), (before, after)
    finally:
        await running.close()


@pytest.mark.parametrize("sim", ["kraken"], indirect=True)
async def test_kraken_v1_chosen_by_env_ingests_checksummed_v1_books(
    sim: Simulator, redis: aioredis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = sim.urls["kraken"]
    for name, value in {
        "ARB_INGEST_VENUE": "kraken", "ARB_INGEST_PROTOCOL": "v1",
        "ARB_INGEST_SYMBOLS": "BTC-USDT,ETH-USDT", "ARB_INGEST_WS_URL": urls["ws"],
        "ARB_INGEST_REST_URL": urls["rest"], "ARB_REDIS_URL": redis_url,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    settings = load_settings(IngestSettings)
    protocol = app.build_protocol(settings)
    assert isinstance(protocol, KrakenMarketV1) and protocol.version == "v1"
    assert not protocol.ws_url([]).endswith("/v2")
    running = Running(settings, redis)
    try:
        await until(lambda: running.ctx.health.ready, "the v1 feed to connect")
        for _ in range(100):
            events = await md_events(redis, "kraken")
            if sum(isinstance(e, BookDelta) for e in events) >= 4:
                break
            await asyncio.sleep(0.05)
        deltas = [e for e in events if isinstance(e, BookDelta)]
        assert len(deltas) >= 4 and {e.symbol for e in events} == {"BTC-USDT", "ETH-USDT"}
        assert all(d.checksum is not None for d in deltas)  # v1 updates carry Kraken's CRC32
        assert int(running.ctx.health.detail.get("bad_frames", "0")) == 0
    finally:
        await running.close()


@pytest.mark.parametrize(
    ("venue", "protocol", "message"),
    [
        ("kraken", "v3", "ARB_INGEST_PROTOCOL='v3'.*choose one of v2, v1"),
        ("okx", "v1", "ARB_INGEST_PROTOCOL='v1'.*okx: no protocol version 'v1'; it speaks one"),
    ],
)
def test_bad_protocol_setting_is_one_clear_config_error(
    venue: str, protocol: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARB_INGEST_VENUE", venue)
    monkeypatch.setenv("ARB_INGEST_PROTOCOL", protocol)
    with pytest.raises(ConfigError, match=message):
        load_settings(IngestSettings)
