"""The book-engine benchmark reads the recordings through the venue parsers and stays sane."""

from __future__ import annotations

from pathlib import Path

import pytest
from arb_bench.book_engine import measure, run
from arb_venues.recorded import recordings

pytestmark = pytest.mark.unit


@pytest.mark.fixtures
def test_recorded_bench_covers_every_recorded_venue_with_every_check_clean(
    fixtures_dir: Path,
) -> None:
    result = run(fixtures_dir, 0.05)
    assert result["mode"] == "recorded"
    assert set(result["datasets"]) == set(recordings())  # every venue with a recording
    okx = result["datasets"]["okx"]
    assert okx["messages"] == 290 and okx["books_final_state"]["checksums_ok"] == 290
    for name, dataset in result["datasets"].items():
        final = dataset["books_final_state"]
        assert final["gaps"] == 0 and final["checksum_failures"] == 0, name
    assert result["level_updates_per_second"] > 0


def test_without_recordings_the_bench_runs_a_synthetic_session(tmp_path: Path) -> None:
    result = run(tmp_path / "nothing-here", 0.02)
    assert result["mode"] == "synthetic" and list(result["datasets"]) == ["synthetic"]
    assert measure(None, 0.02)["mode"] == "synthetic"
