"""The recorded Binance session (shared/fixtures/binance), read for the tests.

The recording is cryptofeed's 2021-10-12 Binance spot session: a combined-stream WS capture
and the REST depth snapshots taken during it, merged here by recorder time.

Note: ``arb_venues.capture.read_capture`` decides "plain file" from the first line alone, and
the first line of the WS capture is a ``connect`` record without ``raw``, so it reads the
whole file as plain text. Until that is fixed this helper decodes the records itself.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from arb_venues.capture import CaptureRecord

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WS_FILE = "cryptofeed_BINANCE.ws.1.0.jsonl"
HTTP_FILE = "cryptofeed_BINANCE.http.0.0.jsonl"


def fixtures_root() -> Path:
    return Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))


def binance_dir_or_skip() -> Path:
    """The recording's folder; a module-level skip where it is missing (a failure under CI)."""
    folder = fixtures_root() / "binance"
    if not (folder / WS_FILE).is_file():
        msg = (
            f"recorded Binance data not found in {folder}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (cryptofeed's sample_data, see its README)"
        )
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)
    return folder


@dataclass(frozen=True)
class Recorded:
    kind: str  # "ws" | "rest"
    url: str
    ts: float
    raw: str


def read(path: Path) -> list[Recorded]:
    frames = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        record = msgspec.json.decode(line, type=CaptureRecord)
        kind = {"recv": "ws", "http_response": "rest"}.get(record.type)
        if kind is not None:
            frames.append(Recorded(kind, record.url, float(record.local_ts), record.raw))
    return frames


def session(folder: Path) -> list[Recorded]:
    """WS frames and REST snapshots in recorder-time order (stable within each file)."""
    return list(heapq.merge(read(folder / WS_FILE), read(folder / HTTP_FILE), key=lambda f: f.ts))
