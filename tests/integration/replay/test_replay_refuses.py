"""arb replay refuses what it cannot read, and counts every bad level it is shown.

Each case of issue 13 is built from a real recording in a temp dir: one level of one frame
made impossible (an OKX size of -5 or NaN with checksum 0 or no checksum field, a Coinbase
size of Infinity, a Binance price of 0), or a Kraken update without its checksum. The mutated
file must come out as a counted bad frame of the rule's kind (or a resync) and exit 1; the
same file without the bad level must replay clean. A wrong --venue names the right one; a
Bybit session on the spot and linear URLs at once gives both books.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from arb_venues.capture import CaptureWriter, Frame, read_capture

from tests.integration.replay.support import arb_replay

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]

OKX = "okx/cryptofeed_OKX.ws.1.0.jsonl"
COINBASE = "coinbase/cryptofeed_COINBASE.ws.28.0.jsonl"
BINANCE = ("binance/cryptofeed_BINANCE.ws.1.0.jsonl", "binance/cryptofeed_BINANCE.http.0.0.jsonl")
BYBIT = "bybit/nautilus_2024-12-01_XRPUSDT_ob500.jsonl"

Mutate = Callable[[int, dict[str, Any]], dict[str, Any]]
_KINDS = {"ws": "recv", "rest": "http_response", "connect": "connect", "send": "send"}


def rewrite(source: Path, out: Path, mutate: Mutate) -> Path:
    """``source`` written again to ``out``, every JSON frame passed through ``mutate`` (its
    index among the frames and the decoded JSON); the record kinds, URLs and times kept."""
    with CaptureWriter(out) as writer:
        for index, frame in enumerate(read_capture(source)):
            raw = frame.raw
            if frame.kind in ("ws", "rest") and raw.lstrip().startswith("{"):
                raw = json.dumps(mutate(index, json.loads(raw)), separators=(",", ":"))
            writer.write(_KINDS[frame.kind], frame.url, raw, ts_ns=int(frame.ts * 1e9))
    return out


def _okx_update(index: int, frame: dict[str, Any], target: int) -> dict[str, Any] | None:
    """The data entry of the ``target``-th frame if it is a BTC-USDT books update."""
    arg = frame.get("arg", {})
    if index == target and arg.get("instId") == "BTC-USDT" and frame.get("action") == "update":
        entry: dict[str, Any] = frame["data"][0]
        return entry
    return None


def _okx_target(fixtures: Path) -> int:
    """The index of the 20th BTC-USDT update of the OKX recording, with a bid in it."""
    seen = 0
    for index, frame in enumerate(read_capture(fixtures / OKX)):
        if '"instId":"BTC-USDT"' in frame.raw and '"action":"update"' in frame.raw:
            data = json.loads(frame.raw)["data"][0]
            seen += 1
            if seen >= 20 and data["bids"]:
                return index
    raise AssertionError("the OKX recording has no 20th BTC-USDT update with a bid")


@pytest.mark.parametrize("checksum", ["zero", "missing"])
@pytest.mark.parametrize("size", ["-5", "NaN", "-0.000001"])
def test_okx_without_checksum_a_bad_size_is_a_counted_bad_frame_and_a_resync(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], checksum: str,
    size: str,
) -> None:  # fmt: skip
    target = _okx_target(fixtures_dir)

    def no_checksum(frame: dict[str, Any]) -> dict[str, Any]:
        for entry in frame.get("data", []) if isinstance(frame.get("data"), list) else []:
            if isinstance(entry, dict) and "checksum" in entry:
                if checksum == "zero":
                    entry["checksum"] = 0  # what OKX sends since 2026-06-23
                else:
                    del entry["checksum"]  # the changelog's delisting
        return frame

    def bad(index: int, frame: dict[str, Any]) -> dict[str, Any]:
        entry = _okx_update(index, frame, target)
        if entry is not None:
            entry["bids"][0][1] = size
        return no_checksum(frame)

    clean = rewrite(fixtures_dir / OKX, tmp_path / "clean.jsonl", lambda _, f: no_checksum(f))
    code, out, _ = arb_replay(capsys, "--venue", "okx", str(clean))
    assert code == 0 and out["bad_frames"] == 0 and out["books"] == 3
    assert out["gaps"] == 0 and out["checksums_verified"] == 0 and out["resyncs"] == 0

    mutated = rewrite(fixtures_dir / OKX, tmp_path / "bad.jsonl", bad)
    code, out, err = arb_replay(capsys, "--venue", "okx", str(mutated))
    assert code == 1 and out["bad_frame_kinds"] == {"bad_size": 1}
    assert out["resyncs"] >= 1 and "--allow-bad" in err and "bad_size 1" in err
    code, out, _ = arb_replay(capsys, "--venue", "okx", str(mutated), "--allow-bad")
    assert code == 0 and out["bad_frames"] == 1 and out["books"] == 3


def test_coinbase_legacy_infinity_and_inf_sizes_are_bad_frames(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets: dict[int, str] = {}
    for index, frame in enumerate(read_capture(fixtures_dir / COINBASE)):
        if '"type":"l2update"' in frame.raw.replace(" ", "") and len(targets) < 2:
            targets[index] = "Infinity" if not targets else "inf"

    def bad(index: int, frame: dict[str, Any]) -> dict[str, Any]:
        if index in targets:
            frame["changes"][0][2] = targets[index]
        return frame

    mutated = rewrite(fixtures_dir / COINBASE, tmp_path / "bad.jsonl", bad)
    code, out, _ = arb_replay(capsys, "--venue", "coinbase", str(mutated))
    assert code == 1 and out["bad_frame_kinds"] == {"bad_size": 2} and out["resyncs"] >= 2
    assert out["protocol"] == "legacy" and out["crossed"] == 0


def test_coinbase_advanced_trade_infinity_quantity_is_a_bad_frame(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = (fixtures_dir / "coinbase" / "nautilus_ws_l2_data_snapshot.json").read_text()
    update = json.loads((fixtures_dir / "coinbase" / "nautilus_ws_l2_data_update.json").read_text())
    url = "wss://advanced-trade-ws.coinbase.com"
    clean = tmp_path / "clean.jsonl"
    with CaptureWriter(clean) as writer:
        writer.write("recv", url, snapshot, ts_ns=1)
        writer.write("recv", url, json.dumps(update), ts_ns=2)
    code, out, _ = arb_replay(capsys, "--venue", "coinbase", str(clean))
    assert code == 0 and out["books"] == 1 and out["applied"] == 2
    assert out["protocol"] == "advanced_trade"

    update["events"][0]["updates"][0]["new_quantity"] = "Infinity"
    mutated = tmp_path / "bad.jsonl"
    with CaptureWriter(mutated) as writer:
        writer.write("recv", url, snapshot, ts_ns=1)
        writer.write("recv", url, json.dumps(update), ts_ns=2)
    code, out, _ = arb_replay(capsys, "--venue", "coinbase", str(mutated))
    assert code == 1 and out["bad_frame_kinds"] == {"bad_size": 1} and out["resyncs"] == 1


def test_binance_price_zero_is_a_bad_frame_and_the_clean_file_replays_clean(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, http = (fixtures_dir / name for name in BINANCE)
    target = next(
        i for i, f in enumerate(read_capture(ws)) if '"depthUpdate"' in f.raw and '"b":[[' in f.raw
    )

    def bad(index: int, frame: dict[str, Any]) -> dict[str, Any]:
        if index == target:
            frame["data"]["b"][0][0] = "0"
        return frame

    code, out, _ = arb_replay(capsys, "--venue", "binance", str(ws), str(http))
    assert code == 0 and out["bad_frames"] == 0 and out["gaps"] == 0
    mutated = rewrite(ws, tmp_path / "bad.jsonl", bad)
    code, out, _ = arb_replay(capsys, "--venue", "binance", str(mutated), str(http))
    assert code == 1 and out["bad_frame_kinds"] == {"bad_price": 1} and out["resyncs"] >= 1


def test_a_file_of_another_venue_exits_1_naming_the_venue_it_looks_like(
    fixtures_dir: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arb_cli", "replay", "--venue", "binance",
         str(fixtures_dir / OKX), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout)["books"] == 0
    line = result.stderr.strip()
    assert line.count("\n") == 0 and "they look like okx frames: pass --venue okx" in line


def test_bybit_spot_and_linear_books_of_one_symbol_stay_apart(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recorded XRPUSDT frames under the spot URL and again under the linear URL (the
    same frames: a real recording's): two books, never merged, no gap."""
    frames: list[Frame] = read_capture(fixtures_dir / BYBIT)
    both = tmp_path / "spot_and_linear.jsonl"
    with CaptureWriter(both) as writer:
        for i, frame in enumerate(frames):
            for j, category in enumerate(("spot", "linear")):
                url = f"wss://stream.bybit.com/v5/public/{category}"
                writer.write("recv", url, frame.raw, ts_ns=(2 * i + j + 1) * 1_000_000)
    code, out, _ = arb_replay(capsys, "--venue", "bybit", str(both))
    assert code == 0 and out["books"] == 2, out
    assert out["applied"] == 2 * 50 and out["gaps"] == 0 and out["bad_frames"] == 0
