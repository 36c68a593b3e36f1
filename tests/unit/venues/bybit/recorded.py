"""The recorded Bybit session, found through ARB_FIXTURES_DIR or ../shared/fixtures.

nautilus_2024-12-01_XRPUSDT_ob500.jsonl: one raw v5 message per line, ``orderbook.500.XRPUSDT``
(linear; the same message format as spot), 1 snapshot + 49 deltas (see fixtures/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
FIXTURES = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
SESSION = FIXTURES / "bybit" / "nautilus_2024-12-01_XRPUSDT_ob500.jsonl"
DOC_SNAPSHOT = FIXTURES / "bybit" / "nautilus_ws_orderbook_snapshot.json"
DOC_DELTA = FIXTURES / "bybit" / "nautilus_ws_orderbook_delta.json"


def _require(path: Path) -> None:
    """Skip when a recorded file is absent; under CI a missing file fails instead."""
    if not path.is_file():
        message = (
            f"recorded Bybit data not found at {path}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (recordings by nautilus_trader, see its README)"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message, allow_module_level=True)


def session_lines() -> list[str]:
    """The raw messages of the recorded session."""
    _require(SESSION)
    return [line for line in SESSION.read_text().splitlines() if line.strip()]


def read_text(path: Path) -> str:
    """One recorded file (e.g. DOC_SNAPSHOT)."""
    _require(path)
    return path.read_text()
