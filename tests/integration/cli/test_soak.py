"""arb soak, short: the whole engine on the simulator with lifetimes compressed 14,400 times
(Binance's 24 h lasts 6 s, a 12 h default 3 s; a maintenance window with notice per venue
every 6 s), sampled and judged. The long run is ``make soak`` (outside ``make test``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_short_soak_rotates_keeps_books_live_and_finds_nothing_growing(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arb_cli", "soak", "--duration", "8", "--interval", "1",
         "--venues", "binance,okx", "--symbols", "BTC-USDT", "--time-scale", "14400",
         "--maintenance-notice", "1", "--min-live-share", "0.99",
         "--data-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.stdout, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["samples"] >= 5
    assert set(result["live_share"]) == {"binance/BTC-USDT", "okx/BTC-USDT"}
    # Lifetimes and notices were answered by rotations, none failed, no book lost its chain.
    assert result["rotations"] >= 2 and result["rotations_failed"] == 0
    assert result["reconnect_notices"] >= 1
    assert result["gaps"] == 0 and result["reconnects"] == 0
    assert result["live_share_min"] >= 0.99
    # Every process and series was sampled and fitted; nothing grew past its tolerance.
    assert {"ingest-binance.rss_bytes", "book.open_fds", "redis.used_memory_bytes"} <= set(
        result["growth"]
    )
    assert result["growing"] == []
    assert result["ok"] and proc.returncode == 0
