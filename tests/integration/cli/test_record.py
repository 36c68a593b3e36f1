"""arb record against the simulator over real sockets, then arb replay of what it wrote.

The simulator runs in this process (its own servers, real loopback sockets); the recorder is
the real MarketDataFeed with its wire tap. A recording is good when replaying it through a
fresh parser and the book engine gives the same book events the live parser saw, with no gap
and no checksum failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arb_cli.record import RecordError, build_protocol, record
from arb_cli.replay import load_frames, replay
from arb_runtime.errors import ConfigError
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_venues.capture import read_capture

pytestmark = pytest.mark.integration

SYMBOLS = ["BTC-USDT", "ETH-USDT"]


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    venue = request.param
    settings = SimulatorSettings(venues=[venue], symbols=SYMBOLS, rate=100, inject_interval_s=0)
    async with Simulator(settings) as simulator:
        yield simulator


@pytest.mark.parametrize(
    ("sim", "venue", "version"),
    [
        ("binance", "binance", None),
        ("okx", "okx", None),
        ("bybit", "bybit", None),
        ("coinbase", "coinbase", None),
        ("kraken", "kraken", None),
        ("kraken", "kraken", "v1"),
    ],
    indirect=["sim"],
)
async def test_recorded_session_replays_to_the_same_books_without_gaps(
    sim: Simulator, venue: str, version: str | None, tmp_path: Path
) -> None:
    urls = sim.urls[venue]
    protocol = build_protocol(venue, urls["ws"], urls["rest"], protocol_version=version)
    out = tmp_path / f"{venue}.jsonl"
    result = await record(protocol, SYMBOLS, out, duration_s=8.0, max_frames=30)

    assert result.frames == 30, "stopped by --max-frames, long before --duration"
    records = read_capture(out)
    assert records[0].kind == "connect" and records[0].url.startswith("ws://127.0.0.1:")
    assert sum(r.kind == "ws" for r in records) == result.frames
    assert sum(r.kind == "rest" for r in records) == result.snapshots
    assert len(records) == result.records
    if protocol.snapshot_source == "rest":
        assert result.snapshots == len(SYMBOLS)
    else:
        assert [r.kind for r in records].count("send") >= 1  # the subscribe

    replayed = replay(venue, load_frames([out]), version)
    assert replayed["books"] == len(SYMBOLS)
    assert replayed["book_events"] == result.book_events > len(SYMBOLS)
    assert replayed["gaps"] == 0 and replayed["checksum_failures"] == 0
    assert replayed["crossed"] == 0 and replayed["bad_frames"] == 0
    if venue == "kraken":
        assert replayed["checksums_verified"] > 0  # every Kraken update carries a CRC32


@pytest.mark.parametrize("sim", ["okx"], indirect=True)
async def test_arb_record_and_arb_replay_commands_round_trip(
    sim: Simulator, tmp_path: Path
) -> None:
    urls = sim.urls["okx"]
    out = tmp_path / "okx.jsonl"
    recorded = await _arb(
        "record", "--venue", "okx", "--symbols", "btc-usdt,ETH-USDT", "--ws-url", urls["ws"],
        "--rest-url", urls["rest"], "--max-frames", "25", "--duration", "20", "--out", str(out),
        "--json",
    )  # fmt: skip
    assert recorded["frames"] == 25 and recorded["snapshots"] == 2
    replayed = await _arb("replay", "--venue", "okx", str(out), "--json")
    assert replayed["books"] == 2 and replayed["gaps"] == 0
    assert replayed["book_events"] == recorded["book_events"]


@pytest.mark.parametrize("sim", ["binance"], indirect=True)
async def test_unknown_symbol_is_a_config_error_naming_what_the_venue_lists(
    sim: Simulator, tmp_path: Path
) -> None:
    urls = sim.urls["binance"]
    protocol = build_protocol("binance", urls["ws"], urls["rest"])
    with pytest.raises(ConfigError, match=r"--symbols: DOGE-EUR not listed by binance.*BTC-USDT"):
        await record(protocol, ["BTC-USDT", "DOGE-EUR"], tmp_path / "x.jsonl", duration_s=1)
    assert not (tmp_path / "x.jsonl").exists()


async def test_unreachable_rest_url_is_a_record_error(tmp_path: Path) -> None:
    protocol = build_protocol("okx", "ws://127.0.0.1:1/ws/v5/public", "http://127.0.0.1:1")
    with pytest.raises(
        RecordError, match=re.escape("cannot list instruments at http://127.0.0.1:1")
    ):
        await record(protocol, ["BTC-USDT"], tmp_path / "x.jsonl", duration_s=1)


def test_bad_protocol_version_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no protocol version 'v3'; choose one of v2, v1"):
        build_protocol("kraken", protocol_version="v3")
    with pytest.raises(ConfigError, match="okx: no protocol version 'v1'; it speaks one"):
        build_protocol("okx", protocol_version="v1")


async def test_cli_unknown_venue_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arb_cli", "record", "--venue", "nasdaq", "--symbols", "BTC-USDT",
        "--out", str(tmp_path / "x.jsonl"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    text = err.decode().strip()
    assert text.count("\n") == 0 and "unknown venue 'nasdaq'" in text and "binance" in text


async def _arb(*args: str) -> dict[str, object]:
    """Run `arb ...` as a real process while this loop keeps serving the simulator."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arb_cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    parsed: dict[str, object] = json.loads(out)
    return parsed
