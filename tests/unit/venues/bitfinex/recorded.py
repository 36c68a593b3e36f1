"""The recorded Bitfinex session (shared/fixtures/bitfinex, never copied here) as the tests
read it: every received frame in order, and the book instruments it covers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from arb_structs import Instrument

from tests.conftest import IN_CI, ROOT

FIXTURES = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
RECORDING = FIXTURES / "bitfinex" / "cryptofeed_BITFINEX.ws.11.0.jsonl"


def require_recording() -> Path:
    if not RECORDING.is_file():
        message = f"recorded Bitfinex session not found at {RECORDING}; set ARB_FIXTURES_DIR"
        if IN_CI:
            raise RuntimeError(message)
        pytest.skip(message, allow_module_level=True)
    return RECORDING


def received() -> list[str]:
    """Every frame the recorder received, in order."""
    lines = require_recording().read_text().splitlines()
    return [r["raw"] for r in map(json.loads, lines) if r["type"] == "recv"]


def events() -> list[str]:
    """The recorded event objects (info, conf, subscribed...): a connection's set-up."""
    return [raw for raw in received() if raw.startswith("{")]


def instrument(venue_symbol: str, symbol: str) -> Instrument:
    base, quote = symbol.split("-")
    return Instrument(
        venue="bitfinex", symbol=symbol, venue_symbol=venue_symbol, base=base, quote=quote,
        tick_size="0.00000001", lot_size="0.00000001", min_size="0.00000001",
        price_decimals=8, size_decimals=8,
    )  # fmt: skip
