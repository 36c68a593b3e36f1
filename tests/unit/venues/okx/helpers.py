"""Test helpers for the OKX adapter: a reference book that checks OKX checksums, the
recorded session, and the simulator's OKX market with a known book."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import msgspec
import pytest
from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import BookDelta, BookSnapshot, Instrument
from arb_venues.capture import CaptureRecord

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def fixtures_path() -> Path | None:
    """The recorded data folder; None (skip) when missing, a failure under CI."""
    path = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
    if path.is_dir():
        return path
    if IN_CI:
        pytest.fail(f"recorded exchange data missing at {path} (CI must have it)")
    return None


def recorded_ws(fixtures: Path) -> list[str]:
    """Every received WS frame of the 2022 OKX recording, in order.

    Read line by line here: arb_venues.capture.read_capture decides "plain file" from the
    first line, and this recording starts with a ``connect`` record that has no ``raw``.
    """
    path = fixtures / "okx" / "cryptofeed_OKX.ws.1.0.jsonl"
    records = [_record.decode(line) for line in path.read_bytes().splitlines() if line.strip()]
    return [r.raw for r in records if r.type == "recv"]


_record = msgspec.json.Decoder(CaptureRecord)


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """CRC32 (signed) of the top 25 bids/asks interleaved, ``px:sz`` exact text
    (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel)."""
    parts: list[str] = []
    for i in range(max(len(bids[:25]), len(asks[:25]))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


class ReferenceBook:
    """Dict book keyed by price, keeping each level's exact text (tests only)."""

    def __init__(self) -> None:
        self.seq = -1
        self.bids: dict[float, tuple[str, str]] = {}
        self.asks: dict[float, tuple[str, str]] = {}

    def snapshot(self, event: BookSnapshot) -> None:
        assert event.bids_text is not None and event.asks_text is not None
        self.bids = {float(p): (p, s) for p, s in event.bids_text}
        self.asks = {float(p): (p, s) for p, s in event.asks_text}
        self.seq = event.seq

    def apply(self, event: BookDelta) -> str:
        """'stale' | 'gap' | 'applied' per the sequence rule; levels from the exact text."""
        if event.seq <= self.seq:
            return "stale"
        if event.prev_seq > self.seq:
            return "gap"
        assert event.bids_text is not None and event.asks_text is not None
        for side, texts in ((self.bids, event.bids_text), (self.asks, event.asks_text)):
            for p, s in texts:
                if float(s) == 0:
                    side.pop(float(p), None)
                else:
                    side[float(p)] = (p, s)
        self.seq = event.seq
        return "applied"

    def checksum(self) -> int:
        bids = [self.bids[p] for p in sorted(self.bids, reverse=True)[:25]]
        asks = [self.asks[p] for p in sorted(self.asks)[:25]]
        return okx_checksum(bids, asks)


# -- the simulator's market ------------------------------------------------------------------------

BTC_USDT = Instrument(
    venue="okx",
    symbol="BTC-USDT",
    venue_symbol="BTC-USDT",
    base="BTC",
    quote="USDT",
    tick_size="0.1",
    lot_size="0.00000001",
    min_size="0.00001",
    price_decimals=1,
    size_decimals=8,
    maker_fee="0.0008",
    taker_fee="0.001",
)


SEQ0 = 1  # the book's seq once okx_market() has set it (updates count from there)


def okx_market() -> VenueMarket:
    """The simulator's OKX market with a fixed BTC-USDT book (bids 41006.8 x 1.5, 41006 x
    0.25; asks 41007.1 x 0.5, 41010 x 2) and account key-1 / secret-1 / pass-1 holding
    100,000 USDT and 1 BTC. Nothing moves unless a test calls ``apply``."""
    account = Account("key-1", "secret-1", "pass-1", {"USDT": "100000", "BTC": "1"})
    market = venue_market("okx", instruments=[BTC_USDT], accounts=[account])
    market.set_book(
        "BTC-USDT",
        bids=[("41006.8", "1.5"), ("41006", "0.25")],
        asks=[("41007.1", "0.5"), ("41010", "2")],
    )
    assert market.book("BTC-USDT").seq == SEQ0
    return market


def decode_json(raw: str | bytes) -> object:
    return msgspec.json.decode(raw)
