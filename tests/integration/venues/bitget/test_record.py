"""arb record against the Bitget simulator, then arb replay of what it wrote: the recording
replays to the book events the live parser produced, every update's checksum verified."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from arb_cli.record import build_protocol, record
from arb_cli.replay import load_frames, replay
from arb_simulator import venue_market
from arb_venues.bitget.sim.app import create_app

from tests.unit.venues.bitget.helpers import BTC_USDT

pytestmark = pytest.mark.integration


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    market = venue_market("bitget", instruments=[BTC_USDT], rate=100.0)
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


async def test_a_recorded_session_replays_with_every_checksum_verified(
    server: TestServer, tmp_path: Path
) -> None:
    protocol = build_protocol("bitget", str(server.make_url("/v2/ws/public")),
                              str(server.make_url("")))  # fmt: skip
    out = tmp_path / "bitget.jsonl"
    result = await record(protocol, ["BTC-USDT"], out, duration_s=10.0, max_frames=40)
    assert result.frames == 40 and result.bad_frames == 0
    replayed = replay("bitget", load_frames([out]))
    assert replayed["book_events"] == result.book_events > 1
    assert replayed["checksums_verified"] >= result.book_events - 1
    assert replayed["checksum_failures"] == 0 and replayed["checksums_missing"] == 0
    assert replayed["bad_frames"] == 0 and replayed["gaps"] == 0 and replayed["crossed"] == 0
