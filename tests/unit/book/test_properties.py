"""Property tests: the engine against a naive reference (dict + sort) of the true book.

A generated *true* feed is a chain of deltas (seq steps of 1-3, ``prev_seq`` = the previous
``seq``, as Binance's ``U-1``/``u``) with the true book after each one kept as plain dicts.
It is then *delivered* the way real feeds misbehave: deltas arrive before the snapshot
(buffered), the snapshot is from some earlier point (Binance REST), deltas repeat (stale),
adjacent deltas arrive merged (overlap), some are lost (gaps), snapshots re-arrive.

Properties:
- whenever the engine says LIVE, its top N equals the true book at the engine's seq;
- with nothing lost, the engine ends LIVE at the true final book;
- a lost delta the snapshot does not cover is always reported as a gap, and the book is
  never LIVE again without a new snapshot;
- a book is never LIVE while crossed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from arb_orderbook import OrderBook, Outcome
from arb_structs.market import BookDelta, BookSnapshot, BookState, Level
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.book.factory import delta, snap

pytestmark = pytest.mark.unit

DEPTH = 5
BID_PRICES = [float(p) for p in range(1, 21)]
ASK_PRICES = [float(p) for p in range(21, 41)]
SIZES = st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.25, 3.0])
SETTINGS = settings(max_examples=100, deadline=None)


def _changes(prices: list[float]) -> st.SearchStrategy[list[Level]]:
    return st.lists(st.tuples(st.sampled_from(prices), SIZES), max_size=4)


def _reference_top(side: dict[float, float], descending: bool) -> list[Level]:
    """The naive reference: sort everything on every question."""
    return sorted(side.items(), key=lambda level: level[0], reverse=descending)[:DEPTH]


def _apply_changes(side: dict[float, float], changes: list[Level]) -> None:
    for price, size in changes:
        if size:
            side[price] = size
        else:
            side.pop(price, None)


@dataclass
class Feed:
    truth: dict[int, tuple[dict[float, float], dict[float, float]]]  # seq -> (bids, asks)
    events: list[BookSnapshot | BookDelta]
    final_seq: int
    needed_drop: bool = False  # a lost delta that no snapshot covers
    kinds: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    useful: int = 0  # deltas that must be applied (not stale): sent or merged, newer than k


@st.composite
def feeds(draw: st.DrawFn, *, drops: bool, resnapshots: bool) -> Feed:
    seq = draw(st.integers(0, 1_000))
    bids = {p: s for p, s in draw(_changes(BID_PRICES)) if s}
    asks = {p: s for p, s in draw(_changes(ASK_PRICES)) if s}
    truth = {seq: (dict(bids), dict(asks))}
    seqs = [seq]
    chain: list[BookDelta] = []
    for _ in range(draw(st.integers(1, 20))):
        prev, seq = seq, seq + draw(st.integers(1, 3))
        bid_changes, ask_changes = draw(_changes(BID_PRICES)), draw(_changes(ASK_PRICES))
        _apply_changes(bids, bid_changes)
        _apply_changes(asks, ask_changes)
        truth[seq] = (dict(bids), dict(asks))
        seqs.append(seq)
        chain.append(delta(prev, seq, bid_changes, ask_changes))

    def snapshot_at(index: int) -> BookSnapshot:
        b, a = truth[seqs[index]]
        return snap(seqs[index], sorted(b.items(), reverse=True), sorted(a.items()))

    # Deltas 0..m-1 arrive before the first snapshot, which shows the book after delta k-1.
    m = draw(st.integers(0, len(chain)))
    k = draw(st.integers(0, m))
    events: list[BookSnapshot | BookDelta] = []
    kinds: list[str] = []  # one per event
    dropped: list[int] = []  # chain indexes lost in delivery
    needed_drop = pending_drop = False
    covered = seqs[k]  # the newest seq a snapshot delivered so far accounts for
    i = 0
    snapshot_sent = False
    while i < len(chain):
        if i >= m and not snapshot_sent:
            events.append(snapshot_at(k))
            kinds.append("snapshot")
            snapshot_sent = True
        action = draw(st.sampled_from(["send", "send", "send", "merge", "repeat", "drop"]))
        if action == "drop" and drops:
            if chain[i].seq > covered:
                pending_drop = True  # needed: detectable once a later delta arrives
            dropped.append(i)  # no event: the delta is lost
            i += 1
            continue
        if action == "merge" and i + 1 < len(chain):
            first, second = chain[i], chain[i + 1]
            events.append(delta(first.prev_seq, second.seq, first.bids + second.bids,
                                first.asks + second.asks))  # fmt: skip
            kinds.append("merge")
            i += 2
        else:
            events.append(chain[i])
            kinds.append("send")
            i += 1
        needed_drop = needed_drop or pending_drop
        if action == "repeat":
            events.append(chain[draw(st.integers(0, i - 1))])  # a delta again (stale)
            kinds.append("repeat")
        if resnapshots and snapshot_sent and draw(st.booleans()) and draw(st.booleans()):
            events.append(snapshot_at(i))
            kinds.append("resnapshot")
            covered = seqs[i]
    if not snapshot_sent:
        events.append(snapshot_at(k))
        kinds.append("snapshot")
    useful = sum(
        1 for event, kind in zip(events, kinds, strict=True)
        if kind in ("send", "merge") and event.seq > seqs[k]
    )  # fmt: skip
    return Feed(truth, events, seqs[-1], needed_drop, kinds, dropped, useful)


def _assert_live_means_true(book: OrderBook, feed: Feed) -> None:
    if book.state is not BookState.LIVE:
        return
    assert book.seq in feed.truth, f"LIVE at seq {book.seq}, which the feed never had"
    bids, asks = feed.truth[book.seq]
    assert book.top(DEPTH) == (_reference_top(bids, True), _reference_top(asks, False))


@SETTINGS
@given(feeds(drops=False, resnapshots=True))
def test_live_book_equals_reference_and_ends_at_the_true_book(feed: Feed) -> None:
    book = OrderBook("test", "BTC-USDT")
    applied = 0
    for event in feed.events:
        result = book.apply(event)
        assert not result.gap, feed.kinds
        applied += result.replayed + (
            isinstance(event, BookDelta) and result.outcome is Outcome.APPLIED
        )
        _assert_live_means_true(book, feed)
    # Each delta is applied once; a repeated one is always reported stale.
    assert applied == feed.useful, feed.kinds
    assert book.state is BookState.LIVE, (book.reason, feed.kinds)
    assert book.seq == feed.final_seq
    _assert_live_means_true(book, feed)


@SETTINGS
@given(feeds(drops=True, resnapshots=False))
def test_lost_delta_is_always_reported_as_a_gap(feed: Feed) -> None:
    book = OrderBook("test", "BTC-USDT")
    gap_seen = False
    for event in feed.events:
        result = book.apply(event)
        gap_seen = gap_seen or result.gap
        if gap_seen:
            assert book.state is not BookState.LIVE  # no snapshot after it in these feeds
        _assert_live_means_true(book, feed)
    if feed.needed_drop and book.seq >= 0:
        assert gap_seen, (feed.kinds, feed.dropped)


@st.composite
def crossing_feeds(draw: st.DrawFn) -> list[BookSnapshot | BookDelta]:
    prices = [float(p) for p in range(1, 11)]  # one grid for both sides: books can cross
    events: list[BookSnapshot | BookDelta] = []
    seq = 0
    for _ in range(draw(st.integers(1, 25))):
        changes_b, changes_a = draw(_changes(prices)), draw(_changes(prices))
        if draw(st.integers(0, 5)) == 0:
            events.append(snap(seq, [c for c in changes_b if c[1]], [c for c in changes_a if c[1]]))
        else:
            prev = seq + (draw(st.integers(0, 9)) == 0)  # sometimes a gap
            seq = prev + 1
            events.append(delta(prev, seq, changes_b, changes_a))
    return events


@SETTINGS
@given(crossing_feeds())
def test_book_is_never_live_while_crossed(events: list[BookSnapshot | BookDelta]) -> None:
    book = OrderBook("test", "BTC-USDT")
    for event in events:
        result = book.apply(event)
        best_bid, best_ask = book.best_bid(), book.best_ask()
        crossed = best_bid is not None and best_ask is not None and best_bid[0] >= best_ask[0]
        if crossed and result.outcome is Outcome.APPLIED:
            assert result.crossed and result.resync
        if book.state is BookState.LIVE:
            assert not crossed
