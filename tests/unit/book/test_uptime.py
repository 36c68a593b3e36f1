"""The book service's uptime clock: LIVE time over watched time, and the time a venue's
declared maintenance kept a book out of LIVE, counted apart and never hidden."""

from __future__ import annotations

import pytest
from arb_book.uptime import Uptime
from arb_structs.constants import DECLARED_MAINTENANCE
from arb_structs.market import BookState

pytestmark = pytest.mark.unit

S = 10**9


def test_declared_maintenance_counts_against_the_share_and_apart_from_it() -> None:
    uptime = Uptime()
    uptime.observe("kraken", "BTC-USDT", BookState.SYNCING, 0)  # start-up: not watched yet
    uptime.observe("kraken", "BTC-USDT", BookState.LIVE, 10 * S)
    uptime.observe("kraken", "BTC-USDT", BookState.SUSPECT, 50 * S, "gap")  # 5 s outage
    uptime.observe("kraken", "BTC-USDT", BookState.LIVE, 55 * S)
    uptime.observe("kraken", "BTC-USDT", BookState.HALTED, 70 * S,
                   f"venue down: {DECLARED_MAINTENANCE}")  # fmt: skip
    # Still declared while the book resyncs after the venue is back, until it is LIVE.
    uptime.observe("kraken", "BTC-USDT", BookState.SYNCING, 80 * S, "venue up: waiting")
    uptime.observe("kraken", "BTC-USDT", BookState.LIVE, 90 * S)
    uptime.export(110 * S)
    book = uptime.describe("kraken")["BTC-USDT"]
    assert book["watched_s"] == 100.0
    assert book["live_share"] == pytest.approx(0.75)  # 75 s of 100: the halt is downtime
    assert book["declared_down_s"] == 20.0
    assert book["live_share_outside_declared"] == pytest.approx(75 / 80)  # the 5 s gap only


def test_an_outage_after_a_declared_one_is_not_declared() -> None:
    uptime = Uptime()
    uptime.observe("okx", "ETH-USDT", BookState.LIVE, 0)
    uptime.observe(
        "okx", "ETH-USDT", BookState.HALTED, 10 * S, f"venue down: {DECLARED_MAINTENANCE}"
    )
    uptime.observe("okx", "ETH-USDT", BookState.LIVE, 12 * S)
    uptime.observe("okx", "ETH-USDT", BookState.HALTED, 20 * S, "venue down: disconnected")
    uptime.export(30 * S)
    book = uptime.describe("okx")["ETH-USDT"]
    assert book["declared_down_s"] == 2.0 and book["live_share"] == pytest.approx(18 / 30)
