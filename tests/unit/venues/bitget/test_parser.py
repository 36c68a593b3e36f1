"""The Bitget parser and checksum against the docs' own examples
(https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel and
spot/market/Get-Orderbook), through the real book engine with the registry's checksums."""

from __future__ import annotations

import json

import pytest
from arb_orderbook.bookset import BookSet
from arb_orderbook.result import ChecksumCheck
from arb_structs import BookDelta, BookSnapshot, BookState
from arb_venues import checksums
from arb_venues.bitget.checksum import CHECKSUM, checksum
from arb_venues.bitget.parser import BitgetParser
from arb_venues.common.checksum import interleaved_text
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

from tests.unit.venues.bitget.helpers import (
    ARG,
    BTC_USDT,
    DOCS_ASKS,
    DOCS_BIDS,
    DocsBook,
    docs_session,
    reference_crc32,
)

pytestmark = pytest.mark.unit


def _parser() -> BitgetParser:
    return BitgetParser(SymbolMap([BTC_USDT]))


def test_checksum_string_is_the_docs_worked_example_with_more_than_one_level() -> None:
    bids, asks = [("43231.1", "4"), ("43231", "6")], [("43232.8", "9"), ("43232.9", "8")]
    assert interleaved_text(bids, asks) == "43231.1:4:43232.8:9:43231:6:43232.9:8"
    assert checksum(bids, asks) == reference_crc32("43231.1:4:43232.8:9:43231:6:43232.9:8")


def test_checksum_string_is_the_docs_worked_example_with_a_short_side() -> None:
    bids, asks = [("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")]
    assert interleaved_text(bids, asks) == "3366.1:7:3366.8:9:3368:8:3372:8"
    assert checksum(bids, asks) == reference_crc32("3366.1:7:3366.8:9:3368:8:3372:8")


def test_checksum_reads_the_top_25_only_and_is_signed() -> None:
    bids = [(f"{1000 - i}.5", "1.0000") for i in range(40)]
    asks = [(f"{1001 + i}.5", "2.0000") for i in range(40)]
    text = interleaved_text(bids[:25], asks[:25])
    assert checksum(bids, asks) == reference_crc32(text)
    assert CHECKSUM.levels == 25 and CHECKSUM.on_every_update
    assert checksums(["bitget"])["bitget"] is CHECKSUM
    values = {checksum([(f"{p}.1", "1")], [(f"{p}.2", "1")]) for p in range(1, 60)}
    assert any(v < 0 for v in values) and all(-(2**31) <= v < 2**31 for v in values)


def test_the_docs_push_example_parses_to_a_snapshot_with_its_text_kept() -> None:
    frame = {"action": "snapshot", "arg": ARG,
             "data": [{"asks": DOCS_ASKS, "bids": DOCS_BIDS, "seq": 123, "ts": "1695710946294"}],
             "ts": 1695710946294}  # fmt: skip
    [snap] = _parser().parse_ws(json.dumps(frame), 5)
    assert isinstance(snap, BookSnapshot) and snap.symbol == "BTC-USDT" and snap.seq == 123
    assert snap.asks == [(26274.9, 0.0009), (26275.0, 0.05)]
    assert snap.asks_text == [("26274.9", "0.0009"), ("26275.0", "0.0500")]  # as pushed
    assert snap.bids_text == [("26274.8", "0.0009"), ("26274.7", "0.0027")]
    assert snap.ts_event == 1695710946294 * 1_000_000 and snap.ts_recv == 5


def test_a_session_is_proven_by_its_checksum_on_every_update() -> None:
    snapshot, updates = docs_session()
    parser, books = _parser(), BookSet(checksums=checksums(["bitget"]))
    results = []
    for i, frame in enumerate([snapshot, *updates]):
        for event in parser.parse_ws(frame, i):
            results += [r for _, r in books.apply_event(event)]
    assert [r.checksum for r in results[1:]] == [ChecksumCheck.OK] * 4
    book = books.book("bitget", "BTC-USDT")
    assert book.state is BookState.LIVE
    assert book.top(5) == ([(26274.8, 0.01), (26274.6, 0.3)], [(26275.0, 0.04), (26275.1, 1.2)])


def test_a_wrong_checksum_makes_the_book_suspect() -> None:
    snapshot, updates = docs_session()
    bad = json.loads(updates[1])
    bad["data"][0]["checksum"] += 1
    parser, books = _parser(), BookSet(checksums=checksums(["bitget"]))
    for frame in (snapshot, updates[0], json.dumps(bad)):
        for event in parser.parse_ws(frame, 1):
            results = books.apply_event(event)
    assert results[0][1].checksum is ChecksumCheck.FAILED
    assert books.book("bitget", "BTC-USDT").state is BookState.SUSPECT


def test_a_missed_update_shows_in_the_next_checksum() -> None:
    snapshot, updates = docs_session()
    parser, books = _parser(), BookSet(checksums=checksums(["bitget"]))
    for frame in (snapshot, updates[0], updates[2]):  # updates[1] never arrived
        for event in parser.parse_ws(frame, 1):
            books.apply_event(event)
    assert books.book("bitget", "BTC-USDT").state is BookState.SUSPECT


def test_updates_link_to_the_last_seq_and_a_seq_that_does_not_rise_resyncs() -> None:
    book = DocsBook()
    parser = _parser()
    [snap] = parser.parse_ws(book.snapshot(), 1)
    [delta] = parser.parse_ws(book.update([["26274.8", "1.0000"]], [], step=40), 2)
    assert isinstance(delta, BookDelta) and (delta.prev_seq, delta.seq) == (snap.seq, 163)
    assert delta.checksum == book.checksum() and delta.bids_text == [("26274.8", "1.0000")]
    maintenance = book.update([["26274.8", "2.0000"]], [], step=-100)
    assert parser.parse_ws(maintenance, 3) == []
    assert parser.resync_needed == {"BTCUSDT"}


def test_top_n_channels_are_whole_snapshots_of_their_depth() -> None:
    frame = {"action": "snapshot", "arg": {**ARG, "channel": "books5"},
             "data": [{"asks": DOCS_ASKS, "bids": DOCS_BIDS, "seq": 9, "ts": "1"}]}  # fmt: skip
    [snap] = _parser().parse_ws(json.dumps(frame), 1)
    assert isinstance(snap, BookSnapshot) and snap.depth == 5 and snap.seq == 9


def test_an_impossible_level_is_refused_and_flags_the_book() -> None:
    snapshot, updates = docs_session()
    parser = _parser()
    parser.parse_ws(snapshot, 1)
    bad = json.loads(updates[0])
    bad["data"][0]["bids"] = [["NaN", "1"]]
    with pytest.raises(MalformedFrame) as refused:
        parser.parse_ws(json.dumps(bad), 2)
    assert refused.value.kind == "bad_price" and parser.resync_needed == {"BTCUSDT"}


def test_the_docs_rest_orderbook_example_is_a_snapshot_without_sequence() -> None:
    body = json.dumps({"code": "00000", "msg": "success", "requestTime": 1698303884579,
                       "data": {"asks": [["34567.15", "0.0131"], ["34567.25", "0.0144"]],
                                "bids": [["34567", "0.2917"], ["34566.85", "0.0145"]],
                                "ts": "1698303884584"}})  # fmt: skip
    url = "https://api.bitget.com/api/v2/spot/market/orderbook?symbol=BTCUSDT&type=step0&limit=100"
    [snap] = _parser().parse_rest(url, body, 3)
    assert isinstance(snap, BookSnapshot) and snap.seq == 0
    assert snap.bids == [(34567.0, 0.2917), (34566.85, 0.0145)]
    assert snap.asks_text == [("34567.15", "0.0131"), ("34567.25", "0.0144")]
    refused = json.dumps({"code": "40034", "msg": "Parameter BTCUSD does not exist", "data": None})
    with pytest.raises(MalformedFrame, match="40034"):
        _parser().parse_rest(url, refused, 3)
