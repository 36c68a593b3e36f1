"""arb record against the Crypto.com simulator (heartbeats answered on the way), then arb
replay of what it wrote: the same book events, no gap, no bad frame."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from arb_cli.record import build_protocol, record
from arb_cli.replay import load_frames, replay
from arb_simulator import venue_market
from arb_venues.cryptocom.sim.app import STREAM, create_app

from tests.unit.venues.cryptocom.instruments import BTC

pytestmark = pytest.mark.integration


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    market = venue_market("cryptocom", instruments=[BTC], rate=100.0)
    srv = TestServer(create_app(market), host="127.0.0.1")
    await srv.start_server()
    srv.app[STREAM].heartbeat_interval_s = 0.2

    async def move() -> None:
        while True:
            market.market.step()
            await asyncio.sleep(0.01)

    mover = asyncio.create_task(move())
    try:
        yield srv
    finally:
        mover.cancel()
        await asyncio.gather(mover, return_exceptions=True)
        await srv.close()


async def test_a_recorded_session_replays_to_the_same_books(
    server: TestServer, tmp_path: Path
) -> None:
    url = str(server.make_url("/exchange/v1/market"))
    protocol = build_protocol("cryptocom", url, str(server.make_url("")))
    out = tmp_path / "cryptocom.jsonl"
    result = await record(protocol, ["BTC-USDT"], out, duration_s=15.0, max_frames=60)
    assert result.frames == 60 and result.bad_frames == 0
    text = out.read_text()
    assert "public/respond-heartbeat" in text  # the answers were sent and recorded
    replayed = replay("cryptocom", load_frames([out]))
    assert replayed["book_events"] == result.book_events > 1
    assert replayed["bad_frames"] == 0 and replayed["gaps"] == 0 and replayed["crossed"] == 0
