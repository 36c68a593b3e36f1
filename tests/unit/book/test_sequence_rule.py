"""The one sequence rule: stale dropped, overlap applied, gap flagged, buffer-then-straddle."""

from __future__ import annotations

import pytest
from arb_orderbook import BookEventError, BookSet, ChecksumCheck, OrderBook, Outcome
from arb_structs.market import BookState

from tests.unit.book.factory import delta, snap, text

pytestmark = pytest.mark.unit


def _live_book(seq: int = 100) -> OrderBook:
    book = OrderBook("test", "BTC-USDT")
    book.apply(snap(seq, [(99.0, 1.0), (98.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)]))
    assert book.state is BookState.LIVE
    return book


def test_new_book_is_syncing_and_buffers_deltas() -> None:
    book = OrderBook("test", "BTC-USDT")
    result = book.apply(delta(10, 11, [(99.0, 1.0)]))
    assert result.outcome is Outcome.BUFFERED
    assert book.state is BookState.SYNCING
    assert book.buffered == 1
    assert book.best_bid() is None


def test_snapshot_makes_the_book_live_at_its_seq() -> None:
    book = OrderBook("test", "BTC-USDT")
    result = book.apply(snap(100, [(99.0, 1.0), (98.0, 2.0)], [(101.0, 3.0)]))
    assert result.outcome is Outcome.APPLIED
    assert result.state_changed and result.state is BookState.LIVE
    assert result.levels == 3
    assert book.seq == 100
    assert book.best_bid() == (99.0, 1.0)
    assert book.best_ask() == (101.0, 3.0)


def test_delta_at_or_below_book_seq_is_dropped_as_stale() -> None:
    book = _live_book(100)
    for seq in (99, 100):
        result = book.apply(delta(seq - 1, seq, [(99.0, 5.0)]))
        assert result.outcome is Outcome.DROPPED_STALE
        assert result.levels == 0
    assert book.best_bid() == (99.0, 1.0)
    assert book.seq == 100


def test_delta_overlapping_the_snapshot_is_applied() -> None:
    book = _live_book(100)
    # prev_seq 95 < book seq 100 < seq 103: covers the snapshot point, levels are absolute.
    result = book.apply(delta(95, 103, [(99.0, 5.0)], [(101.0, 0.0)]))
    assert result.outcome is Outcome.APPLIED
    assert result.levels == 2
    assert book.seq == 103
    assert book.best_bid() == (99.0, 5.0)
    assert book.best_ask() == (102.0, 2.0)
    assert book.state is BookState.LIVE


def test_contiguous_delta_is_applied() -> None:
    book = _live_book(100)
    result = book.apply(delta(100, 101, [(99.5, 1.0)]))
    assert result.outcome is Outcome.APPLIED
    assert book.best_bid() == (99.5, 1.0)


def test_gap_marks_book_suspect_and_requests_resync() -> None:
    book = _live_book(100)
    result = book.apply(delta(101, 102, [(99.5, 1.0)]))
    assert result.outcome is Outcome.GAP
    assert result.gap and result.resync
    assert result.previous_state is BookState.LIVE
    assert book.state is BookState.SUSPECT
    assert "gap" in book.reason and "prev_seq=101" in book.reason
    # The gapped delta was not applied; later deltas wait for the resync snapshot.
    assert book.best_bid() == (99.0, 1.0)
    follow = book.apply(delta(102, 103, [(99.6, 1.0)]))
    assert follow.outcome is Outcome.BUFFERED
    assert not follow.resync  # one request per fault; the service re-asks on its own timer
    assert book.state is BookState.SUSPECT


def test_resync_snapshot_after_gap_replays_the_deltas_that_follow_it() -> None:
    book = _live_book(100)
    book.apply(delta(101, 102, [(99.5, 1.0)]))  # gap
    book.apply(delta(102, 103, [(99.6, 1.0)]))
    book.apply(delta(103, 104, [(99.7, 1.0)]))
    result = book.apply(snap(102, [(99.5, 1.0), (99.0, 1.0)], [(101.0, 1.0)]))
    assert result.outcome is Outcome.APPLIED
    assert result.replayed == 2 and result.replay_dropped == 1
    assert book.state is BookState.LIVE
    assert book.seq == 104
    assert book.best_bid() == (99.7, 1.0)
    assert book.buffered == 0


def test_binance_buffered_diffs_first_applied_straddles_the_snapshot() -> None:
    """Binance: diffs U..u buffered, REST snapshot lastUpdateId=L: drop u <= L, the first
    applied has U <= L+1 <= u (here prev_seq = U-1 <= L). Docs: developers.binance.com/docs/
    binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly"""
    book = OrderBook("binance", "BTC-USDT")
    diffs = [(151, 155), (156, 160), (161, 165), (166, 170)]  # (U, u)
    for first, last in diffs:
        assert book.apply(delta(first - 1, last, [(float(last), 1.0)])).outcome is (
            Outcome.BUFFERED
        )
    result = book.apply(snap(158, [(100.0, 1.0)], [(200.0, 1.0)]))  # L=158 inside (156, 160)
    assert result.replay_dropped == 1  # (151, 155): u <= L
    assert result.replayed == 3  # (156, 160) straddles, then contiguous
    assert book.seq == 170 and book.state is BookState.LIVE
    assert book.best_bid() == (170.0, 1.0)


def test_buffered_diffs_that_do_not_reach_the_snapshot_leave_a_gap() -> None:
    book = OrderBook("binance", "BTC-USDT")
    book.apply(delta(160, 165, [(1.0, 1.0)]))  # U=161 > L+1=159
    result = book.apply(snap(158, [(100.0, 1.0)], [(200.0, 1.0)]))
    assert result.gap and result.resync
    assert book.state is BookState.SUSPECT
    assert book.seq == 158
    assert book.buffered == 1  # kept for the next snapshot


def test_buffer_overflow_drops_the_oldest_and_says_so() -> None:
    book = OrderBook("test", "BTC-USDT", buffer_limit=3)
    results = [book.apply(delta(i, i + 1)) for i in range(4)]
    assert [r.overflow for r in results] == [False, False, False, True]
    assert results[-1].resync and "buffer full" in results[-1].reason
    assert book.buffered == 3 and book.buffer_overflows == 1
    # The snapshot at seq 1 is bridged by the three kept deltas (1->2, 2->3, 3->4).
    result = book.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)]))
    assert result.replayed == 3 and book.seq == 4 and book.state is BookState.LIVE


def test_snapshot_resets_levels_and_seq_even_backwards() -> None:
    book = _live_book(100)
    book.apply(snap(50, [(10.0, 1.0)], [(11.0, 1.0)]))
    assert book.seq == 50
    assert book.top(5) == ([(10.0, 1.0)], [(11.0, 1.0)])


def test_size_zero_deletes_and_unknown_delete_is_harmless() -> None:
    book = _live_book(100)
    book.apply(delta(100, 101, [(99.0, 0.0), (50.0, 0.0)]))
    assert book.best_bid() == (98.0, 2.0)
    assert book.top(5)[0] == [(98.0, 2.0)]


def test_text_not_paired_with_levels_is_rejected_before_any_change() -> None:
    book = _live_book(100)
    bad = delta(100, 101, [(99.5, 1.0), (99.4, 1.0)], bids_text=[("99.5", "1")])
    with pytest.raises(BookEventError, match="bids_text has 1 entries for 2 levels"):
        book.apply(bad)
    assert book.seq == 100 and book.best_bid() == (99.0, 1.0)


def test_bookset_routes_and_counts_per_venue() -> None:
    books = BookSet()
    books.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="a", symbol="X-Y"))
    books.apply(delta(1, 2, [(1.5, 1.0)], venue="a", symbol="X-Y"))
    books.apply(delta(1, 2, [(1.5, 1.0)], venue="a", symbol="X-Y"))  # stale
    books.apply(delta(5, 6, [(1.6, 1.0)], venue="a", symbol="X-Y"))  # gap
    books.apply(delta(0, 1, venue="b", symbol="X-Y"))  # buffered
    a, b = books.counts["a"], books.counts["b"]
    assert (a.events, a.applied, a.dropped_stale, a.gaps, a.levels) == (4, 2, 1, 1, 3)
    assert a.state_changes == 2  # SYNCING -> LIVE -> SUSPECT
    assert (b.events, b.buffered) == (1, 1)
    assert len(books) == 2
    assert books.get("a", "X-Y") is not None and books.get("c", "X-Y") is None


def test_checksum_is_reported_per_message_for_a_checksum_venue() -> None:
    from arb_venues.okx.checksum import CHECKSUM, checksum

    bids, asks = [(99.0, 1.0)], [(101.0, 2.0)]
    good = checksum(text(bids), text(asks))
    book = OrderBook("okx", "BTC-USDT", checksum=CHECKSUM)
    result = book.apply(
        snap(1, bids, asks, venue="okx", checksum=good, bids_text=text(bids),
             asks_text=text(asks))
    )  # fmt: skip
    assert result.checksum is ChecksumCheck.OK and book.state is BookState.LIVE
