"""The recorded Gate session (shared/fixtures/gateio), read for the tests.

cryptofeed's 2021-04-22 Gate APIv4 spot session: the WS capture (``spot.order_book_update``
of 10 pairs, plus trades, tickers and candlesticks) and the REST ``with_id=true`` snapshots
taken during it, merged by recorder time with arb_venues.capture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from arb_venues.capture import Frame, iter_book_frames, merge_captures

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WS_FILE = "cryptofeed_GATEIO.ws.1.0.jsonl"
HTTP_FILE = "cryptofeed_GATEIO.http.0.0.jsonl"


def fixtures_root() -> Path:
    return Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))


def gateio_dir_or_skip() -> Path:
    """The recording's folder; a module-level skip where it is missing (a failure under CI)."""
    folder = fixtures_root() / "gateio"
    if not (folder / WS_FILE).is_file():
        msg = (
            f"recorded Gate data not found in {folder}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (cryptofeed's sample_data, see its README)"
        )
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)
    return folder


def session(folder: Path) -> list[Frame]:
    """WS frames and REST snapshots in recorder-time order (stable within each file)."""
    return list(iter_book_frames(merge_captures([folder / WS_FILE, folder / HTTP_FILE])))
