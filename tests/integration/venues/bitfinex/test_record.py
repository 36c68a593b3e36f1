"""arb record on the Bitfinex simulator, then arb replay of that capture: the live parser's
conf, subscribes and frames written in the capture format replay with every checksum the
simulator sent verified, the connection's sequence unbroken, no gap and no bad frame."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arb_cli.record import build_protocol, record
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_venues.capture import read_capture

from tests.integration.replay.support import arb_replay

pytestmark = pytest.mark.integration

SYMBOLS = ["BTC-USDT", "ETH-USDT"]


@pytest.fixture
async def bitfinex() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=["bitfinex"], symbols=SYMBOLS, rate=100,
                                 inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as simulator:
        yield simulator


async def test_a_recorded_simulator_session_replays_with_its_checksums_verified(
    bitfinex: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = bitfinex.urls["bitfinex"]
    protocol = build_protocol("bitfinex", urls["ws"], urls["rest"])
    capture = tmp_path / "bitfinex.jsonl"
    await record(protocol, SYMBOLS, capture, duration_s=5.0, max_frames=80)
    sent = [f.raw for f in read_capture(capture) if f.kind == "send"]
    assert sent[0] == '{"event":"conf","flags":196608}'  # SEQ_ALL | OB_CHECKSUM first
    code, out, err = arb_replay(capsys, "--venue", "bitfinex", str(capture))
    assert code == 0, err
    assert out["books"] == len(SYMBOLS) and out["checksums_verified"] > 0
    assert out["checksum_failures"] == 0 and out["gaps"] == 0 and out["bad_frames"] == 0
    assert out["resyncs"] == 0
