"""Replay mode: a recorded Binance session served on Binance's own paths, frames unchanged."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_simulator.errors import ReplayError
from arb_simulator.replay import ReplayCapture
from arb_venues.capture import merge_captures

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


@pytest.fixture
def binance_files(fixtures_dir):
    folder = fixtures_dir / "binance"
    return [
        folder / "cryptofeed_BINANCE.ws.1.0.jsonl",
        folder / "cryptofeed_BINANCE.http.0.0.jsonl",
    ]


async def test_replay_serves_recorded_ws_frames_and_rest_bodies(binance_files) -> None:
    recorded = merge_captures(binance_files)
    ws_frames = [f for f in recorded if f.kind == "ws"]
    bodies = {f.url: f.raw for f in recorded if f.kind == "rest"}
    settings = SimulatorSettings(replay=binance_files, replay_venue="binance", replay_speed=0)
    async with Simulator(settings) as sim:
        base = sim.urls["binance"]
        async with aiohttp.ClientSession() as http:
            url = ws_frames[0].url.replace("wss://stream.binance.com:9443", base["ws"])
            async with http.ws_connect(url) as ws:
                await ws.send_str('{"method": "SUBSCRIBE", "params": [], "id": 1}')  # ignored
                received = [
                    (await asyncio.wait_for(ws.receive(), 10)).data for _ in range(len(ws_frames))
                ]
            assert received == [f.raw for f in ws_frames]
            for url, body in bodies.items():
                local = url.replace("https://api.binance.com", base["rest"])
                async with http.get(local) as response:
                    assert response.status == 200
                    assert await response.text() == body
            # A different depth limit still gets the snapshot of the same symbol.
            first_url = next(iter(bodies))
            other = first_url.replace("https://api.binance.com", base["rest"]).replace(
                "limit=1000", "limit=5000"
            )
            async with http.get(other) as response:
                assert await response.text() == bodies[first_url]
            async with http.get(f"{base['rest']}/api/v3/nothing") as missing:
                assert missing.status == 404


def test_replay_of_a_missing_file_names_it(tmp_path) -> None:
    with pytest.raises(ReplayError, match="not found"):
        ReplayCapture.from_files([tmp_path / "nope.jsonl"])
