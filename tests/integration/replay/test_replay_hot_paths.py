"""Kraken's hot parse paths against their reference on sessions recorded from the simulator.

The v1 and v2 parsers read a book frame whole (v1: in C where the compiled book is built,
else in msgspec; v2 in msgspec: text, then checked floats); the
reference is the way they read it before, and still read any frame the hot read refuses:
v1 part by part with a number reader per level, v2 level by level from the wire text. Two
parsers of each version, one per way, are fed the same frames: they must give equal events
(levels, text, checksum, sequence, timestamps) on every frame, and the books built from the
hot events must verify every checksum.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from arb_cli.record import build_protocol, record
from arb_orderbook import BookSet
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_venues import checksums, market_protocol
from arb_venues.base import Endpoints
from arb_venues.capture import read_capture
from arb_venues.common.levels import MAX_PRICE, MAX_SIZE
from arb_venues.common.symbols import SymbolMap
from arb_venues.kraken import schemas
from arb_venues.kraken.parser_v1 import _DIGIT_SLOTS, _ROW_SLOTS, STAMP_LIMIT

pytestmark = pytest.mark.integration

SYMBOLS = ["BTC-USDT", "ETH-USDT"]
_OFFLINE = Endpoints(ws_url="ws://replay.invalid", rest_url="http://replay.invalid")


_READ = (_ROW_SLOTS, _DIGIT_SLOTS, MAX_PRICE, MAX_SIZE, STAMP_LIMIT)  # the parser's bounds


@pytest.fixture
async def kraken() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=["kraken"], symbols=SYMBOLS, rate=200, inject_interval_s=0)
    async with Simulator(settings) as simulator:
        yield simulator


def _parser(version: str) -> Any:
    return market_protocol("kraken", _OFFLINE, protocol_version=version).make_parser(SymbolMap())


def _reference_v1(parser: Any, raw: str, ts: int) -> list[Any]:
    events: list[Any] = parser._parse_other(raw, ts)
    return events


def _reference_v2(parser: Any, raw: str, ts: int) -> list[Any]:
    envelope = schemas.V2_ENVELOPE.decode(raw)
    if envelope.channel != "book":
        events: list[Any] = parser.parse_ws(raw, ts)  # not a book push: no hot path either
        return events
    books = schemas.V2_BOOKS.decode(envelope.data)
    events = parser._entries(envelope.type, books, None, ts)  # None: level by level
    return events


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_kraken_hot_parse_gives_the_reference_events_on_a_recorded_session(
    kraken: Simulator, tmp_path: Path, version: str
) -> None:
    urls = kraken.urls["kraken"]
    protocol = build_protocol("kraken", urls["ws"], urls["rest"], protocol_version=version)
    out = tmp_path / f"kraken-{version}.jsonl"
    await record(protocol, SYMBOLS, out, duration_s=8.0, max_frames=300)
    frames = [f for f in read_capture(out) if f.kind == "ws" and f.raw]
    hot, slow = _parser(version), _parser(version)
    reference = _reference_v1 if version == "v1" else _reference_v2
    books = BookSet(checksums=checksums(["kraken"]))
    compared = compiled = 0
    for frame in frames:
        ts = int(frame.ts * 1e9)
        events = hot.parse_ws(frame.raw, ts)
        expected = reference(slow, frame.raw, ts)
        if version == "v1" and hot.rows_reader is not None:  # the compiled reader, where built
            compiled += hot.rows_reader(frame.raw, *_READ) is not None
        assert msgspec.to_builtins(events) == msgspec.to_builtins(expected), frame.raw[:200]
        compared += len(events)
        for event in events:
            books.apply(event)
    counts = books.counts["kraken"]
    assert compared > 100 and counts.checksums_ok >= compared - len(SYMBOLS)
    assert (counts.checksum_failures, counts.checksums_missing, counts.gaps) == (0, 0, 0)
    if version == "v1" and hot.rows_reader is not None:
        assert compiled >= compared - len(SYMBOLS)  # it read the book frames whole
