"""Small builders of md events for the book tests (venue 'test' has no checksum)."""

from __future__ import annotations

from arb_structs.market import BookDelta, BookSnapshot, Level, LevelText, VenueStatus

VENUE = "test"
SYMBOL = "BTC-USDT"


def snap(
    seq: int,
    bids: list[Level],
    asks: list[Level],
    *,
    venue: str = VENUE,
    symbol: str = SYMBOL,
    ts: int = 1_000,
    depth: int = 0,
    checksum: int | None = None,
    bids_text: list[LevelText] | None = None,
    asks_text: list[LevelText] | None = None,
) -> BookSnapshot:
    return BookSnapshot(
        venue=venue, symbol=symbol, seq=seq, bids=bids, asks=asks, ts_event=ts, ts_recv=ts,
        depth=depth, checksum=checksum, bids_text=bids_text, asks_text=asks_text,
    )  # fmt: skip


def delta(
    prev_seq: int,
    seq: int,
    bids: list[Level] | None = None,
    asks: list[Level] | None = None,
    *,
    venue: str = VENUE,
    symbol: str = SYMBOL,
    ts: int = 2_000,
    checksum: int | None = None,
    bids_text: list[LevelText] | None = None,
    asks_text: list[LevelText] | None = None,
) -> BookDelta:
    return BookDelta(
        venue=venue, symbol=symbol, prev_seq=prev_seq, seq=seq, bids=bids or [],
        asks=asks or [], ts_event=ts, ts_recv=ts, checksum=checksum, bids_text=bids_text,
        asks_text=asks_text,
    )  # fmt: skip


def status(up: bool, *, venue: str = VENUE, symbol: str | None = None) -> VenueStatus:
    return VenueStatus(venue=venue, status="up" if up else "down", reason="test", symbol=symbol)


def text(levels: list[Level]) -> list[LevelText]:
    """The text a venue would send for these levels (repr is exact for these test values)."""
    return [(repr(price), repr(size)) for price, size in levels]
