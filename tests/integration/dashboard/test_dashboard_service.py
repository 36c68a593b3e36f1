"""The dashboard's server over real sockets, against a real Redis and a real SQLite history:
the page and its assets (no other origin), live pushes over the WebSocket, the history APIs,
and a kill switch that only the token opens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from arb_dashboard.config import DashboardSettings
from arb_dashboard.live import LiveState
from arb_dashboard.web import History, build_app
from arb_history.database import open_database
from arb_history.migrations import migrate
from arb_history.writer import HistoryWriter
from arb_structs import BookState, BookView
from arb_structs.codec import BOOK, EXECUTION, KILL
from arb_structs.constants import EXECUTIONS_STREAM, KILL_KEY, book_latest_key
from pydantic import SecretStr

from tests.integration.recorder.support import publish
from tests.unit.recorder import factories

pytestmark = pytest.mark.integration

TOKEN = "open-sesame"


@dataclass
class Dashboard:
    url: str
    live: LiveState


async def history_db(path: Path) -> str:
    """A history with the factories' mixed results, written the way the recorder writes."""
    url = f"sqlite:///{path}"
    db = open_database(url)
    await migrate(db)
    writer = HistoryWriter(db)
    _, results, _ = factories.mixed_history(6)
    for n, result in enumerate(results):
        await writer.write(EXECUTIONS_STREAM, f"{n + 1}-0", EXECUTION.encode(result))
    await db.close()
    return url


@contextlib.asynccontextmanager
async def serve(redis_url: str, db_url: str, token: str | None) -> AsyncIterator[Dashboard]:
    import redis.asyncio as aioredis

    settings = DashboardSettings(redis_url=redis_url, port=0, db_url=db_url, refresh_s=0.2,
                                 kill_token=SecretStr(token) if token else None)  # fmt: skip
    client = aioredis.Redis.from_url(redis_url)
    live = LiveState(client, settings)
    await live.backfill()
    history = History(settings.database_url)
    runner = web.AppRunner(build_app(live, settings, history), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(live.tail(stopping)), asyncio.create_task(live.tick(stopping))]
    try:
        yield Dashboard(f"http://127.0.0.1:{runner.addresses[0][1]}", live)
    finally:
        stopping.set()
        await asyncio.gather(*tasks)
        for ws in list(live.clients):
            await ws.close()
        await runner.cleanup()
        await history.close()
        await client.aclose()


def live_view(venue: str, symbol: str, bid: float, ask: float) -> BookView:
    now = time.time_ns()
    return BookView(venue=venue, symbol=symbol, state=BookState.LIVE, seq=1, bids=[(bid, 1.0)],
                    asks=[(ask, 1.0)], ts_event=now, ts_recv=now, ts_book=now,
                    ts_update=now)  # fmt: skip


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 10) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads((await ws.receive()).data)
            if message["type"] == kind:
                return message


async def test_the_page_gets_history_then_live_books_and_executions_pushed(
    redis, redis_url: str, tmp_path: Path
) -> None:
    before = factories.filled(factories.opportunity(50))
    await publish(redis, EXECUTIONS_STREAM, [before])  # before the dashboard starts
    await redis.hset(book_latest_key("binance"), "BTC-USDT",
                     BOOK.encode(live_view("binance", "BTC-USDT", 100.0, 100.2)))  # fmt: skip
    await redis.hset(book_latest_key("okx"), "BTC-USDT",
                     BOOK.encode(live_view("okx", "BTC-USDT", 100.5, 100.7)))  # fmt: skip
    db_url = await history_db(tmp_path / "trades.sqlite")
    async with serve(redis_url, db_url, TOKEN) as dash, aiohttp.ClientSession() as http:
        async with http.get(dash.url + "/") as page:
            assert page.status == 200 and "cexarb" in await page.text()
            assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        async with http.get(dash.url + "/static/app.js") as script:
            assert script.status == 200 and "new WebSocket" in await script.text()
        async with http.ws_connect(dash.url + "/ws") as ws:
            hello = await next_of(ws, "hello")
            assert [e["opportunity_id"] for e in hello["executions"]] == [before.opportunity_id]
            assert hello["series"]["pnl"][-1][1] == pytest.approx(float(before.realised_pnl))
            assert hello["kill_button"] is True
            state = await next_of(ws, "state")
            venues = {v["venue"]: v for v in state["venues"]}
            assert venues["okx"]["books"][0]["state"] == "LIVE"
            (prices,) = state["prices"]
            assert prices["best_bid"]["venue"] == "okx" and prices["best_ask"]["venue"] == "binance"
            assert prices["spread_bps"] > 0  # okx bids above binance's ask
            result = factories.unhedged(factories.opportunity(51))
            await publish(redis, EXECUTIONS_STREAM, [result])
            pushed = await next_of(ws, "execution")
            assert pushed["item"]["opportunity_id"] == result.opportunity_id
            assert [leg["role"] for leg in pushed["item"]["legs"]] == ["buy", "sell"]
            state = await next_of(ws, "state")
            assert state["pnl"]["unhedged"] == 1
            assert float(state["exposure"]["total"]) == pytest.approx(0.5 * 99.5)

        async with http.get(dash.url + "/api/trades?status=filled,partial") as answer:
            trades = (await answer.json())["trades"]
            assert {t["status"] for t in trades} == {"filled", "partial"} and len(trades) >= 2
        async with http.get(dash.url + "/api/trades?format=csv") as answer:
            lines = (await answer.text()).splitlines()
            assert lines[0].startswith("time,result_id,symbol") and len(lines) == 1 + 6
        async with http.get(dash.url + "/api/pnl?by=pair") as answer:
            pnl = await answer.json()
            assert pnl["total"]["results"] == 6 and "by_day" not in pnl
        async with http.get(dash.url + "/api/trades?since=whenever") as answer:
            assert answer.status == 400 and "not a time" in (await answer.json())["error"]


async def test_the_kill_switch_opens_only_with_the_token(redis, redis_url: str, tmp_path) -> None:
    db_url = f"sqlite:///{tmp_path}/none.sqlite"  # no history yet: the API says so
    async with serve(redis_url, db_url, TOKEN) as dash, aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            async with http.post(dash.url + "/api/kill", json={}, headers=headers) as answer:
                assert answer.status == 401
        assert await redis.get(KILL_KEY) is None
        right = {"Authorization": f"Bearer {TOKEN}"}
        async with http.post(dash.url + "/api/kill", json={"reason": "test"},
                             headers=right) as answer:  # fmt: skip
            assert answer.status == 200
        kill = KILL.decode(await redis.get(KILL_KEY))
        assert kill.reason == "test" and kill.by.startswith("dashboard@127.0.0.1")
        async with http.post(dash.url + "/api/resume", headers=right) as answer:
            assert answer.status == 200
        assert await redis.get(KILL_KEY) is None
        async with http.get(dash.url + "/api/trades") as answer:
            assert answer.status == 503 and "no trade history yet" in (await answer.json())["error"]
    async with (
        serve(redis_url, db_url, None) as dash,
        aiohttp.ClientSession() as http,
        http.post(dash.url + "/api/kill", json={}, headers=right) as answer,
    ):
        assert answer.status == 403 and "ARB_DASHBOARD_KILL_TOKEN" in await answer.text()
    assert await redis.get(KILL_KEY) is None


def test_the_dashboard_binds_to_loopback_unless_told_otherwise(monkeypatch) -> None:
    for key in ("ARB_DASHBOARD_HOST", "ARB_DASHBOARD_KILL_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    settings = DashboardSettings()
    assert settings.host == "127.0.0.1" and settings.kill_token is None
    monkeypatch.setenv("ARB_DASHBOARD_KILL_TOKEN", "s3cret")
    assert "s3cret" not in repr(DashboardSettings())
