"""The compiled book (``arb_orderbook._native``: OrderBook and its sides) against the
pure-Python reference (``book.py``, ``sides.py``): the same state after every operation, the
same results and checksum verdicts on every recorded venue's events and on random feeds
(gaps, stale and repeated deltas, new snapshots, venue down and up, wrong checksums) of every
venue whose checksum the compiled book computes, and the switch (``ARB_NATIVE=0``) and the
build's fallback in fresh interpreters.

Without the compiled module (no compiler where setup ran) these tests skip, except in CI,
where ``make test``'s setup builds it and a missing module is a failure.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from arb_orderbook import BookSet, ChecksumSpec, OrderBook, sides
from arb_structs.market import BookDelta, BookSnapshot, LevelText, VenueStatus
from arb_venues import checksums
from arb_venues.kraken import checksum as kraken_checksum
from arb_venues.recorded import recorded_book_events, recordings
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import compiled_book_or_skip

pytestmark = pytest.mark.unit

COMPILED: Any = compiled_book_or_skip()

NATIVE_SPECS = {venue: spec for venue, spec in checksums().items() if spec.native_join}
SETTINGS = settings(max_examples=150, deadline=None)

# Prices: a small grid (so levels collide, delete and re-appear) plus any finite float.
_PRICE = st.one_of(
    st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 10.0, 99.5, 100.0, 1e-8, 65000.1]),
    st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False),
)
_SIZE = st.sampled_from([0.0, 0.0, 0.1, 1.0, 2.5, 1e-7, 300.0])
_TEXT = st.one_of(
    st.from_regex(r"\A0{0,3}[0-9]{0,6}(\.[0-9]{0,8})?\Z"),  # decimal text, leading zeros
    st.sampled_from(["7e-7", "-1.5", "0.00000000", "", "."]),
    st.text(max_size=6),  # anything, non-ASCII included (the compiled side calls the field)
)
_LEVELS = st.lists(st.tuples(_PRICE, _SIZE, st.tuples(_TEXT, _TEXT)), max_size=12)
_OPERATION = st.one_of(
    st.tuples(st.just("replace"), _LEVELS, st.booleans()),
    st.tuples(st.just("update"), _LEVELS, st.just(False)),
    st.tuples(st.just("update_with_text"), _LEVELS, st.just(True)),
    st.tuples(st.just("truncate"), st.integers(-2, 12), st.just(False)),
    st.tuples(st.just("clear"), st.just(None), st.just(False)),
)
# (field, native_field): no pieces (text kept), OKX/Bitfinex's builtin, Kraken's rule in C.
_FIELDS: dict[str, tuple[Any, str]] = {
    "text": (None, ""),
    "colon": (":".join, "colon"),
    "call": (":".join, ""),  # the side calls the venue's function
    "digits": (kraken_checksum.field, "digits"),
}


def _state(side: Any, depth: int) -> tuple[Any, ...]:
    return (
        list(side.prices), dict(side.sizes), dict(side.texts), dict(side.fields), len(side),
        side.best(), side.top(depth), side.top_text(depth),
        side.top_fields(depth) if side.field is not None else None,
    )  # fmt: skip


def _run(side: Any, operation: tuple[str, Any, bool]) -> Any:
    name, argument, with_text = operation
    if name == "truncate":
        return side.truncate(argument)
    if name == "clear":
        return side.clear()
    levels = [(price, size) for price, size, _ in argument]
    texts = [text for _, _, text in argument] if with_text else None
    if name == "replace":
        return side.replace(levels, texts)
    if name == "update":
        return side.update(levels)
    return side.update_with_text(levels, texts)


@SETTINGS
@given(
    kind=st.sampled_from(["bid", "ask"]),
    fields=st.sampled_from(sorted(_FIELDS)),
    operations=st.lists(_OPERATION, min_size=1, max_size=25),
    depth=st.integers(-1, 8),
)
def test_random_operations_leave_both_sides_the_same(
    kind: str, fields: str, operations: list[tuple[str, Any, bool]], depth: int
) -> None:
    field, native_field = _FIELDS[fields]
    pure = (sides.BidSide if kind == "bid" else sides.AskSide)(field)
    compiled = (COMPILED.BidSide if kind == "bid" else COMPILED.AskSide)(field, native_field)
    for operation in operations:
        outcomes = []
        for side in (pure, compiled):
            try:
                outcomes.append(("ok", _run(side, operation)))
            except Exception as exc:  # both must refuse the same way
                outcomes.append(("raised", type(exc)))
        assert outcomes[0] == outcomes[1], operation
        assert _state(pure, depth) == _state(compiled, depth), operation
        assert COMPILED.pieces_in_step(compiled), operation


@SETTINGS
@given(
    bids=_LEVELS,
    asks=_LEVELS,
    venue=st.sampled_from(sorted(NATIVE_SPECS)),
    levels=st.integers(1, 30),
)
def test_compiled_checksum_equals_the_venues_from_fields(
    bids: list[tuple[float, float, LevelText]],
    asks: list[tuple[float, float, LevelText]],
    venue: str,
    levels: int,
) -> None:
    """The compiled join + CRC-32 is the venue's ``from_fields`` over the same pieces."""
    spec = NATIVE_SPECS[venue]
    bid_side = COMPILED.BidSide(spec.field, spec.native_field)
    ask_side = COMPILED.AskSide(spec.field, spec.native_field)
    bid_side.replace([(p, s) for p, s, _ in bids], [t for _, _, t in bids])
    ask_side.replace([(p, s) for p, s, _ in asks], [t for _, _, t in asks])
    expected = spec.from_fields(bid_side.top_fields(levels), ask_side.top_fields(levels))  # type: ignore[misc]
    computed = COMPILED.checksum(bid_side, ask_side, levels, spec.native_join, spec.native_signed)
    assert computed == expected


@pytest.mark.parametrize("venue", sorted(NATIVE_SPECS))
def test_a_checksum_of_long_pieces_is_the_venues(venue: str) -> None:
    """Long pieces, 30 levels a side and one piece of 1,500 bytes: the compiled CRC (which
    reads an ASCII piece's bytes in place) is still the venue's own."""
    spec = NATIVE_SPECS[venue]
    bid_side = COMPILED.BidSide(spec.field, spec.native_field)
    ask_side = COMPILED.AskSide(spec.field, spec.native_field)
    size = "1." + "0" * 40 + "7"
    bid_side.replace([(100.0 - i, 1.0) for i in range(30)],
                     [(f"{100 - i}.5", size) for i in range(30)])  # fmt: skip
    ask_side.replace([(101.0 + i, 1.0) for i in range(30)],
                     [(f"{101 + i}.5", "2." + "3" * 1500 if i == 3 else size)
                      for i in range(30)])  # fmt: skip
    for levels in (1, 10, 25, 30):
        expected = spec.from_fields(bid_side.top_fields(levels), ask_side.top_fields(levels))  # type: ignore[misc]
        got = COMPILED.checksum(bid_side, ask_side, levels, spec.native_join, spec.native_signed)
        assert got == expected, levels


def test_a_level_without_its_piece_leaves_the_checksum_to_python() -> None:
    spec = NATIVE_SPECS["kraken"]
    bids, asks = COMPILED.BidSide(spec.field, "digits"), COMPILED.AskSide(spec.field, "digits")
    bids.update([(1.0, 2.0)])  # no text: no piece
    assert COMPILED.checksum(bids, asks, 10, spec.native_join, False) is None


@SETTINGS
@given(text=st.tuples(_TEXT, _TEXT))
def test_digits_piece_is_krakens_field(text: LevelText) -> None:
    piece = COMPILED.digits_field(text)
    assert piece is None or piece == kraken_checksum.field(text)
    if text[0].isascii() and text[1].isascii():
        assert piece is not None
    assert COMPILED.colon_field(text) == ":".join(text)


_NUMBER_TEXT = st.one_of(
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{0,12})?([eE][+-]?[0-9]{0,4})?\Z"),
    st.sampled_from(["NaN", "Infinity", "-inf", "1e400", "1e-400", "-0", "+1", ".5", "5.",
                     "0x10", "1_000", " 1", "1 ", "", "٣", "1\x00", "00", "-", "1e", "1e+"]),
    st.text(alphabet="0123456789.-+eE", max_size=12),
    st.text(max_size=8),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    value=st.one_of(
        _NUMBER_TEXT,
        _NUMBER_TEXT.map(str.encode),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.binary(max_size=6),
    )
)
def test_compiled_number_reader_is_the_reference(value: object) -> None:
    from arb_venues.common.levels import read_number_reference

    def read(reader: Any) -> object:
        try:
            return ("ok", reader(value))
        except Exception as exc:
            return ("raised", type(exc))

    assert read(COMPILED.read_number) == read(read_number_reference)


def _bits(number: object) -> object:
    return None if number is None else struct.pack("<d", number)


# Market-like numbers: the compiled reader's short way (digits below 2 ** 53, exponent within
# 22) and the texts around its edges, which take float()'s own conversion.
_DECIMAL_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds("{}.{}".format, st.integers(0, 10**18), st.integers(0, 10**18)),
    st.builds("-{}.{:0>12}".format, st.integers(0, 10**9), st.integers(0, 10**12)),
    st.builds("{}e{}".format, st.integers(0, 10**20), st.integers(-40, 40)),
    st.sampled_from(["9007199254740992", "9007199254740993", "9007199254740991", "1e22",
                     "1e23", "1e-22", "1e-23", "0.0", "-0.0", "-0", "0e999", "5e-324",
                     "1.7976931348623157e308", "1796667711.759232", "0.00002491", "1e0005",
                     "123456789012345678e-5", "4.35", "0.1", "1e-400", "1e400"]),
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(text=_DECIMAL_TEXT)
def test_compiled_number_reader_gives_floats_exact_bits(text: str) -> None:
    expected = float(text)
    got = COMPILED.read_number(text)
    assert _bits(got) == _bits(expected if math.isfinite(expected) else None), text
    assert _bits(COMPILED.read_number(text.encode())) == _bits(got)


@given(data=st.binary(max_size=300))
def test_crc32_is_zlibs(data: bytes) -> None:
    text = data.decode("latin-1")
    assert COMPILED.crc32(text) == zlib.crc32(text.encode())


_BOOK_FIELDS = ("venue", "symbol", "seq", "depth", "state", "reason", "state_changes",
                "ts_event", "ts_recv", "ts_update", "buffer_limit", "buffer_overflows", "audit",
                "ts_audit", "buffered", "crossed", "tradable")  # fmt: skip


def _books_equal(a: Any, b: Any) -> None:
    assert [getattr(a, n) for n in _BOOK_FIELDS] == [getattr(b, n) for n in _BOOK_FIELDS]
    assert [_fields(d) for d in a._buffer] == [_fields(d) for d in b._buffer]
    assert (a.best_bid(), a.best_ask(), a.top(7)) == (b.best_bid(), b.best_ask(), b.top(7))
    assert a.view(5, 1, 2) == b.view(5, 1, 2)
    for x, y in ((a.bids, b.bids), (a.asks, b.asks)):
        assert _state(x, 10_000) == _state(y, 10_000)
        assert COMPILED.pieces_in_step(x if type(x) is not sides.BidSide else y)


def _fields(delta: Any) -> dict[str, Any]:
    """A buffered delta's fields, whatever object holds them."""
    if isinstance(delta, msgspec.Struct):
        return msgspec.structs.asdict(delta)
    return dict(vars(delta))


@pytest.mark.fixtures
def test_every_recording_gives_the_same_results_and_books(fixtures_dir: Path) -> None:
    """Every recorded venue through both books: the same result for every event (checksum
    verdicts, gaps, crossed books, levels) and the same books at the end."""
    recorded = recorded_book_events(fixtures_dir)
    assert set(recorded) == set(recordings())  # none missing
    specs = checksums()
    verified = 0
    for venue, events in recorded.items():
        compiled = BookSet(checksums=specs, native=True)
        pure = BookSet(checksums=specs, native=False)
        for event in events:
            result = compiled.apply(event)
            assert result == pure.apply(event), (venue, event.seq)
            verified += result.checksum == "ok"
        assert compiled.counts == pure.counts
        for book in compiled:
            other = pure.get(book.venue, book.symbol)
            assert type(book) is COMPILED.OrderBook and type(other) is OrderBook
            assert type(book.bids) is COMPILED.BidSide and type(other.bids) is sides.BidSide
            _books_equal(book, other)
    assert verified >= 290  # OKX's recorded checksums, all verified natively


# Random books of every venue the compiled checksum knows, each event carrying the checksum
# the venue's whole ``function`` gives for the book the event leads to (so most verify).
_TICK = st.integers(1, 60)
_SIZE_TEXT = st.sampled_from(["1", "0.5", "2.25000000", "0.00100000", "10", "3.1", "7e-7"])
_CHANGES = st.lists(st.tuples(_TICK, st.one_of(st.just("0"), _SIZE_TEXT)), max_size=8)


def _price(tick: int, ask: bool) -> str:
    return f"{100 + tick:.1f}" if ask else f"{100 - tick / 2:.1f}"


def _truth(side: dict[str, str], ask: bool) -> list[LevelText]:
    return sorted(side.items(), key=lambda level: float(level[0]), reverse=not ask)


# What happens to each message of a random feed: sent in order, sent twice (the second is
# stale), lost (the next one is a gap), a new snapshot of the true book, the venue down then
# up (HALTED, SYNCING, then a snapshot), a wrong checksum, or the book marked SUSPECT.
_FATES = st.sampled_from(
    ["send"] * 6 + ["repeat", "lose", "snapshot", "down", "wrong", "suspect", "stale"]
)


@SETTINGS
@given(
    venue=st.sampled_from([*sorted(NATIVE_SPECS), "plain"]),
    messages=st.lists(st.tuples(_CHANGES, _CHANGES, _FATES), min_size=1, max_size=14),
    depth=st.sampled_from([0, 5, 10]),
    buffer_limit=st.sampled_from([2, 5_000]),
)
def test_random_feeds_give_the_same_results_and_books(
    venue: str,
    messages: list[tuple[list[tuple[int, str]], list[tuple[int, str]], str]],
    depth: int,
    buffer_limit: int,
) -> None:
    """Each event carries the checksum the venue's whole ``function`` gives for the true book
    it leads to (so the in-order ones verify); ``plain`` is a venue without checksum or text
    (the engine's plain hot path)."""
    spec: ChecksumSpec | None = NATIVE_SPECS.get(venue)
    # The third book is compiled too, but is given each delta as another object with the same
    # attributes: the compiled book's attribute reads, not its reads of BookDelta's slots.
    books = [
        kind("v", "X-Y", checksum=spec, buffer_limit=buffer_limit)
        for kind in (COMPILED.OrderBook, OrderBook, COMPILED.OrderBook)
    ]
    truth: dict[bool, dict[str, str]] = {False: {}, True: {}}

    def top(ask: bool) -> list[LevelText]:
        return sorted(truth[ask].items(), key=lambda lv: float(lv[0]), reverse=not ask)

    def event(seq: int, texts: dict[bool, list[LevelText]], snapshot: bool, wrong: bool) -> Any:
        value = spec.function(top(False), top(True)) + wrong if spec is not None else None
        common: dict[str, Any] = {
            "venue": "v", "symbol": "X-Y", "seq": seq, "ts_event": seq, "ts_recv": seq,
            "checksum": None if snapshot and spec is None else value,
            "bids_text": texts[False] if spec is not None else None,
            "asks_text": texts[True] if spec is not None else None,
            "bids": [(float(p), float(s)) for p, s in texts[False]],
            "asks": [(float(p), float(s)) for p, s in texts[True]],
        }  # fmt: skip
        if snapshot:
            return BookSnapshot(**common, depth=depth)
        return BookDelta(**common, prev_seq=seq - 1)

    def deliver(item: Any) -> None:
        results = []
        for i, book in enumerate(books):
            try:
                if i == 2 and type(item) is BookDelta:
                    results.append(
                        book.apply_delta(SimpleNamespace(**msgspec.structs.asdict(item)))
                    )
                else:
                    results.append(book.apply(item))
            except Exception as exc:  # all must refuse the same way
                results.append(type(exc))
        assert results[0] == results[1] == results[2], item
        _books_equal(*books[:2])
        _books_equal(books[0], books[2])

    deliver(event(0, {False: [], True: []}, True, False))
    for seq, (bid_changes, ask_changes, fate) in enumerate(messages, start=1):
        texts: dict[bool, list[LevelText]] = {}
        for ask, changes in ((False, bid_changes), (True, ask_changes)):
            texts[ask] = [(_price(t, ask), s) for t, s in changes]
            for price, size in texts[ask]:
                if float(size):
                    truth[ask][price] = size
                else:
                    truth[ask].pop(price, None)
            if depth:
                truth[ask] = dict(top(ask)[:depth])
        item = event(seq, texts, False, fate == "wrong")
        if fate == "snapshot":
            item = event(seq, {False: top(False), True: top(True)}, True, False)
        if fate == "down":
            deliver(VenueStatus(venue="v", symbol="X-Y", status="down", reason="test"))
            deliver(VenueStatus(venue="v", symbol="X-Y", status="up"))
        if fate == "suspect":
            assert len({repr(book.mark_suspect("test")) for book in books}) == 1
        if fate == "stale":
            assert len({repr(book.check_stale(seq + 10, 5)) for book in books}) == 1
        if fate != "lose":
            deliver(item)
        if fate == "repeat":
            deliver(item)
        _books_equal(*books[:2])
        _books_equal(books[0], books[2])
    assert COMPILED.DELTA_SLOTS  # the first book read BookDelta's slots


_PROBE = (
    "from arb_orderbook import native, BookSet; "
    "book = BookSet().book('v', 'X-Y'); "
    "print(native.PATH, type(book).__module__, type(book.bids).__module__)"
)


def _probe(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARB_NATIVE"}
    if value is not None:
        env["ARB_NATIVE"] = value
    return subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def test_arb_native_0_runs_the_pure_sides_and_unset_the_compiled_ones() -> None:
    assert _probe("0").stdout.split() == ["pure", "arb_orderbook.book", "arb_orderbook.sides"]
    compiled = "arb_orderbook._native"
    assert _probe(None).stdout.split() == ["native", compiled, compiled]
    refused = _probe("maybe")
    assert refused.returncode != 0 and "ARB_NATIVE='maybe'" in refused.stderr


def test_the_built_module_can_be_loaded_by_any_user() -> None:
    """The container image builds it as root and runs the services as another user: the
    build leaves it readable and executable by all, as an installer leaves a library (it was
    made with mkstemp, which gives its owner alone access)."""
    mode = stat.S_IMODE(Path(COMPILED.__file__).stat().st_mode)
    assert mode & 0o555 == 0o555, oct(mode)


def test_setup_without_a_compiler_warns_once_and_succeeds() -> None:
    """The build step as ``make setup`` runs it, on a PATH with no compiler: exit 0, one
    warning line, and the module already built stays as it was."""
    target = Path(COMPILED.__file__)
    before = target.stat().st_mtime_ns
    env = {**os.environ, "PATH": "/nonexistent", "CC": ""}
    done = subprocess.run([sys.executable, "-m", "arb_orderbook.native_build", "--force"],
                          env=env, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: the compiled book was not built")
    assert "no C compiler" in lines[0] and "pure-Python book" in lines[0]
    assert target.stat().st_mtime_ns == before
