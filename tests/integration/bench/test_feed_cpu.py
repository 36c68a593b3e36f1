"""arb_bench.feed_cpu end to end: the simulator, each mode in its own process, real sockets.
Every mode must have received the venue's frames, and a feed with its hot standby (every
frame received twice, parsed twice) must cost more per live frame than a reader that parses
nothing: an order with a wide margin, not a timing bound."""

from __future__ import annotations

import pytest
from arb_bench.feed_cpu import MODES, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_each_mode_reads_the_venue_and_reports_its_cpu_per_live_frame() -> None:
    done = run("coinbase", rate=300, rounds=1, warm_s=2, window_s=3)
    assert [r["mode"] for r in done["results"]] == list(MODES)
    for result in done["results"]:
        assert result["live_frames"] >= 300, result  # about 900 at 300 updates/s
        assert result["cpu_us_per_live_frame"] > 0, result
    cost = {m: s["median"] for m, s in done["summary"].items()}
    assert cost["bare"] < cost["standby"], cost
