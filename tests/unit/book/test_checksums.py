"""Venue checksum functions against the worked examples of fixtures/CHECKSUMS.md, and the
book's use of them (verified after the whole message, from the venue's exact text). The
functions live with their venue (arb_venues.<venue>.checksum); the engine gets them from the
registry (arb_venues.checksums())."""

from __future__ import annotations

import zlib

import pytest
from arb_orderbook import BookSet, ChecksumCheck, OrderBook
from arb_structs.market import BookState
from arb_venues import VENUE_NAMES, checksums, get_venue
from arb_venues.common.checksum import interleaved_crc32
from arb_venues.kraken.checksum import CHECKSUM as KRAKEN
from arb_venues.kraken.checksum import checksum as kraken_checksum
from arb_venues.okx.checksum import CHECKSUM as OKX
from arb_venues.okx.checksum import checksum as okx_checksum

from tests.unit.book.factory import delta, snap

pytestmark = pytest.mark.unit


def test_okx_worked_examples() -> None:
    """Old OKEx v3 docs' examples (CHECKSUMS.md section 1)."""
    assert okx_checksum([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")]) == (
        -1881014294
    )
    assert okx_checksum([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")]) == (
        831078360
    )


def test_okx_fails_on_a_one_digit_change() -> None:
    assert okx_checksum([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "9")]) != (
        -1881014294
    )
    # The text matters, not the value: "3366.10" is the same number but another checksum.
    assert okx_checksum([("3366.10", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")]) != (
        -1881014294
    )


# Kraken v2 docs' worked example: top 10 asks ascending, top 10 bids descending, as sent.
KRAKEN_ASKS = [
    ("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
    ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
    ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
    ("45299.5", "0.18772827"),
]  # fmt: skip
KRAKEN_BIDS = [
    ("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
    ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
    ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
    ("45276.6", "0.15445238"),
]  # fmt: skip
KRAKEN_STRING = (
    "452852100000452864154571953452866154571109452896154560911452902158906604529181545534914529"
    "474454749452961353800004529759945542452995187728274528351000000045283415458201545282110000"
    "000452810100000004528031545925864527907990000452776331010345277530000000452773154602737452"
    "76615445238"
)


def test_kraken_v2_worked_example() -> None:
    """docs.kraken.com/api/docs/guides/spot-ws-book-v2 (CHECKSUMS.md section 3)."""
    assert len(KRAKEN_STRING) == 281
    assert zlib.crc32(KRAKEN_STRING.encode()) == 3310070434
    assert kraken_checksum(KRAKEN_BIDS, KRAKEN_ASKS) == 3310070434


def test_kraken_fails_on_a_one_digit_change() -> None:
    changed = [*KRAKEN_ASKS[:4], ("45290.2", "0.15890661"), *KRAKEN_ASKS[5:]]
    assert kraken_checksum(KRAKEN_BIDS, changed) != 3310070434
    # Only the top 10 count: an 11th level changes nothing.
    assert kraken_checksum([*KRAKEN_BIDS, ("1.0", "1.0")], KRAKEN_ASKS) == 3310070434


def test_kraken_strips_dot_and_leading_zeros() -> None:
    """Doc example: '0.05000' -> '005000' -> '5000'."""
    assert kraken_checksum([], [("0.05000", "0.00000500")]) == zlib.crc32(b"5000500")


def test_interleaved_crc_keeps_ask_amounts_negative_as_sent() -> None:
    """Bitfinex's book checksum (CHECKSUMS.md): the same interleaving as OKX, over the exact
    text, ask amounts negative; the building block a Bitfinex checksum.py uses."""
    bids = [("7254.1", "0.5"), ("7254", "1.2")]
    asks = [("7254.2", "-0.3")]
    expected = zlib.crc32(b"7254.1:0.5:7254.2:-0.3:7254:1.2")
    assert interleaved_crc32(bids, asks, 25) == expected - 2**32 * (expected >= 2**31)
    assert interleaved_crc32(bids, [("7254.2", "0.3")], 25) != interleaved_crc32(bids, asks, 25)


def test_registry_holds_each_venue_checksum_from_its_spec() -> None:
    registry = checksums()
    assert registry["okx"] is OKX and OKX.function is okx_checksum and OKX.levels == 25
    assert registry["kraken"] is KRAKEN and KRAKEN.levels == 10
    assert set(registry) == {v for v in VENUE_NAMES if get_venue(v).checksum is not None}
    assert "binance" not in registry
    assert checksums(["okx"]) == {"okx": OKX}


def test_bookset_verifies_only_the_checksums_it_was_given() -> None:
    """The engine knows no venue: a venue left out of the registry is not checksum-checked."""
    event = snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="okx", checksum=12345,
                 bids_text=[("1.0", "1.0")], asks_text=[("2.0", "1.0")])  # fmt: skip
    assert BookSet(checksums=checksums()).apply(event).checksum is ChecksumCheck.FAILED
    assert BookSet().apply(event).checksum is ChecksumCheck.NOT_CHECKED


def _okx_book() -> OrderBook:
    book = OrderBook("okx", "BTC-USD", checksum=OKX)
    bids_text = [("3366.1", "7"), ("3366", "6")]
    asks_text = [("3366.8", "9"), ("3368", "8")]
    book.apply(
        snap(1, [(3366.1, 7.0), (3366.0, 6.0)], [(3366.8, 9.0), (3368.0, 8.0)], venue="okx",
             checksum=-1881014294, bids_text=bids_text, asks_text=asks_text)
    )  # fmt: skip
    assert book.state is BookState.LIVE
    return book


def test_checksum_is_verified_after_the_whole_message_from_kept_text() -> None:
    book = _okx_book()
    # Delete bid 3366 and add ask 3372: the second worked example's book, and only right
    # once both changes are in (and with the text kept from the snapshot for 3366.1 etc.).
    result = book.apply(
        delta(1, 2, [(3366.0, 0.0)], [(3372.0, 8.0)], venue="okx", checksum=831078360,
              bids_text=[("3366", "0")], asks_text=[("3372", "8")])
    )  # fmt: skip
    assert result.checksum is ChecksumCheck.OK
    assert book.state is BookState.LIVE


def test_checksum_mismatch_marks_book_suspect_and_requests_resync() -> None:
    book = _okx_book()
    result = book.apply(
        delta(1, 2, [], [(3372.0, 8.0)], venue="okx", checksum=831078360,
              asks_text=[("3372", "8")])
    )  # fmt: skip
    assert result.checksum is ChecksumCheck.FAILED and result.resync
    assert book.state is BookState.SUSPECT
    assert "venue sent 831078360" in book.reason and "book computes" in book.reason


def test_okx_checksum_zero_is_absent() -> None:
    """OKX sends checksum 0 in production since 2026-06-23 (CHECKSUMS.md section 1)."""
    book = _okx_book()
    result = book.apply(
        delta(1, 2, [(3366.5, 1.0)], venue="okx", checksum=0, bids_text=[("3366.5", "1")])
    )
    assert result.checksum is ChecksumCheck.NOT_CHECKED
    assert book.state is BookState.LIVE


def test_kraken_checksum_zero_is_still_checked() -> None:
    book = OrderBook("kraken", "BTC-USD", checksum=KRAKEN)
    result = book.apply(
        snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="kraken", checksum=0,
             bids_text=[("1.0", "1.0")], asks_text=[("2.0", "1.0")])
    )  # fmt: skip
    assert result.checksum is ChecksumCheck.FAILED


def test_checksums_can_be_turned_off() -> None:
    book = OrderBook("okx", "BTC-USD", verify_checksums=False, checksum=OKX)
    result = book.apply(snap(1, [(1.0, 1.0)], [(2.0, 1.0)], venue="okx", checksum=12345))
    assert result.checksum is ChecksumCheck.NOT_CHECKED
    assert book.state is BookState.LIVE


def test_kraken_book_truncated_to_depth_then_checksummed() -> None:
    """Subscribed depth 10: a new best bid pushes the 10th bid out; the checksum covers the
    truncated book (the test builds the expected value with the verified function)."""
    bids = [(45283.5 - i, 0.1) for i in range(10)]
    asks = [(45285.2 + i, 0.1) for i in range(10)]
    bids_text = [(f"{p:.1f}", "0.10000000") for p, _ in bids]
    asks_text = [(f"{p:.1f}", "0.10000000") for p, _ in asks]
    book = OrderBook("kraken", "BTC-USD", checksum=KRAKEN)
    first = kraken_checksum(bids_text, asks_text)
    book.apply(
        snap(1, bids, asks, venue="kraken", depth=10, checksum=first, bids_text=bids_text,
             asks_text=asks_text)
    )  # fmt: skip
    new_text = [("45284.0", "2.00000000")]
    expected = kraken_checksum([*new_text, *bids_text[:9]], asks_text)
    result = book.apply(
        delta(1, 2, [(45284.0, 2.0)], venue="kraken", checksum=expected, bids_text=new_text)
    )
    assert result.checksum is ChecksumCheck.OK
    assert len(book.bids) == 10 and book.best_bid() == (45284.0, 2.0)
