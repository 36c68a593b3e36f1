"""The OKX 2022 recorded session through the engine reproduces every exchange checksum.

The frames are read by the OKX venue parser (arb_venues.recorded: capture reader + the
adapter's FeedParser), the same one ingest and ``arb replay`` use: one parser per venue. The
2022 frames carry no seqId, so the parser's seq counts messages per instrument.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from arb_orderbook import BookSet, ChecksumCheck
from arb_structs.market import BookDelta, BookSnapshot, BookState
from arb_venues import checksums
from arb_venues.recorded import venue_book_events

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

CAPTURE = Path("okx") / "cryptofeed_OKX.ws.1.0.jsonl"


def _read_okx_books(path: Path) -> list[BookSnapshot | BookDelta]:
    return venue_book_events("okx", [path])


def test_okx_recording_reproduces_all_290_exchange_checksums(fixtures_dir: Path) -> None:
    events = _read_okx_books(fixtures_dir / CAPTURE)
    assert len(events) == 290
    assert sum(isinstance(e, BookSnapshot) for e in events) == 3
    books = BookSet(checksums=checksums())
    checks = [books.apply(event).checksum for event in events]
    assert checks.count(ChecksumCheck.OK) == 290
    assert all(book.state is BookState.LIVE for book in books)
    counts = books.counts["okx"]
    assert (counts.applied, counts.gaps, counts.checksum_failures) == (290, 0, 0)


def test_okx_recording_fails_checksums_when_text_is_reformatted(fixtures_dir: Path) -> None:
    """Negative control: rebuilding the text from floats breaks the checksum, so the check
    above really depends on keeping the venue's text."""
    events = _read_okx_books(fixtures_dir / CAPTURE)
    books = BookSet(checksums=checksums())
    snapshot = next(e for e in events if isinstance(e, BookSnapshot))
    reformatted = BookSnapshot(
        venue=snapshot.venue, symbol=snapshot.symbol, seq=snapshot.seq, bids=snapshot.bids,
        asks=snapshot.asks, ts_event=snapshot.ts_event, ts_recv=snapshot.ts_recv,
        checksum=snapshot.checksum,
        bids_text=[(str(p), str(s)) for p, s in snapshot.bids],
        asks_text=[(str(p), str(s)) for p, s in snapshot.asks],
    )  # fmt: skip
    result = books.apply(reformatted)
    assert result.checksum is ChecksumCheck.FAILED
    assert books.book("okx", snapshot.symbol).state is BookState.SUSPECT


def test_okx_recording_one_lost_update_is_caught(fixtures_dir: Path) -> None:
    """Drop one update: with its seq the rule flags a gap; with the seqs renumbered so the
    rule cannot see it, the exchange checksum still catches the missing update."""
    events = _read_okx_books(fixtures_dir / CAPTURE)
    target = next(i for i, e in enumerate(events) if isinstance(e, BookDelta) and e.bids)
    kept = [e for i, e in enumerate(events) if i != target]
    books = BookSet(checksums=checksums())
    assert sum(books.apply(e).gap for e in kept) == 1

    renumbered: list[BookSnapshot | BookDelta] = []
    seqs: dict[str, int] = {}
    for e in kept:
        seq = seqs[e.symbol] = seqs.get(e.symbol, 0) + 1
        if isinstance(e, BookDelta):
            e = msgspec.structs.replace(e, prev_seq=seq - 1, seq=seq)
        else:
            e = msgspec.structs.replace(e, seq=seq)
        renumbered.append(e)
    books = BookSet(checksums=checksums())
    results = [books.apply(e) for e in renumbered]
    assert not any(r.gap for r in results)
    assert sum(r.checksum is ChecksumCheck.FAILED for r in results) >= 1
    lost = events[target].symbol
    assert books.book("okx", lost).state is BookState.SUSPECT
