"""The recorded KuCoin session (shared/fixtures/kucoin) and the simulator's KuCoin market,
for tests.

cryptofeed's 2021-04-25 KuCoin spot session: one WS connection subscribed to
``/market/level2`` (and ticker, match, candles) of 10 symbols, and the REST level2 snapshots
(``/api/v3/market/orderbook/level2``) of 9 of them taken meanwhile, merged by recorder time.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, Instrument, MdEvent
from arb_venues.capture import Frame, iter_book_frames, merge_captures

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WS_FILE = "cryptofeed_KUCOIN.ws.1.0.jsonl"
HTTP_FILE = "cryptofeed_KUCOIN.http.0.0.jsonl"

BCHSV_USDT = Instrument(
    venue="kucoin", symbol="BCHSV-USDT", venue_symbol="BCHSV-USDT", base="BCHSV", quote="USDT",
    tick_size="0.001", lot_size="0.0001",
)  # fmt: skip
BTC_USDT = Instrument(
    venue="kucoin", symbol="BTC-USDT", venue_symbol="BTC-USDT", base="BTC", quote="USDT",
    tick_size="0.1", lot_size="0.00000001", min_size="0.00001", min_notional="0.1",
    price_decimals=1, size_decimals=8,
)  # fmt: skip
KEY, SECRET, PASSPHRASE = "key-1", "secret-1", "pass-1"


def kucoin_dir_or_skip() -> Path:
    """The recording's folder; a module-level skip where it is missing (a failure under CI)."""
    root = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
    folder = root / "kucoin"
    if not (folder / WS_FILE).is_file():
        msg = (
            f"recorded KuCoin data not found in {folder}: set ARB_FIXTURES_DIR to the shared "
            "fixtures folder (cryptofeed's sample_data, see its README)"
        )
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)
    return folder


def session(folder: Path) -> list[Frame]:
    """WS frames and REST snapshots in recorder-time order."""
    return list(iter_book_frames(merge_captures([folder / WS_FILE, folder / HTTP_FILE])))


class ReferenceBooks:
    """Per-symbol sequence bookkeeping by KuCoin's own calibration rule, written from the docs
    and independent of the parser's normalisation: an update applies when
    ``sequenceStart <= sequence + 1`` and ``sequenceEnd > sequence``."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}
        self.counts: Counter[str] = Counter()

    def snapshot(self, symbol: str, sequence: int) -> None:
        self.seq[symbol] = sequence
        self.counts["snapshots"] += 1

    def update(self, symbol: str, start: int, end: int) -> None:
        if symbol not in self.seq:
            self.counts["before_snapshot"] += 1
        elif end <= self.seq[symbol]:
            self.counts["stale"] += 1
        elif start <= self.seq[symbol] + 1:
            self.counts["applied"] += 1
            self.seq[symbol] = end
        else:
            self.counts["gaps"] += 1


class EngineBooks:
    """The book engine's one rule on the parser's normalised events (prev_seq, seq)."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}
        self.levels: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
        self.counts: Counter[str] = Counter()

    def on(self, event: MdEvent) -> None:
        if isinstance(event, BookSnapshot):
            self.seq[event.symbol] = event.seq
            self.levels[event.symbol] = (dict(event.bids), dict(event.asks))
            self.counts["snapshots"] += 1
        elif isinstance(event, BookDelta):
            seq = self.seq.get(event.symbol)
            if seq is None:
                self.counts["before_snapshot"] += 1
            elif event.seq <= seq:
                self.counts["stale"] += 1
            elif event.prev_seq <= seq:
                self.counts["applied"] += 1
                self.seq[event.symbol] = event.seq
                bids, asks = self.levels[event.symbol]
                for book, side in ((bids, event.bids), (asks, event.asks)):
                    for price, size in side:
                        if size == 0:
                            book.pop(price, None)
                        else:
                            book[price] = size
                if bids and asks and max(bids) >= min(asks):
                    self.counts["crossed"] += 1
            else:
                self.counts["gaps"] += 1


def kucoin_market() -> VenueMarket:
    """The simulator's KuCoin market with a fixed BTC-USDT book (bids 41006.8 x 1.5, 41006 x
    0.25; asks 41007.1 x 0.5, 41010 x 2) and account key-1 / secret-1 / pass-1 holding
    100,000 USDT and 1 BTC. Nothing moves unless a test calls ``apply``."""
    account = Account(KEY, SECRET, PASSPHRASE, {"USDT": "100000", "BTC": "1"})
    market = venue_market("kucoin", instruments=[BTC_USDT], accounts=[account])
    market.set_book(
        "BTC-USDT",
        bids=[("41006.8", "1.5"), ("41006", "0.25")],
        asks=[("41007.1", "0.5"), ("41010", "2")],
    )
    return market
