"""arb replay on the recorded KuCoin session (shared/fixtures/README.md): the WS capture and
its REST level2 snapshots merged by recorder time give 9 books, 3,805 increments applied on
the 9 snapshots, 0 gaps, 0 crossed, 0 bad frames, 0 resyncs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.replay.support import arb_replay

pytestmark = [pytest.mark.integration, pytest.mark.fixtures]


def test_kucoin_recording_applies_3805_increments_on_9_snapshots_clean(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = fixtures_dir / "kucoin"
    code, out, err = arb_replay(capsys, "--venue", "kucoin",
                                str(folder / "cryptofeed_KUCOIN.ws.1.0.jsonl"),
                                str(folder / "cryptofeed_KUCOIN.http.0.0.jsonl"))  # fmt: skip
    assert code == 0, err
    assert out["books"] == 9 and out["applied"] == 3805 + 9  # increments + the snapshots
    assert out["gaps"] == 0 and out["crossed"] == 0 and out["bad_frames"] == 0
    assert out["resyncs"] == 0
