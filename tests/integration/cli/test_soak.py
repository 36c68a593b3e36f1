"""arb soak, short: the whole engine on the simulator with lifetimes compressed 28,800 times
(Binance's 24 h lasts 3 s, Kraken's 12 h default 1.5 s; a maintenance window per venue every
3 s: Binance's with its notice, Kraken's a rolling gateway restart its hot standby rides
through), sampled and judged, in about 15 s. The CI-able one is ``make soak`` (5 minutes,
outside ``make test``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_short_soak_rotates_keeps_books_live_and_finds_nothing_growing(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arb_cli", "soak", "--duration", "5", "--interval", "1",
         "--venues", "binance,kraken", "--symbols", "BTC-USDT", "--time-scale", "28800",
         "--maintenance-notice", "1", "--min-live-share", "0.99",
         "--data-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.stdout, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["samples"] >= 4
    assert set(result["live_share"]) == {"binance/BTC-USDT", "kraken/BTC-USDT"}
    # Lifetimes and notices were answered by rotations, none failed, no book lost its chain.
    assert result["rotations"] >= 2 and result["rotations_failed"] == 0
    assert result["reconnect_notices"] >= 1
    assert result["gaps"] == 0 and result["reconnects"] == 0
    assert result["live_share_min"] >= 0.99
    # Every process and series was sampled and fitted; nothing grew past its tolerance.
    assert {"ingest-binance.rss_bytes", "book.open_fds", "redis.memory_outside_streams_bytes",
            "redis.keys_outside_streams"} <= set(result["growth"])  # fmt: skip
    # The keys beside the streams (latest books, checkpoints, seen opportunities...) are there
    # and measured, not a difference of estimates clipped to 0.
    assert result["growth"]["redis.keys_outside_streams"]["mean"] > 10
    assert result["growth"]["redis.memory_outside_streams_bytes"]["mean"] > 10_000
    # Kraken sends no notice: its maintenance cuts were taken over by its hot standby.
    assert result["connections"]["kraken"]["failovers"] >= 1
    assert result["growing"] == []
    assert result["ok"] and proc.returncode == 0
