"""arb replay on the shared real recordings: the facts in shared/fixtures/README.md, end to end
through the venue parser and the book engine with every check on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


def replay(venue: str, *files: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "arb_cli", "replay", "--venue", venue, *map(str, files), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_okx_recording_reproduces_all_290_exchange_checksums(fixtures_dir: Path) -> None:
    out = replay("okx", fixtures_dir / "okx" / "cryptofeed_OKX.ws.1.0.jsonl")
    assert out["checksums_verified"] == 290 and out["checksum_failures"] == 0
    assert out["books"] == 3 and out["gaps"] == 0 and out["crossed"] == 0


def test_binance_stream_and_snapshots_apply_172_diffs_over_4_books(fixtures_dir: Path) -> None:
    d = fixtures_dir / "binance"
    out = replay(
        "binance", d / "cryptofeed_BINANCE.ws.1.0.jsonl", d / "cryptofeed_BINANCE.http.0.0.jsonl"
    )
    assert out["books"] == 4
    assert out["applied"] == 172 + 4  # diffs + the four REST snapshots
    assert out["stale"] == 5 and out["gaps"] == 0


def test_bybit_recording_applies_49_deltas_without_gaps(fixtures_dir: Path) -> None:
    out = replay("bybit", fixtures_dir / "bybit" / "nautilus_2024-12-01_XRPUSDT_ob500.jsonl")
    assert out["applied"] == 1 + 49 and out["gaps"] == 0 and out["crossed"] == 0


def test_coinbase_recording_rebuilds_10_books_never_crossed(fixtures_dir: Path) -> None:
    out = replay("coinbase", fixtures_dir / "coinbase" / "cryptofeed_COINBASE.ws.28.0.jsonl")
    assert out["books"] == 10 and out["book_events"] == 10 + 9719
    assert out["crossed"] == 0 and out["gaps"] == 0


def test_unknown_venue_and_unreadable_file_are_one_line_exit_2(tmp_path: Path) -> None:
    for args in (["--venue", "mtgox", "x"], ["--venue", "okx", str(tmp_path / "missing.jsonl")]):
        result = subprocess.run([sys.executable, "-m", "arb_cli", "replay", *args],
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
