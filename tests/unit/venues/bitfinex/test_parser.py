"""Bitfinex parser on the recorded session and on frames our simulator writes.

The recording (2021, SEQ_ALL, no checksums) must rebuild 7 books from 7 snapshots and 1,593
updates with the connection's numbers 1..1670 unbroken; a number taken out is a jump that
resyncs every book. Checksums are checked against a book rebuilt independently here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_orderbook.bookset import BookSet
from arb_structs import BookDelta, BookSnapshot
from arb_venues import checksums
from arb_venues.bitfinex.checksum import checksum
from arb_venues.bitfinex.parser import BitfinexParser
from arb_venues.bitfinex.sim.stream import SentBook
from arb_venues.errors import MalformedFrame

from tests.unit.venues.bitfinex.recorded import received, require_recording

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]
require_recording()
D = Decimal


def test_recording_gives_7_snapshots_1593_updates_and_sequence_1_to_1670() -> None:
    parser = BitfinexParser()
    snapshots = deltas = 0
    for raw in received():
        for event in parser.parse_ws(raw, 1):
            snapshots += isinstance(event, BookSnapshot)
            deltas += isinstance(event, BookDelta)
    assert (snapshots, deltas) == (7, 1593)
    assert (parser.first_sequence, parser.last_sequence, parser.sequence_gaps) == (1, 1670, 0)
    assert parser.resync_needed == set()


def test_a_lost_message_resyncs_every_book_and_the_next_update_is_a_gap() -> None:
    frames = received()
    lost = next(i for i, raw in enumerate(frames) if raw.endswith(",700]"))
    parser = BitfinexParser()
    books = BookSet(checksums=checksums(["bitfinex"]))
    gaps = 0
    for i, raw in enumerate(frames):
        if i == lost:
            continue
        for event in parser.parse_ws(raw, 1):
            gaps += sum(r.gap for _, r in books.apply_event(event))
        if i == lost + 1:
            assert parser.resync_needed == {"*"} and parser.sequence_gaps == 1
    assert gaps >= 1  # every book's next update after the hole no longer continues it


def test_recorded_exponent_text_is_kept_for_the_checksum() -> None:
    parser = BitfinexParser()
    snapshot = None
    for raw in received():
        for event in parser.parse_ws(raw, 1):
            if isinstance(event, BookSnapshot) and event.symbol == "ODE-USD":
                snapshot = event
    assert snapshot is not None and snapshot.bids_text is not None
    assert ("1.1e-7", "1000000") in snapshot.bids_text  # as sent, not repr's 1.1e-07
    assert snapshot.asks_text is not None and snapshot.asks_text[0][1].startswith("-")


def _session(sent: SentBook, book: dict[str, list[tuple[Decimal, Decimal]]]) -> list[str]:
    body = "[" + ",".join(sent.reset(book["bids"], book["asks"])) + "]"
    return ['{"event":"conf","status":"OK","flags":196608}',
            '{"event":"subscribed","channel":"book","chanId":7,"symbol":"tBTCUST","prec":"P0",'
            '"freq":"F0","len":"25","pair":"BTCUST"}',
            f"[7,{body},1]", f'[7,"cs",{sent.checksum()},2]']  # fmt: skip


def test_sim_checksums_verify_in_the_book_and_a_wrong_level_fails_them() -> None:
    sent = SentBook(25)
    bids = [(D(60000 - i), D("0.5") + D(i) / 100) for i in range(30)]
    asks = [(D(60001 + i), D("0.0000007") * (i + 1)) for i in range(30)]  # 7e-7: JS text
    frames = _session(sent, {"bids": bids, "asks": asks})
    seq = 3
    for new_bids, new_asks in ((bids[1:], asks), (bids[1:], asks[2:]),
                               ([(D(60000), D(2)), *bids[1:]], asks[2:])):  # fmt: skip
        for change in sent.update(new_bids, new_asks):
            frames.append(f"[7,{change},{seq}]")
            seq += 1
        frames.append(f'[7,"cs",{sent.checksum()},{seq}]')
        seq += 1
    parser = BitfinexParser()
    books = BookSet(checksums=checksums(["bitfinex"]))
    for raw in frames:
        for event in parser.parse_ws(raw, 1):
            books.apply_event(event)
    counts = books.counts["bitfinex"]
    assert counts.checksums_ok == 4 and counts.checksum_failures == 0 and counts.gaps == 0
    # the same stream with one amount changed on the wire: the next checksum fails
    tampered = [f.replace("[7,[59975,1,0.75]", "[7,[59975,1,0.76]") for f in frames]
    assert tampered != frames
    books = BookSet(checksums=checksums(["bitfinex"]))
    parser = BitfinexParser()
    for raw in tampered:
        for event in parser.parse_ws(raw, 1):
            books.apply_event(event)
    assert books.counts["bitfinex"].checksum_failures >= 1


def test_checksum_is_the_signed_crc_of_the_docs_interleaving() -> None:
    import zlib

    bids = [("7254.7", "3.3"), ("7254.6", "2")]
    asks = [("7255", "-1.5")]
    text = "7254.7:3.3:7255:-1.5:7254.6:2"
    crc = zlib.crc32(text.encode())
    assert checksum(bids, asks) == (crc - (1 << 32) if crc >= 1 << 31 else crc)


@pytest.mark.parametrize(
    "frame, kind",
    [
        ("[7,[NaN,1,1],3]", "json"),
        ("[7,[60000,1,1e400],3]", "bad_size"),
        ('[7,["60000",1,1],3]', "bad_price"),
        ("[7,[0,1,1],3]", "bad_price"),
        ("[7,[60000,1],3]", "level"),
    ],
)
def test_impossible_levels_are_refused_and_flag_their_book(frame: str, kind: str) -> None:
    parser = BitfinexParser()
    for raw in _session(SentBook(25), {"bids": [(D(1), D(1))], "asks": [(D(2), D(1))]}):
        parser.parse_ws(raw, 1)
    with pytest.raises(MalformedFrame) as refused:
        parser.parse_ws(frame, 1)
    assert refused.value.kind == kind
    if kind != "json":
        assert "tBTCUST" in parser.resync_needed


def test_updates_after_a_reset_wait_for_the_next_snapshot() -> None:
    parser = BitfinexParser()
    frames = _session(SentBook(25), {"bids": [(D(1), D(1))], "asks": [(D(2), D(1))]})
    for raw in frames:
        parser.parse_ws(raw, 1)
    parser.reset("tBTCUST")
    assert parser.parse_ws("[7,[1,1,3],3]", 1) == []
    assert parser.channel_of("tBTCUST") == 7  # the resubscribe unsubscribes this channel
    snapshot = parser.parse_ws("[7,[[1,1,2],[2,1,-1]],4]", 1)
    assert isinstance(snapshot[0], BookSnapshot)
    assert isinstance(parser.parse_ws("[7,[1,0,1],5]", 1)[0], BookDelta)
