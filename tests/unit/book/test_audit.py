"""The book audit's matching rules (arb_orderbook.audit), against a venue book kept apart.

The "venue" is a plain dict book that applies the same deltas; its REST snapshot at a given
sequence is what a real venue's REST would answer then. The live OrderBook is fed the deltas
the venue sent (or a corrupted copy) and audited against those snapshots.
"""

from __future__ import annotations

import pytest
from arb_orderbook import BookAuditor, OrderBook
from arb_structs.market import AuditSnapshot, BookDelta, BookSnapshot, BookState, Level

pytestmark = pytest.mark.unit

VENUE, SYMBOL = "test", "BTC-USDT"


class Venue:
    """The venue's own book: absolute level updates, a REST snapshot on demand."""

    def __init__(self) -> None:
        self.seq = 10
        self.bids: dict[float, float] = {100.0 - i: 1.0 + i for i in range(30)}
        self.asks: dict[float, float] = {101.0 + i: 1.0 + i for i in range(30)}

    def snapshot(self) -> BookSnapshot:
        bids, asks = self._sides(1000)
        return BookSnapshot(venue=VENUE, symbol=SYMBOL, seq=self.seq, bids=bids, asks=asks,
                            ts_event=0, ts_recv=0)  # fmt: skip

    def audit(self, depth: int = 40, sequenced: bool = True) -> AuditSnapshot:
        bids, asks = self._sides(depth)
        return AuditSnapshot(venue=VENUE, symbol=SYMBOL, seq=self.seq if sequenced else -1,
                             bids=bids, asks=asks, ts_event=0, ts_recv=0, depth=depth)  # fmt: skip

    def delta(self, bids: list[Level], asks: list[Level], span: int = 1) -> BookDelta:
        """One WS message covering ``span`` venue updates (Binance aggregates: U..u)."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        prev = self.seq
        self.seq += span
        return BookDelta(venue=VENUE, symbol=SYMBOL, prev_seq=prev, seq=self.seq, bids=bids,
                         asks=asks, ts_event=0, ts_recv=0)  # fmt: skip

    def _sides(self, depth: int) -> tuple[list[Level], list[Level]]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return bids, asks


def live(venue: Venue) -> OrderBook:
    book = OrderBook(VENUE, SYMBOL)
    book.apply_snapshot(venue.snapshot())
    assert book.state is BookState.LIVE
    return book


def feed(auditor: BookAuditor, book: OrderBook, delta: BookDelta):
    return auditor.follow(book, delta, book.apply_delta(delta))


def test_snapshot_taken_between_deltas_is_rebuilt_to_the_book_seq_and_passes() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    assert auditor.begin(book, now=0)
    assert feed(auditor, book, venue.delta([(100.0, 7.0)], [])) is None
    rest = venue.audit()  # the venue is at 11 when REST answers
    later = [venue.delta([(99.5, 2.0)], [(101.0, 0.0)]), venue.delta([], [(101.5, 3.0)])]
    for delta in later:  # the book applied them before the REST answer arrived
        assert feed(auditor, book, delta) is None
    result = auditor.arrive(book, rest)
    assert result is not None and result.outcome == "passed" and result.seq == book.seq == 13
    assert not auditor.pending(book)


def test_a_level_the_book_holds_but_the_venue_does_not_is_a_mismatch() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    sent = venue.delta([(100.0, 7.0)], [])
    # The frame the book got says 9.0 where the venue holds 7.0; sequence unbroken.
    corrupted = BookDelta(venue=VENUE, symbol=SYMBOL, prev_seq=sent.prev_seq, seq=sent.seq,
                          bids=[(100.0, 9.0)], asks=[], ts_event=0, ts_recv=0)  # fmt: skip
    book.apply_delta(corrupted)
    auditor.begin(book, now=0)
    assert feed(auditor, book, venue.delta([], [(102.0, 5.0)])) is None
    result = auditor.arrive(book, venue.audit())
    assert result is not None and result.outcome == "mismatch"
    assert "bids level 0 is (100.0, 9.0) in the book, (100.0, 7.0) at the venue" in result.detail


def test_a_snapshot_ahead_of_the_book_waits_for_the_book_then_matches() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    auditor.begin(book, now=0)
    pending = [venue.delta([(100.0, 2.0)], []), venue.delta([(98.0, 0.0)], [])]
    rest = venue.audit()  # REST answered before the WS delivered those two
    assert auditor.arrive(book, rest) is None and auditor.pending(book)
    assert feed(auditor, book, pending[0]) is None  # the book is still behind the snapshot
    result = feed(auditor, book, pending[1])
    assert result is not None and result.outcome == "passed" and result.seq == rest.seq


def test_binance_style_message_straddling_the_snapshot_sequence_still_matches() -> None:
    """REST answered at update 11; the next WS message covers updates 11..15 (U..u) at once:
    the book never stands at 11, the rebuilt book joins it at 15 (the straddle rule)."""
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    auditor.begin(book, now=0)
    first = venue.delta([(100.0, 2.0)], [])
    rest = venue.audit()
    rest_of_it = venue.delta([(97.0, 4.0), (100.0, 6.0)], [(103.0, 0.0)], span=4)
    message = BookDelta(venue=VENUE, symbol=SYMBOL, prev_seq=first.prev_seq, seq=rest_of_it.seq,
                        bids=first.bids + rest_of_it.bids, asks=first.asks + rest_of_it.asks,
                        ts_event=0, ts_recv=0)  # fmt: skip
    assert auditor.arrive(book, rest) is None  # the book is behind the snapshot: it waits
    result = feed(auditor, book, message)
    assert result is not None and result.outcome == "passed" and result.seq == 15


def test_levels_beyond_the_snapshot_window_are_not_compared() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    # Delete the 8 best bids at the venue: the book's top 10 bids now reach past level 20.
    wipe = venue.delta([(100.0 - i, 0.0) for i in range(8)], [])
    auditor.begin(book, now=0)
    feed(auditor, book, wipe)
    result = auditor.arrive(book, venue.audit(depth=12))  # cut at 12 levels a side
    assert result is not None and result.outcome == "passed"


@pytest.mark.parametrize(
    ("case", "reason"),
    [("too_old", "too_old"), ("reset", "reset"), ("crossed", "not_live"),
     ("foreign", "timeout")],
)  # fmt: skip
def test_audits_that_cannot_be_matched_are_skipped_with_their_reason(
    case: str, reason: str
) -> None:
    venue, auditor = Venue(), BookAuditor(levels=10)
    book = live(venue)
    old = venue.audit()
    feed(auditor, book, venue.delta([(100.0, 3.0)], []))
    auditor.begin(book, now=0)
    if case == "too_old":
        result = auditor.arrive(book, old)
    elif case == "foreign":  # a REST numbered unlike the stream (Bybit's 1000-level u)
        rest = venue.audit()
        rest = AuditSnapshot(venue=VENUE, symbol=SYMBOL, seq=rest.seq + 10_000, bids=rest.bids,
                             asks=rest.asks, ts_event=0, ts_recv=0, depth=40)  # fmt: skip
        assert auditor.arrive(book, rest) is None  # the book never gets there...
        assert feed(auditor, book, venue.delta([(99.0, 1.0)], [])) is None
        [(_, result)] = auditor.expire(auditor.timeout_ns + 1)  # ...so it is never a pass
    elif case == "reset":
        result = auditor.follow(book, venue.snapshot(), book.apply_snapshot(venue.snapshot()))
    else:
        result = feed(auditor, book, venue.delta([(150.0, 1.0)], []))  # bid above every ask
    assert result is not None and (result.outcome, result.reason) == ("skipped", reason)
    assert not auditor.pending(book)


def test_content_audit_passes_on_a_recent_state_and_skips_when_none_matches() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10, content_grace=3)
    book = live(venue)
    auditor.begin(book, now=0)
    feed(auditor, book, venue.delta([(100.0, 5.0)], []))
    rest = venue.audit(sequenced=False)  # no shared sequence: compared by content
    feed(auditor, book, venue.delta([(99.0, 6.0)], []))
    result = auditor.arrive(book, rest)
    assert result is not None and result.outcome == "passed"

    auditor.begin(book, now=1)
    rest = venue.audit(sequenced=False)
    bogus = AuditSnapshot(venue=VENUE, symbol=SYMBOL, seq=-1, bids=[(100.0, 0.5)],
                          asks=rest.asks, ts_event=0, ts_recv=0, depth=40)  # fmt: skip
    assert auditor.arrive(book, bogus) is None
    results = [feed(auditor, book, venue.delta([(90.0, float(i + 1))], [])) for i in range(3)]
    assert results[:2] == [None, None] and results[2] is not None
    assert (results[2].outcome, results[2].reason) == ("skipped", "unmatched")


def test_no_snapshot_in_time_is_a_timeout_skip_and_a_late_one_is_unrequested() -> None:
    venue, auditor = Venue(), BookAuditor(levels=10, timeout_ns=1_000)
    book = live(venue)
    auditor.begin(book, now=0)
    assert auditor.expire(500) == []
    [(expired, result)] = auditor.expire(2_000)
    assert expired is book and (result.outcome, result.reason) == ("skipped", "timeout")
    late = auditor.arrive(book, venue.audit())
    assert late is not None and (late.outcome, late.reason) == ("skipped", "unrequested")
