"""The recorded HTX session (shared/fixtures/htx) and mbp frames derived from it, for tests.

cryptofeed's 2021-04-17 HTX session holds ``depth.step0`` full-book pushes only (decompressed
text, ``raw_note``). The incremental ``mbp`` channel is exercised on the same real levels: a
``req`` refresh made of one recorded book, then the differences between consecutive recorded
books of that symbol as ``mbp.150`` updates (``prevSeqNum`` = the previous book's version).
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from pathlib import Path

import msgspec
import pytest
from arb_structs import Instrument
from arb_venues.capture import CaptureRecord

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
RECORDING = "cryptofeed_HUOBI.ws.44.0.jsonl"
_record = msgspec.json.Decoder(CaptureRecord)

OMG_BTC = Instrument(
    venue="htx", symbol="OMG-BTC", venue_symbol="omgbtc", base="OMG", quote="BTC",
    tick_size="0.0000001", lot_size="0.01",
)  # fmt: skip
BTC_USDT = Instrument(
    venue="htx", symbol="BTC-USDT", venue_symbol="btcusdt", base="BTC", quote="USDT",
    tick_size="0.01", lot_size="0.000001", min_size="0.0001", min_notional="5",
    price_decimals=2, size_decimals=6,
)  # fmt: skip


def htx_dir_or_skip() -> Path:
    """The recording's folder; a module-level skip where it is missing (a failure under CI)."""
    folder = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures")) / "htx"
    if not (folder / RECORDING).is_file():
        msg = (
            f"recorded HTX data not found in {folder}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (cryptofeed's sample_data, see its README)"
        )
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)
    return folder


def recorded_ws(folder: Path) -> list[str]:
    """Every received WS frame of the recording, in order."""
    lines = (folder / RECORDING).read_bytes().splitlines()
    return [r.raw for r in (_record.decode(line) for line in lines if line.strip())
            if r.type == "recv"]  # fmt: skip


def recorded_books(folder: Path, venue_symbol: str) -> list[dict[str, object]]:
    """The recorded depth.step0 pushes of one symbol, decoded."""
    topic = f'"ch":"market.{venue_symbol}.depth.step0"'
    return [json.loads(f) for f in recorded_ws(folder) if topic in f and '"tick"' in f]


def _side_diff(old: list[list[float]], new: list[list[float]]) -> list[list[float]]:
    before = {price: size for price, size in old}
    after = {price: size for price, size in new}
    changed = [[p, s] for p, s in new if before.get(p) != s]
    return changed + [[p, 0.0] for p in before if p not in after]


def mbp_frames(folder: Path, venue_symbol: str, levels: int = 150) -> tuple[str, list[str]]:
    """(a ``req`` refresh of the first recorded book, the mbp updates to each later book)."""
    books = recorded_books(folder, venue_symbol)
    topic = f"market.{venue_symbol}.mbp.{levels}"
    first = books[0]["tick"]
    assert isinstance(first, dict)
    refresh = json.dumps({"id": "1", "rep": topic, "status": "ok", "ts": books[0]["ts"],
                          "data": {"seqNum": first["version"], "bids": first["bids"],
                                   "asks": first["asks"]}})  # fmt: skip
    updates = []
    for old, new in itertools.pairwise(books):
        before, after = old["tick"], new["tick"]
        assert isinstance(before, dict) and isinstance(after, dict)
        tick = {"seqNum": after["version"], "prevSeqNum": before["version"],
                "bids": _side_diff(before["bids"], after["bids"]),
                "asks": _side_diff(before["asks"], after["asks"])}  # fmt: skip
        updates.append(json.dumps({"ch": topic, "ts": new["ts"], "tick": tick}))
    return refresh, updates


def gzipped(text: str) -> bytes:
    """A frame as HTX sends it on the wire."""
    return gzip.compress(text.encode())
