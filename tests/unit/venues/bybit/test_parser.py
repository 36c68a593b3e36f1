"""The Bybit parser on the recorded session and on the documented message shapes.

Recorded facts (fixtures/README.md): nautilus_2024-12-01_XRPUSDT_ob500.jsonl holds 1 snapshot
(500 x 500 levels) and 49 deltas, ``u`` +1 each message (20254869 -> 20254918), ``seq``
strictly increasing, the book never crossed; the 49 deltas apply with 0 gaps.
"""

from __future__ import annotations

import itertools
import json

import pytest
from arb_structs import BookDelta, BookSnapshot, MdEvent
from arb_venues.bybit import schemas
from arb_venues.bybit.parser import BybitParser
from arb_venues.errors import MalformedFrame

from tests.unit.venues.bybit.recorded import DOC_DELTA, DOC_SNAPSHOT, read_text, session_lines

pytestmark = pytest.mark.unit


class ReferenceBook:
    """The sequence rule in a few lines: drop seq <= book, apply prev_seq <= book, else gap."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.applied = self.gaps = self.stale = self.snapshots = 0
        self.crossed = 0

    def on(self, event: MdEvent) -> None:
        if isinstance(event, BookSnapshot):
            self.snapshots += 1
            self.seq, self.bids, self.asks = event.seq, dict(event.bids), dict(event.asks)
        elif isinstance(event, BookDelta):
            assert self.seq is not None, "delta before any snapshot"
            if event.seq <= self.seq:
                self.stale += 1
                return
            if event.prev_seq > self.seq:
                self.gaps += 1
                return
            for side, levels in ((self.bids, event.bids), (self.asks, event.asks)):
                for price, size in levels:
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
            self.seq = event.seq
            self.applied += 1
        if self.bids and self.asks and max(self.bids) >= min(self.asks):
            self.crossed += 1


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return session_lines()


@pytest.mark.fixtures
def test_recorded_session_is_one_full_snapshot_then_49_deltas(lines: list[str]) -> None:
    events = [e for i, line in enumerate(lines) for e in BybitParser().parse_ws(line, i)]
    snapshots = [e for e in events if isinstance(e, BookSnapshot)]
    deltas = [e for e in events if isinstance(e, BookDelta)]
    assert (len(snapshots), len(deltas)) == (1, 49)
    assert isinstance(events[0], BookSnapshot)
    snapshot = snapshots[0]
    assert (len(snapshot.bids), len(snapshot.asks)) == (500, 500)
    assert snapshot.symbol == "XRP-USDT" and snapshot.venue == "bybit"
    assert snapshot.depth == 500  # orderbook.500: the book keeps the top 500 levels
    assert snapshot.seq == 20254869 and deltas[-1].seq == 20254918
    assert snapshot.ts_event == 1733011200691 * 1_000_000
    assert snapshot.checksum is None and snapshot.bids_text is None


@pytest.mark.fixtures
def test_recorded_update_ids_go_up_by_one_and_cross_sequence_strictly_increases(
    lines: list[str],
) -> None:
    frames = [schemas.WS_FRAME.decode(line) for line in lines]
    update_ids = [f.data.u for f in frames if f.data is not None]
    cross = [f.data.seq for f in frames if f.data is not None]
    assert update_ids == list(range(20254869, 20254919))
    assert all(a < b for a, b in itertools.pairwise(cross))
    parser = BybitParser()
    deltas = [e for line in lines[1:] for e in parser.parse_ws(line, 0)]
    assert all(isinstance(d, BookDelta) and d.prev_seq == d.seq - 1 for d in deltas)


@pytest.mark.fixtures
def test_recorded_deltas_apply_without_gaps_and_the_book_never_crosses(lines: list[str]) -> None:
    book, parser = ReferenceBook(), BybitParser()
    for i, line in enumerate(lines):
        for event in parser.parse_ws(line, i):
            book.on(event)
    assert (book.snapshots, book.applied, book.gaps, book.stale) == (1, 49, 0, 0)
    assert book.crossed == 0
    assert book.seq == 20254918


@pytest.mark.fixtures
def test_levels_decode_to_the_same_floats_as_their_text(lines: list[str]) -> None:
    parser = BybitParser()
    for line in lines[:5]:
        raw = json.loads(line)["data"]
        (event,) = parser.parse_ws(line, 0)
        assert event.bids == [(float(p), float(s)) for p, s in raw["b"]]
        assert event.asks == [(float(p), float(s)) for p, s in raw["a"]]


@pytest.mark.fixtures
def test_documented_shapes_normalise_to_snapshot_then_contiguous_delta() -> None:
    parser = BybitParser()
    (snapshot,) = parser.parse_ws(read_text(DOC_SNAPSHOT), 7)
    (delta,) = parser.parse_ws(read_text(DOC_DELTA), 8)
    assert isinstance(snapshot, BookSnapshot) and isinstance(delta, BookDelta)
    assert (snapshot.symbol, snapshot.seq, snapshot.depth) == ("BTC-USDT", 123456789, 1)
    assert snapshot.bids == [(27450.0, 0.5), (27449.5, 1.0)]
    assert (delta.prev_seq, delta.seq) == (123456789, 123456790)
    assert delta.asks == [(27451.0, 0.0)]  # size 0: delete the level
    assert delta.ts_recv == 8 and delta.ts_event == 1709891679500 * 1_000_000


def _frame(kind: str, u: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    return json.dumps(
        {
            "topic": "orderbook.50.BTCUSDT",
            "ts": 1700000000000,
            "type": kind,
            "data": {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": u * 10},
            "cts": 1700000000000,
        }
    )


def test_restart_snapshot_with_u_1_resets_the_book_and_deltas_continue_from_it() -> None:
    """docs/v5/websocket/public/orderbook: "Occasionally, you'll receive "u"=1, which is a
    snapshot data due to the restart of the service. So please overwrite your local book"."""
    book, parser = ReferenceBook(), BybitParser()
    frames = [
        _frame("snapshot", 5000, [["100.0", "1"]], [["101.0", "1"]]),
        _frame("delta", 5001, [["100.5", "2"]], []),
        _frame("snapshot", 1, [["99.0", "3"]], [["99.5", "3"]]),  # lower u: a restart
        _frame("delta", 2, [], [["99.5", "0"], ["99.6", "1"]]),
    ]
    events = [e for f in frames for e in parser.parse_ws(f, 0)]
    assert [type(e).__name__ for e in events] == ["BookSnapshot", "BookDelta"] * 2
    assert events[2].seq == 1  # emitted as a snapshot whatever its u: the book resets on it
    for event in events:
        book.on(event)
    assert (book.seq, book.applied, book.gaps, book.stale) == (2, 2, 0, 0)
    assert book.bids == {99.0: 3.0} and book.asks == {99.6: 1.0}


def test_a_missing_update_id_is_a_gap_for_the_book_rule() -> None:
    book, parser = ReferenceBook(), BybitParser()
    for frame in (
        _frame("snapshot", 10, [["1", "1"]], [["2", "1"]]),
        _frame("delta", 12, [["1", "2"]], []),
    ):
        for event in parser.parse_ws(frame, 0):
            book.on(event)
    assert (book.applied, book.gaps) == (0, 1)


def test_depth_comes_from_the_topic() -> None:
    frame = _frame("snapshot", 3, [["1", "1"]], [["2", "1"]]).replace(
        "orderbook.50", "orderbook.200"
    )
    (snapshot,) = BybitParser().parse_ws(frame, 0)
    assert isinstance(snapshot, BookSnapshot) and snapshot.depth == 200


def test_a_symbol_nobody_can_normalise_is_malformed() -> None:
    frame = _frame("delta", 3, [], []).replace("BTCUSDT", "ZZZZZZ")
    with pytest.raises(MalformedFrame) as error:
        BybitParser().parse_ws(frame, 0)
    assert error.value.kind == "unknown_symbol"


def test_a_refused_subscribe_is_reported_with_the_venue_message() -> None:
    frame = (
        '{"success":false,"ret_msg":"Invalid symbol :[orderbook.50.BTCUSDX]",'
        '"conn_id":"c1","op":"subscribe"}'
    )
    with pytest.raises(MalformedFrame) as error:
        BybitParser().parse_ws(frame, 0)
    assert error.value.kind == "subscribe_rejected" and "BTCUSDX" in str(error.value)


REST_BOOK = (
    '{"retCode":0,"retMsg":"OK","result":{"s":"BTCUSDT","a":[["65557.7","16.606555"]],'
    '"b":[["65485.47","47.081829"]],"ts":1716863719031,"u":230704,"seq":1432604333,'
    '"cts":1716863718905},"retExtInfo":{},"time":1716863719382}'
)  # docs/v5/market/orderbook response example


def test_rest_orderbook_answer_is_a_snapshot_at_u() -> None:
    url = "https://api.bybit.com/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=200"
    (snapshot,) = BybitParser().parse_rest(url, REST_BOOK, 5)
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.symbol, snapshot.seq, snapshot.ts_recv) == ("BTC-USDT", 230704, 5)
    assert snapshot.bids == [(65485.47, 47.081829)] and snapshot.asks == [(65557.7, 16.606555)]
    assert BybitParser().parse_rest("https://api.bybit.com/v5/market/tickers", REST_BOOK, 5) == []


def test_rest_error_answer_is_malformed_not_a_book() -> None:
    body = '{"retCode":10001,"retMsg":"params error","result":{},"retExtInfo":{},"time":1}'
    with pytest.raises(MalformedFrame) as error:
        BybitParser().parse_rest("http://x/v5/market/orderbook?symbol=BTCUSDT", body, 0)
    assert error.value.kind == "rest_error"


@pytest.mark.parametrize("price", ["nan", "inf", "-1", "0", "abc"])
def test_levels_that_are_not_finite_positive_prices_are_malformed(price: str) -> None:
    frame = _frame("delta", 3, [[price, "1"]], [])
    with pytest.raises(MalformedFrame) as error:
        BybitParser().parse_ws(frame, 0)
    assert error.value.kind == "bad_price"
