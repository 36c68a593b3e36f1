"""Two snapshots of one OKX book (the WS ``snapshot`` after a subscribe and the REST one the
feed fetches, in either order, or two WS ones): the book is reset once, never rolled back
behind updates it already applied, and no false gap follows. Checked through the real
parser and the real book engine against a book model that knows every state by seqId."""

from __future__ import annotations

import json

import pytest
from arb_orderbook import BookSet
from arb_structs import BookSnapshot, MdEvent
from arb_structs.market import BookState
from arb_venues import checksums
from arb_venues.common.symbols import SymbolMap
from arb_venues.okx.parser import OkxParser

from tests.unit.venues.okx.helpers import BTC_USDT

pytestmark = pytest.mark.unit

URL = "https://www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400"


class Truth:
    """The venue's book: one bid level changes per seqId; any past state can be served."""

    def __init__(self, seq: int = 100) -> None:
        self.seq = seq
        self.bids = {f"{41000 - i}.5": f"{i + 1}" for i in range(5)}
        self.asks = {f"{41001 + i}.5": f"{i + 1}" for i in range(5)}
        self.history = {seq: (dict(self.bids), dict(self.asks))}
        self.updates: dict[int, str] = {}

    def step(self) -> str:
        prev, self.seq = self.seq, self.seq + 1
        price = f"{41000 - self.seq % 3}.5"
        size = f"{self.seq % 7 + 1}.25"
        self.bids[price] = size
        self.history[self.seq] = (dict(self.bids), dict(self.asks))
        frame = _frame("update", [[price, size, "0", "1"]], [], self.seq, prev)
        self.updates[self.seq] = frame
        return frame

    def ws_snapshot(self, seq: int) -> str:
        bids, asks = self.history[seq]
        return _frame("snapshot", _levels(bids, True), _levels(asks, False), seq, -1)

    def rest_snapshot(self, seq: int) -> str:
        bids, asks = self.history[seq]
        data = {"bids": _levels(bids, True), "asks": _levels(asks, False), "ts": "1",
                "seqId": seq}  # fmt: skip
        return json.dumps({"code": "0", "msg": "", "data": [data]})

    def levels_at(self, seq: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        bids, asks = self.history[seq]
        return (
            sorted(((float(p), float(s)) for p, s in bids.items()), reverse=True),
            sorted((float(p), float(s)) for p, s in asks.items()),
        )


def _levels(side: dict[str, str], descending: bool) -> list[list[str]]:
    rows = sorted(side.items(), key=lambda kv: float(kv[0]), reverse=descending)
    return [[p, s, "0", "1"] for p, s in rows]


def _frame(action: str, bids: list[list[str]], asks: list[list[str]], seq: int,
           prev: int) -> str:  # fmt: skip
    data = {"bids": bids, "asks": asks, "ts": "1", "checksum": 0, "seqId": seq,
            "prevSeqId": prev}  # fmt: skip
    return json.dumps(
        {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [data]}
    )


class Session:
    def __init__(self) -> None:
        self.parser = OkxParser(SymbolMap([BTC_USDT]))
        self.books = BookSet(checksums=checksums())
        self.events: list[MdEvent] = []

    def ws(self, raw: str) -> None:
        self._apply(self.parser.parse_ws(raw, 1))

    def rest(self, body: str) -> None:
        self._apply(self.parser.parse_rest(URL, body, 1))

    def _apply(self, events: list[MdEvent]) -> None:
        for event in events:
            self.events.append(event)
            self.books.apply_event(event)

    def snapshots(self) -> list[int]:
        return [e.seq for e in self.events if isinstance(e, BookSnapshot)]

    def assert_matches(self, truth: Truth) -> None:
        book = self.books.book("okx", "BTC-USDT")
        counts = self.books.counts["okx"]
        assert counts.gaps == 0 and book.state is BookState.LIVE
        assert book.seq == truth.seq
        assert book.top(50) == truth.levels_at(truth.seq)


def test_ws_then_rest_snapshot_of_the_same_state_resets_the_book_once() -> None:
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    s.rest(truth.rest_snapshot(100))
    for _ in range(3):
        s.ws(truth.step())
    assert s.snapshots() == [100] and s.parser.duplicate_snapshots == 1
    s.assert_matches(truth)


def test_rest_snapshot_behind_the_applied_updates_is_not_a_rollback_or_a_false_gap() -> None:
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    for _ in range(5):
        s.ws(truth.step())  # 101..105 applied
    s.rest(truth.rest_snapshot(103))  # the REST answer was taken before 104 and 105
    s.ws(truth.step())  # 106, prevSeqId 105
    assert s.snapshots() == [100]
    s.assert_matches(truth)


def test_rest_first_then_the_ws_snapshot_is_the_duplicate() -> None:
    truth, s = Truth(), Session()
    for _ in range(2):
        truth.step()
    s.rest(truth.rest_snapshot(102))
    s.ws(truth.ws_snapshot(102))
    s.ws(truth.step())
    assert s.snapshots() == [102] and s.parser.duplicate_snapshots == 1
    s.assert_matches(truth)


def test_rest_snapshot_ahead_of_the_stream_moves_the_book_forward() -> None:
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    s.ws(truth.step())  # 101
    frames = [truth.step() for _ in range(4)]  # 102..105 exist; the WS is behind
    s.rest(truth.rest_snapshot(104))  # newer than anything streamed: taken
    for frame in frames:
        s.ws(frame)  # 102..104 are stale for the book, 105 joins (prev 104 <= 104 < 105)
    s.ws(truth.step())
    assert s.snapshots() == [100, 104]
    s.assert_matches(truth)


def test_two_ws_snapshots_of_one_book_count_once() -> None:
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    s.ws(truth.step())
    s.ws(truth.ws_snapshot(100))  # an older duplicate, e.g. a repeated subscribe
    s.ws(truth.step())
    assert s.snapshots() == [100]
    s.assert_matches(truth)


def test_after_a_gap_the_next_snapshot_is_taken_even_at_a_seen_seq() -> None:
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    s.ws(truth.step())  # 101
    truth.step()  # 102 lost in transit
    s.ws(truth.step())  # 103: a real gap, the book turns SUSPECT
    assert s.books.counts["okx"].gaps == 1
    s.rest(truth.rest_snapshot(103))  # the resync answer
    s.ws(truth.step())
    assert s.snapshots() == [100, 103]
    book = s.books.book("okx", "BTC-USDT")
    assert book.state is BookState.LIVE and book.top(50) == truth.levels_at(truth.seq)


def test_resync_reset_takes_a_snapshot_the_unbroken_chain_already_holds() -> None:
    """A checksum failure or staleness is invisible to the parser; after reset(symbol) (the
    feed's resync) the snapshot must be taken anyway."""
    truth, s = Truth(), Session()
    s.ws(truth.ws_snapshot(100))
    s.ws(truth.step())
    s.parser.reset("BTC-USDT")
    s.rest(truth.rest_snapshot(101))
    assert s.snapshots() == [100, 101] and s.parser.duplicate_snapshots == 0
