"""arb replay on HTX's recorded session (shared/fixtures/README.md: 292 full-book pushes of
``market.*.depth.step0``), end to end through the venue parser and the book engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


def test_htx_recording_applies_292_full_books_without_a_gap(fixtures_dir: Path) -> None:
    path = fixtures_dir / "htx" / "cryptofeed_HUOBI.ws.44.0.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "arb_cli", "replay", "--venue", "htx", str(path), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["book_events"] == 292 and out["applied"] == 292 and out["books"] == 10
    assert out["gaps"] == 0 and out["crossed"] == 0 and out["bad_frames"] == 0
    assert out["resyncs"] == 0 and out["stale"] == 0 and out["protocol"] == "depth"
