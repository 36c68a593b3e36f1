"""arb replay on Gate's recorded session (shared/fixtures/README.md: 172 updates and 10
``with_id`` snapshots, 159 updates apply with 0 gaps), end to end through the venue parser and
the book engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


def test_gateio_recording_applies_159_updates_on_10_snapshots_without_a_gap(
    fixtures_dir: Path,
) -> None:
    folder = fixtures_dir / "gateio"
    files = [str(folder / "cryptofeed_GATEIO.ws.1.0.jsonl"),
             str(folder / "cryptofeed_GATEIO.http.0.0.jsonl")]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "arb_cli", "replay", "--venue", "gateio", *files, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["books"] == 10 and out["book_events"] == 182  # 10 snapshots + 172 updates
    assert out["applied"] == 10 + 159 and out["stale"] == 13
    assert out["gaps"] == 0 and out["crossed"] == 0 and out["bad_frames"] == 0
    assert out["resyncs"] == 0
