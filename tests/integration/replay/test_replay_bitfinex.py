"""arb replay on the recorded Bitfinex session (shared/fixtures/README.md): 7 snapshots and
1,593 updates over 7 books, 0 gaps, 0 crossed, 0 bad frames; the connection's SEQ_ALL numbers
1..1670 without a hole (the parser counts a jump as a resync of every book: 0 resyncs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.replay.support import arb_replay

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


def test_bitfinex_recording_replays_7_snapshots_and_1593_updates_clean(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = fixtures_dir / "bitfinex" / "cryptofeed_BITFINEX.ws.11.0.jsonl"
    code, out, err = arb_replay(capsys, "--venue", "bitfinex", str(capture))
    assert code == 0, err
    assert out["books"] == 7 and out["book_events"] == 7 + 1593 and out["applied"] == 1600
    assert out["gaps"] == 0 and out["crossed"] == 0 and out["bad_frames"] == 0
    assert out["resyncs"] == 0 and out["checksum_failures"] == 0
