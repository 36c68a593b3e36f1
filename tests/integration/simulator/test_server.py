"""The simulator on real sockets: control API, HTTP faults, book updates, truth to Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_simulator.truth import read_truth
from arb_structs.codec import TRUTH
from arb_structs.constants import PAYLOAD_FIELD, SIM_TRUTH_STREAM
from arb_venues.simapi import ERROR_RESPONSE, SimBookUpdate, SimMarket

pytestmark = pytest.mark.integration


def tiny_venue_app(market: SimMarket) -> web.Application:
    """A stand-in protocol app: REST top of book, WS stream of update seqs."""

    async def top(request: web.Request) -> web.Response:
        book = market.book(request.query.get("symbol", "BTC-USDT"))
        return web.json_response({"seq": book.seq, "bid": str(book.bids[0][0])})

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        queue: asyncio.Queue[SimBookUpdate] = asyncio.Queue()

        async def pump() -> None:
            while True:
                update = await queue.get()
                await ws.send_str(json.dumps({"symbol": update.symbol, "seq": update.seq}))

        unsubscribe = market.subscribe(queue.put_nowait)
        sender = asyncio.create_task(pump())
        try:
            async for _ in ws:  # until the client closes
                pass
        finally:
            unsubscribe()
            sender.cancel()
        return ws

    app = web.Application()
    app.router.add_get("/top", top)
    app.router.add_get("/ws", stream)
    return app


def shaped_venue_app(market: SimMarket) -> web.Application:
    app = tiny_venue_app(market)

    def error_response(kind: str, retry_after_s: float) -> web.Response:
        return web.json_response({"code": -1003, "msg": f"{kind} shaped"}, status=429,
                                 headers={"Retry-After": str(int(retry_after_s))})  # fmt: skip

    app[ERROR_RESPONSE] = error_response
    return app


def settings(**overrides) -> SimulatorSettings:
    base = {
        "venues": ["binance", "okx"],
        "symbols": ["BTC-USDT", "ETH-USDT"],
        "inject_interval_s": 0,
        "rate": 200,
    }
    return SimulatorSettings(**{**base, **overrides})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_control_arms_a_429_and_the_next_request_gets_it_with_retry_after(http) -> None:
    async with Simulator(settings(), apps={"binance": tiny_venue_app}) as sim:
        assert sim.skipped == ["okx"] or "okx" in sim.urls  # okx served only if it has a sim app
        rest = sim.urls["binance"]["rest"]
        async with http.post(
            f"{sim.control_url}/control/faults",
            json={"venue": "binance", "kind": "http_429", "count": 2, "retry_after_s": 3},
        ) as armed:
            assert armed.status == 200
            assert (await armed.json())["armed"]["remaining"] == 2
        for _ in range(2):
            async with http.get(f"{rest}/top") as limited:
                assert limited.status == 429
                assert limited.headers["Retry-After"] == "3"
        async with http.get(f"{rest}/top") as ok:
            assert ok.status == 200
            assert (await ok.json())["bid"]


async def test_venue_app_shapes_the_injected_error_when_it_can(http) -> None:
    async with Simulator(settings(venues=["binance"]), apps={"binance": shaped_venue_app}) as sim:
        sim.faults["binance"].arm("http_418", retry_after_s=7)
        async with http.get(f"{sim.urls['binance']['rest']}/top") as shaped:
            assert shaped.status == 429  # the venue's own answer, not the generic 418
            assert await shaped.json() == {"code": -1003, "msg": "http_418 shaped"}
            assert shaped.headers["Retry-After"] == "7"


async def test_5xx_and_slow_faults_answer_then_the_venue_recovers(http) -> None:
    async with Simulator(settings(venues=["binance"]), apps={"binance": tiny_venue_app}) as sim:
        rest = sim.urls["binance"]["rest"]
        armed = {"venue": "binance", "kind": "http_5xx", "status": 502}
        async with http.post(f"{sim.control_url}/control/faults", json=armed) as response:
            assert response.status == 200
        async with http.get(f"{rest}/top") as failed:
            assert failed.status == 502
        sim.faults["binance"].arm("slow", delay_s=0.05)
        async with http.get(f"{rest}/top") as slow:
            assert slow.status == 200
        assert sim.faults["binance"].fired_total == {"http_5xx": 1, "slow": 1}


async def test_bad_control_requests_are_refused_with_a_reason(http) -> None:
    async with Simulator(settings(venues=["binance"]), apps={"binance": tiny_venue_app}) as sim:
        control = sim.control_url
        cases = [
            ("/control/faults", {"venue": "binance", "kind": "meteor"}, "meteor"),
            ("/control/faults", {"venue": "ftx", "kind": "http_429"}, "ftx"),
            ("/control/inject", {"venue": "binance"}, "symbol"),
            ("/control/inject", {"venue": "binance", "symbol": "BTC-USDT", "bps": -3}, "bps"),
        ]
        for path, body, mentioned in cases:
            async with http.post(f"{control}{path}", json=body) as refused:
                assert refused.status == 400, body
                assert mentioned in (await refused.json())["error"]
        assert sim.faults["binance"].armed() == [] and sim.truth_events() == []


async def test_book_updates_reach_a_websocket_client_in_seq_order(http) -> None:
    async with Simulator(settings(venues=["okx"]), apps={"okx": tiny_venue_app}) as sim:
        last: dict[str, int] = {}
        async with http.ws_connect(f"{sim.urls['okx']['ws']}/ws") as ws:
            for _ in range(60):
                message = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
                symbol, seq = message["symbol"], message["seq"]
                assert seq == last.get(symbol, seq - 1) + 1
                last[symbol] = seq
        assert set(last) == {"BTC-USDT", "ETH-USDT"}


async def test_injected_truth_goes_to_redis_and_jsonl_and_the_control_api(
    http, redis, redis_url, tmp_path: Path
) -> None:
    truth_path = tmp_path / "truth.jsonl"
    config = settings(redis_url=redis_url, truth_path=truth_path)
    async with Simulator(config, apps={"binance": tiny_venue_app}) as sim:
        async with http.post(
            f"{sim.control_url}/control/inject",
            json={"venue": "okx", "symbol": "ETH-USDT", "direction": "up", "bps": 33,
                  "size": 2, "duration_s": 0.5},
        ) as injected:  # fmt: skip
            assert injected.status == 200
            event = await injected.json()
        assert sim.truth_log is not None
        await asyncio.wait_for(sim.truth_log.flush(), 5)
        async with http.get(f"{sim.control_url}/control/truth") as listed:
            assert await listed.json() == [event]
    entries = await redis.xrange(SIM_TRUTH_STREAM)
    assert len(entries) == 1
    written = TRUTH.decode(entries[0][1][PAYLOAD_FIELD])
    assert (written.id, written.venue, written.symbol, written.direction, written.bps) == (
        event["id"], "okx", "ETH-USDT", "up", 33.0,
    )  # fmt: skip
    assert read_truth(truth_path) == [written]


async def test_scheduled_injections_write_truth_while_running(redis, redis_url) -> None:
    config = settings(redis_url=redis_url, inject_interval_s=0.05, tick_hz=100,
                      inject_duration_min_s=0.05, inject_duration_max_s=0.1)  # fmt: skip
    async with Simulator(config) as sim:
        for _ in range(500):
            if len(sim.truth_events()) >= 3:
                break
            await asyncio.sleep(0.02)
        assert sim.truth_log is not None
        await asyncio.wait_for(sim.truth_log.flush(), 5)
        events = sim.truth_events()
    assert len(events) >= 3
    stored = [
        TRUTH.decode(fields[PAYLOAD_FIELD]) for _, fields in await redis.xrange(SIM_TRUTH_STREAM)
    ]
    assert stored == events
    assert all(25 <= e.bps <= 60 and e.end_ns > e.start_ns for e in events)
