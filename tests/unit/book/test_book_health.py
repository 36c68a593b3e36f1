"""Health states: truncation, crossed books, staleness, venue down/up, state-change counts."""

from __future__ import annotations

import pytest
from arb_orderbook import BookSet, OrderBook, Outcome
from arb_structs.market import BookState

from tests.unit.book.factory import delta, snap, status

pytestmark = pytest.mark.unit

SECOND = 1_000_000_000


def _live_book() -> OrderBook:
    book = OrderBook("test", "BTC-USDT")
    book.apply(snap(10, [(99.0, 1.0), (98.0, 1.0)], [(101.0, 1.0), (102.0, 1.0)], ts=SECOND))
    return book


def test_snapshot_depth_truncates_after_every_message() -> None:
    """Kraken: 'After each update, truncate your book to the subscribed depth'
    (docs.kraken.com/api/docs/guides/spot-ws-book-v2)."""
    book = OrderBook("test", "BTC-USDT")
    bids = [(100.0 - i, 1.0) for i in range(5)]
    asks = [(101.0 + i, 1.0) for i in range(5)]
    book.apply(snap(1, bids, asks, depth=3))
    assert [p for p, _ in book.top(10)[0]] == [100.0, 99.0, 98.0]
    assert [p for p, _ in book.top(10)[1]] == [101.0, 102.0, 103.0]
    book.apply(delta(1, 2, [(100.5, 1.0)], [(100.8, 1.0)]))
    assert [p for p, _ in book.top(10)[0]] == [100.5, 100.0, 99.0]
    assert [p for p, _ in book.top(10)[1]] == [100.8, 101.0, 102.0]
    assert len(book.bids) == 3 and len(book.asks) == 3
    # A deleted level does not bring back one that was truncated away.
    book.apply(delta(2, 3, [(100.5, 0.0)]))
    assert [p for p, _ in book.top(10)[0]] == [100.0, 99.0]


def test_no_truncation_without_depth() -> None:
    book = OrderBook("test", "BTC-USDT")
    book.apply(snap(1, [(100.0 - i, 1.0) for i in range(50)], [(200.0, 1.0)]))
    assert len(book.bids) == 50
    assert len(book.top(20)[0]) == 20


def test_crossed_book_is_suspect_and_requests_resync() -> None:
    book = _live_book()
    result = book.apply(delta(10, 11, [(101.0, 1.0)]))  # bid at the best ask
    assert result.outcome is Outcome.APPLIED
    assert result.crossed and result.resync
    assert book.state is BookState.SUSPECT
    assert "crossed" in book.reason
    # Sticky until a snapshot: un-crossing does not make it LIVE again.
    assert book.apply(delta(11, 12, [(101.0, 0.0)])).outcome is Outcome.BUFFERED
    assert book.state is BookState.SUSPECT
    book.apply(snap(12, [(99.0, 1.0)], [(101.0, 1.0)]))
    assert book.state is BookState.LIVE


def test_crossed_snapshot_is_never_live() -> None:
    book = OrderBook("test", "BTC-USDT")
    result = book.apply(snap(1, [(102.0, 1.0)], [(101.0, 1.0)]))
    assert result.crossed and result.resync
    assert book.state is BookState.SUSPECT


def test_stale_book_is_suspect_until_the_next_update() -> None:
    book = _live_book()
    assert book.check_stale(now=SECOND + 5 * SECOND, max_age=10 * SECOND) is None
    result = book.check_stale(now=SECOND + 11 * SECOND, max_age=10 * SECOND)
    assert result is not None and result.outcome is Outcome.EXPIRED and result.resync
    assert book.state is BookState.SUSPECT and book.reason.startswith("stale")
    assert book.check_stale(now=SECOND + 60 * SECOND, max_age=10 * SECOND) is None  # once
    # Sequence continuity was never broken: the next in-sequence update is fresh and valid.
    result = book.apply(delta(10, 11, [(99.5, 1.0)], ts=12 * SECOND))
    assert result.outcome is Outcome.APPLIED and result.state_changed
    assert book.state is BookState.LIVE


def test_bookset_sweep_marks_only_stale_books_of_the_venue() -> None:
    books = BookSet()
    books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="a", symbol="OLD-X", ts=SECOND))
    books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="a", symbol="NEW-X", ts=9 * SECOND))
    books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="b", symbol="OLD-X", ts=SECOND))
    marked = books.check_stale(now=10 * SECOND, max_age=5 * SECOND, venue="a")
    assert [(b.venue, b.symbol) for b, _ in marked] == [("a", "OLD-X")]
    assert books.counts["a"].expired == 1


def test_venue_down_halts_every_book_of_the_venue_and_up_resyncs() -> None:
    books = BookSet()
    for symbol in ("A-X", "B-X"):
        books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], symbol=symbol))
    books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="other"))
    touched = books.apply_status(status(False))
    assert sorted(b.symbol for b, _ in touched) == ["A-X", "B-X"]
    assert all(b.state is BookState.HALTED for b, _ in touched)
    assert books.book("other", "BTC-USDT").state is BookState.LIVE
    # Deltas while down are dropped (the next connection starts from a snapshot).
    result = books.apply(delta(1, 2, [(1.5, 1.0)], symbol="A-X"))
    assert result.outcome is Outcome.DROPPED_HALTED
    books.apply_status(status(True))
    book = books.book("test", "A-X")
    assert book.state is BookState.SYNCING
    assert books.apply(delta(2, 3, symbol="A-X")).outcome is Outcome.BUFFERED
    books.apply(snap(2, [(1.0, 1.0)], [(2.0, 1.0)], symbol="A-X"))
    assert book.state is BookState.LIVE and book.seq == 3


def test_symbol_status_halts_only_that_book() -> None:
    books = BookSet()
    for symbol in ("A-X", "B-X"):
        books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], symbol=symbol))
    books.apply_status(status(False, symbol="A-X"))
    assert books.book("test", "A-X").state is BookState.HALTED
    assert books.book("test", "B-X").state is BookState.LIVE


def test_up_on_a_live_book_changes_nothing() -> None:
    book = _live_book()
    result = book.apply(status(True))
    assert result.outcome is Outcome.STATUS and not result.state_changed
    assert book.state is BookState.LIVE


def test_state_changes_are_counted() -> None:
    book = OrderBook("test", "BTC-USDT")
    book.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)]))  # SYNCING -> LIVE
    book.apply(delta(5, 6))  # LIVE -> SUSPECT
    book.apply(status(False))  # -> HALTED
    book.apply(status(True))  # -> SYNCING
    book.apply(snap(7, [(1.0, 1.0)], [(2.0, 1.0)]))  # -> LIVE
    assert book.state_changes == 5


def test_view_carries_top_levels_state_and_times() -> None:
    book = _live_book()
    view = book.view(depth=1, ts_book=42)
    assert view.state is BookState.LIVE and view.seq == 10
    assert view.bids == [(99.0, 1.0)] and view.asks == [(101.0, 1.0)]
    assert (view.ts_event, view.ts_recv, view.ts_book, view.ts_update) == (
        SECOND,
        SECOND,
        42,
        SECOND,
    )
