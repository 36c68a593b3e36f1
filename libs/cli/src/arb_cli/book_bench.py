"""The book-engine benchmark on the shared recordings: decoded by the venue parsers
(arb_venues.recorded), measured by arb_orderbook.bench. ``arb bench`` calls ``run``.

    python -m arb_cli.book_bench [fixtures_dir] [seconds]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from arb_orderbook.bench import measure
from arb_venues import checksums
from arb_venues.recorded import recorded_book_events


def run(fixtures_dir: Path | None, seconds: float = 2.0) -> dict[str, Any]:
    """Level updates/s and µs per message of the engine on the recorded sessions found in
    ``fixtures_dir`` (every venue with a ``VenueSpec.recording``), or on a synthetic session
    without them; the books verify each venue's checksum.

    Decoding happens once, before timing; the result's keys are those of
    ``arb_orderbook.bench.measure`` (mode, datasets, level_updates_per_second, ...).
    """
    datasets = (
        recorded_book_events(fixtures_dir)
        if fixtures_dir is not None and fixtures_dir.is_dir()
        else {}
    )
    return measure(datasets, seconds, checksums())


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(run(folder, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0), indent=2))
