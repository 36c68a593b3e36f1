"""arb replay on Kraken sessions recorded with `arb record` from the simulator (no real
multi-message Kraken recording exists): WS v1 needs no --protocol flag, a wrong one is refused
naming the right one, and an update without its checksum is counted and resyncs its book."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arb_cli.record import build_protocol, record
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_venues.capture import CaptureWriter, read_capture

from tests.integration.replay.support import arb_replay

pytestmark = pytest.mark.integration

SYMBOLS = ["BTC-USDT", "ETH-USDT"]


@pytest.fixture
async def kraken() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=["kraken"], symbols=SYMBOLS, rate=100, inject_interval_s=0)
    async with Simulator(settings) as simulator:
        yield simulator


async def _record(sim: Simulator, out: Path, version: str) -> Path:
    urls = sim.urls["kraken"]
    protocol = build_protocol("kraken", urls["ws"], urls["rest"], protocol_version=version)
    await record(protocol, SYMBOLS, out, duration_s=8.0, max_frames=40)
    return out


async def test_kraken_v1_recording_replays_without_a_flag_and_a_wrong_flag_is_named(
    kraken: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = await _record(kraken, tmp_path / "kraken-v1.jsonl", "v1")
    code, out, _ = arb_replay(capsys, "--venue", "kraken", str(capture))
    assert code == 0 and out["protocol"] == "v1" and out["books"] == len(SYMBOLS)
    assert out["checksums_verified"] > 0 and out["checksum_failures"] == 0
    assert out["gaps"] == 0 and out["bad_frames"] == 0

    code, out, err = arb_replay(capsys, "--venue", "kraken", "--protocol", "v2", str(capture))
    assert code == 1 and out["books"] == 0
    assert "pass --venue kraken --protocol v1" in err


async def test_kraken_update_without_checksum_is_counted_and_resyncs_its_book(
    kraken: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = await _record(kraken, tmp_path / "kraken.jsonl", "v2")
    frames = read_capture(capture)
    target = next(
        i for i, f in enumerate(frames)
        if '"channel":"book"' in f.raw and '"type":"update"' in f.raw
    )  # fmt: skip
    stripped = tmp_path / "no-checksum.jsonl"
    kinds = {"ws": "recv", "rest": "http_response", "connect": "connect", "send": "send"}
    with CaptureWriter(stripped) as writer:
        for i, frame in enumerate(frames):
            raw = frame.raw
            if i == target:
                message = json.loads(raw)
                del message["data"][0]["checksum"]
                raw = json.dumps(message)
            writer.write(kinds[frame.kind], frame.url, raw, ts_ns=int(frame.ts * 1e9))

    code, clean, _ = arb_replay(capsys, "--venue", "kraken", str(capture))
    assert code == 0 and clean["checksums_missing"] == 0 and clean["resyncs"] == 0
    code, out, _ = arb_replay(capsys, "--venue", "kraken", str(stripped))
    assert out["checksums_missing"] == 1 and out["resyncs"] == 1
    assert out["checksum_failures"] == 0 and out["bad_frames"] == 0
    assert out["checksums_verified"] < clean["checksums_verified"]  # that book stopped
