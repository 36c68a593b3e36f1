"""The book's checksum from per-level pieces (``ChecksumSpec.field`` / ``from_fields``) against
the reference: the venue's whole ``function`` over the top levels' text, rebuilt on every
message (what the book did before it kept pieces).

The reference book here runs the same events with a spec that has no pieces, so it keeps each
level's text and calls ``function``; both must give the same checksum outcome on every
event and end with the same levels. Inputs: the OKX 2022 recording (290 real exchange
checksums), and random books and deltas for every venue whose spec has pieces, where the
venue's checksum is put on each event so that both books verify something real.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from arb_orderbook import BookSet, ChecksumCheck, ChecksumSpec, OrderBook
from arb_structs.market import BookDelta, BookSnapshot, LevelText
from arb_venues import checksums
from arb_venues.recorded import venue_book_events
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

PIECED = {venue: spec for venue, spec in checksums().items() if spec.field is not None}


def _reference(spec: ChecksumSpec) -> ChecksumSpec:
    """The same checksum without pieces: the book keeps text and calls ``function``."""
    return replace(spec, field=None, from_fields=None)


def _levels(book: OrderBook) -> tuple[object, object]:
    return book.top(10_000)


def test_every_venue_checksum_but_none_is_built_from_pieces() -> None:
    """The venues with a checksum all give pieces (the book's fast way); a new one that does
    not still works (through ``function``) but should say why here."""
    assert set(PIECED) == set(checksums())


def test_a_spec_with_half_of_the_pieces_is_refused() -> None:
    spec = PIECED["okx"]
    with pytest.raises(ValueError, match="both field and from_fields"):
        replace(spec, from_fields=None)


@pytest.mark.fixtures
def test_okx_recording_checks_the_same_with_pieces_and_with_the_whole_function(
    fixtures_dir: Path,
) -> None:
    events = venue_book_events("okx", [fixtures_dir / "okx" / "cryptofeed_OKX.ws.1.0.jsonl"])
    pieced = BookSet(checksums={"okx": PIECED["okx"]})
    reference = BookSet(checksums={"okx": _reference(PIECED["okx"])})
    outcomes = [(pieced.apply(e).checksum, reference.apply(e).checksum) for e in events]
    assert all(a is b for a, b in outcomes)
    assert [a for a, _ in outcomes].count(ChecksumCheck.OK) == 290
    for book in pieced:
        other = reference.get(book.venue, book.symbol)
        assert other is not None and _levels(book) == _levels(other)


# Prices on a tick grid (bids below 100, asks above: never crossed), sizes with varying
# decimals (the text is what the checksum reads).
_TICKS = st.integers(min_value=1, max_value=60)
_SIZE = st.sampled_from(["1", "0.5", "2.25000000", "0.00100000", "10", "3.1", "7e-7"])
_SIDE = st.dictionaries(_TICKS, _SIZE, max_size=30)
_CHANGES = st.lists(st.tuples(_TICKS, st.one_of(st.just("0"), _SIZE)), max_size=8)


def _price(tick: int, ask: bool) -> str:
    return f"{100 + tick:.1f}" if ask else f"{100 - tick / 2:.1f}"


class _Model:
    """The book as two price-text -> size-text dicts, independent of the engine's sides."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def apply(self, bids: list[LevelText], asks: list[LevelText]) -> None:
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, size in changes:
                if float(size):
                    side[price] = size
                else:
                    side.pop(price, None)
        if self.depth:
            self.bids = dict(self._best(self.bids, ask=False)[: self.depth])
            self.asks = dict(self._best(self.asks, ask=True)[: self.depth])

    @staticmethod
    def _best(side: dict[str, str], ask: bool) -> list[LevelText]:
        return sorted(side.items(), key=lambda level: float(level[0]), reverse=not ask)

    def checksum(self, spec: ChecksumSpec) -> int:
        return spec.function(self._best(self.bids, ask=False), self._best(self.asks, ask=True))


def _event(
    seq: int, bids: list[LevelText], asks: list[LevelText], checksum: int, depth: int
) -> BookSnapshot | BookDelta:
    floats = {"bids": [(float(p), float(s)) for p, s in bids],
              "asks": [(float(p), float(s)) for p, s in asks]}  # fmt: skip
    common = {"venue": "v", "symbol": "X-Y", "seq": seq, "ts_event": seq, "ts_recv": seq,
              "checksum": checksum, "bids_text": bids, "asks_text": asks, **floats}  # fmt: skip
    if seq == 1:
        return BookSnapshot(**common, depth=depth)
    return BookDelta(**common, prev_seq=seq - 1)


@settings(max_examples=80, deadline=None)
@given(
    venue=st.sampled_from(sorted(PIECED)),
    bids=_SIDE,
    asks=_SIDE,
    deltas=st.lists(st.tuples(_CHANGES, _CHANGES), max_size=12),
    depth=st.sampled_from([0, 5, 10]),
)
def test_random_books_check_the_same_with_pieces_and_with_the_whole_function(
    venue: str,
    bids: dict[int, str],
    asks: dict[int, str],
    deltas: list[tuple[list[tuple[int, str]], list[tuple[int, str]]]],
    depth: int,
) -> None:
    """Each event carries the checksum an independent model computes of the book it leads
    to (the venue's ``function`` over the model's top text), so both books must verify it:
    a piece kept wrong (a deleted, truncated or replaced level) fails the pieced book."""
    spec = PIECED[venue]
    pieced = OrderBook("v", "X-Y", checksum=spec)
    reference = OrderBook("v", "X-Y", checksum=_reference(spec))
    model = _Model(depth)
    messages = [(sorted(((_price(t, False), s) for t, s in bids.items()),
                        key=lambda level: -float(level[0])),
                 sorted(((_price(t, True), s) for t, s in asks.items()),
                        key=lambda level: float(level[0])))]  # fmt: skip
    messages += [([(_price(t, False), s) for t, s in b], [(_price(t, True), s) for t, s in a])
                 for b, a in deltas]  # fmt: skip
    for seq, (bid_text, ask_text) in enumerate(messages, start=1):
        model.apply(bid_text, ask_text)
        event = _event(seq, bid_text, ask_text, model.checksum(spec), depth)
        got, want = pieced.apply(event), reference.apply(event)
        assert got.checksum is want.checksum
        if event.checksum or not spec.zero_means_absent:
            assert got.checksum is ChecksumCheck.OK, (venue, seq, pieced.reason)
        assert _levels(pieced) == _levels(reference)
