"""Fidelity, per venue, through the whole simulator (its own market, clock and ports): the book
frames and REST bodies it serves have the real ones' keys, JSON types (number text as strings
or as JSON numbers) and number style. Our frames are picked by what the venue's own parser
makes of them (a BookSnapshot, a BookDelta); the venue tests decode real and simulated frames
with the same wire structs.

References in ../shared/fixtures: real recordings where they exist (Binance WS and REST, OKX
2022 WS, Bybit 2024 WS), else the documentation-style frames (OKX and Bybit current shapes,
Kraken v2 book, Coinbase Advanced Trade l2_data: no recording of those protocols exists).
REST bodies other than Binance's have no recording: the venue tests check their format.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookDelta, BookSnapshot
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.common.symbols import SymbolMap

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]

NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
# How each venue writes the number text of its book levels (checked on ours and theirs).
LEVEL_STYLE = {
    "binance": re.compile(r"^\d+\.\d{8}$"),  # always 8 decimals, trailing zeros kept
    "okx": re.compile(r"^(0|[1-9]\d*)(\.\d*[1-9])?$"),  # no padding, no trailing zeros
    "bybit": re.compile(r"^\d+(\.\d+)?$"),  # the instrument's decimals ("1.9530")
    "coinbase": re.compile(r"^\d+\.\d+$"),  # the product's increments ("68900.00")
}
# Keys the simulator may leave out, with the reason.
OPTIONAL_KEYS = {
    # Kraken's v2 snapshot carries no timestamp in the docs' channel description; the
    # hand-made example has one.
    "kraken": {"timestamp"},
}


def skeleton(value: Any) -> Any:
    """The JSON shape: dict keys, list element shapes, and leaf kinds where strings that
    hold numbers are "numtext" and JSON numbers are "number"."""
    if isinstance(value, dict):
        return {key: skeleton(item) for key, item in value.items()}
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "numtext" if NUMBER_TEXT.match(value) else "text"
    return "null"


def same_shape(ours: Any, theirs: Any, optional: set[str], where: str = "") -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        missing = set(theirs) - set(ours) - optional
        extra = set(ours) - set(theirs)
        assert not missing and not extra, f"{where}: missing {missing}, extra {extra}"
        for key in set(theirs) & set(ours):
            same_shape(ours[key], theirs[key], optional, f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        if theirs and ours:
            same_shape(ours[0], theirs[0], optional, f"{where}[0]")
    elif theirs in ("numtext", "number") or ours in ("numtext", "number"):
        assert ours == theirs, f"{where}: ours {ours}, theirs {theirs}"


def level_texts(frame: Any) -> list[str]:
    """Every number text of every book level in a frame (lists of strings under b/a/bids/
    asks, or Coinbase's price_level/new_quantity)."""
    found: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ("price_level", "new_quantity") and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v, k)
        elif isinstance(value, list):
            if key in ("b", "a", "bids", "asks"):
                for level in value:
                    if isinstance(level, list):
                        found.extend(x for x in level if isinstance(x, str))
            else:
                for item in value:
                    walk(item, key)

    walk(frame)
    return found


def capture(path: Path) -> list[str]:
    """Frame texts of a capture file: each record's ``raw``, or the line itself when the file
    holds one raw message per line."""
    out = []
    for line in path.read_bytes().splitlines():
        if line.strip():
            raw = json.loads(line).get("raw")
            out.append(raw if isinstance(raw, str) else line.decode())
    return out


def references(venue: str, fixtures: Path) -> dict[str, str]:
    """One real (or doc-style) frame per kind: "snapshot", "delta", maybe "rest"."""
    folder = fixtures / venue
    if venue == "binance":
        ws = capture(folder / "cryptofeed_BINANCE.ws.1.0.jsonl")
        rest = capture(folder / "cryptofeed_BINANCE.http.0.0.jsonl")
        return {
            "delta": next(f for f in ws if '"depthUpdate"' in f),
            "rest": next(f for f in rest if "lastUpdateId" in f),
        }
    if venue == "okx":
        return {
            "snapshot": (folder / "nautilus_ws_books_snapshot.json").read_text(),
            "delta": (folder / "nautilus_ws_books_update.json").read_text(),
        }
    if venue == "bybit":
        lines = capture(folder / "nautilus_2024-12-01_XRPUSDT_ob500.jsonl")
        return {
            "snapshot": next(f for f in lines if '"snapshot"' in f),
            "delta": next(f for f in lines if '"delta"' in f),
        }
    if venue == "kraken":
        return {
            "snapshot": (folder / "nautilus_ws_book_snapshot.json").read_text(),
            "delta": (folder / "nautilus_ws_book_update.json").read_text(),
        }
    return {
        "snapshot": (folder / "nautilus_ws_l2_data_snapshot.json").read_text(),
        "delta": (folder / "nautilus_ws_l2_data_update.json").read_text(),
    }


@pytest.fixture
async def simulator(request) -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(
        venues=[request.param], symbols=["BTC-USDT"], rate=200.0, inject_interval_s=0
    )
    async with Simulator(settings) as sim:
        yield sim


async def served_frames(sim: Simulator, venue: str) -> dict[str, str]:
    """A snapshot and a delta frame as the venue's own adapter receives them (and, for
    Binance, whose snapshot is REST only, the depth body)."""
    urls = sim.urls[venue]
    protocol = get_venue(venue).market(Endpoints(ws_url=urls["ws"], rest_url=urls["rest"]))
    instruments = list(sim.venue_markets[venue].instruments.values())
    parser = protocol.make_parser(SymbolMap(instruments))
    frames: dict[str, str] = {}
    async with aiohttp.ClientSession() as http:
        if venue == "binance":
            async with http.get(f"{urls['rest']}/api/v3/depth?symbol=BTCUSDT&limit=100") as resp:
                frames["rest"] = await resp.text()
        async with http.ws_connect(protocol.ws_url(instruments)) as ws:
            for message in protocol.subscribe_messages(instruments):
                await ws.send_str(message)
            wanted = {"delta"} if venue == "binance" else {"snapshot", "delta"}
            for _ in range(500):
                if wanted <= frames.keys():
                    break
                message = await ws.receive(timeout=10)
                assert message.type is aiohttp.WSMsgType.TEXT, message
                for event in parser.parse_ws(message.data, 1):
                    kind = "snapshot" if isinstance(event, BookSnapshot) else None
                    kind = "delta" if isinstance(event, BookDelta) else kind
                    if kind is not None:
                        frames.setdefault(kind, message.data)
    return frames


@pytest.mark.parametrize(
    "simulator", ["binance", "okx", "bybit", "kraken", "coinbase"], indirect=True
)
async def test_served_frames_have_the_real_keys_types_and_number_style(
    simulator: Simulator, fixtures_dir: Path
) -> None:
    [venue] = simulator.urls
    ours = await served_frames(simulator, venue)
    theirs = references(venue, fixtures_dir)
    assert ours.keys() == theirs.keys(), venue
    optional = OPTIONAL_KEYS.get(venue, set())
    style = LEVEL_STYLE.get(venue)
    for kind, reference in theirs.items():
        sim_frame, real_frame = json.loads(ours[kind]), json.loads(reference)
        same_shape(skeleton(sim_frame), skeleton(real_frame), optional, f"{venue} {kind}")
        if style is not None:
            for frame in (sim_frame, real_frame):
                texts = level_texts(frame)
                assert texts and all(style.match(t) for t in texts), (venue, kind, texts[:6])
