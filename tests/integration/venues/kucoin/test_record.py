"""arb record against the KuCoin simulator, then arb replay of what it wrote: the WS frames
(after the token call) and the REST level2 snapshots in one capture replay to the book events
the live parser produced, with 0 gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from arb_cli.record import build_protocol, record
from arb_cli.replay import load_frames, replay
from arb_simulator import venue_market
from arb_venues.kucoin.sim.app import TOKENS, create_app

from tests.unit.venues.kucoin.helpers import BTC_USDT

pytestmark = pytest.mark.integration


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    market = venue_market("kucoin", instruments=[BTC_USDT], rate=100.0)
    srv = TestServer(create_app(market), host="127.0.0.1")
    await srv.start_server()

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


async def test_a_recorded_session_replays_to_the_same_books(server: TestServer,
                                                            tmp_path: Path) -> None:  # fmt: skip
    base = str(server.make_url("")).rstrip("/")
    protocol = build_protocol("kucoin", base.replace("http", "ws", 1) + "/", base)
    out = tmp_path / "kucoin.jsonl"
    result = await record(protocol, ["BTC-USDT"], out, duration_s=10.0, max_frames=40)
    assert result.frames == 40 and result.bad_frames == 0
    text = out.read_text()
    assert '"http_response"' in text and "level2_100" in text  # the snapshot is in the capture
    tokens = server.app[TOKENS]
    assert tokens and not any(token in text for token in tokens)  # never the connection token
    replayed = replay("kucoin", load_frames([out]))
    assert replayed["book_events"] == result.book_events > 1
    assert replayed["bad_frames"] == 0 and replayed["gaps"] == 0 and replayed["crossed"] == 0
