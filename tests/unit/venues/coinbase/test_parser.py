"""CoinbaseParser on the recorded legacy session and on Advanced Trade frames.

Recorded facts (fixtures/README.md, CHECKSUMS.md): cryptofeed_COINBASE.ws.28.0.jsonl holds 10
snapshots + 9,719 l2update over 10 products; replayed through a book they all apply and the
book is never crossed.
"""

from __future__ import annotations

from collections import Counter

import pytest
from arb_structs import BookDelta, BookSnapshot, MdEvent
from arb_venues.coinbase.parser import CoinbaseParser, TimestampParser
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

from tests.unit.venues.coinbase.frames import (
    AT_SNAPSHOT,
    AT_UPDATE,
    FIXTURES,
    recorded_messages,
    sim_updates,
)

pytestmark = pytest.mark.unit


class ReferenceBook:
    """Dict books with the one sequence rule: drop seq <= book.seq, apply if prev_seq <=
    book.seq, else a gap. Tracks the best prices incrementally to check crossing."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}
        self.bids: dict[str, dict[float, float]] = {}
        self.asks: dict[str, dict[float, float]] = {}
        self.best: dict[str, list[float]] = {}
        self.applied = self.stale = self.gaps = self.before_snapshot = self.crossed = 0

    def apply(self, event: MdEvent) -> None:
        s = event.symbol
        if isinstance(event, BookSnapshot):
            self.seq[s] = event.seq
            self.bids[s], self.asks[s] = dict(event.bids), dict(event.asks)
            self.best[s] = [max(self.bids[s], default=0.0), min(self.asks[s], default=1e300)]
        elif isinstance(event, BookDelta):
            if s not in self.seq:
                self.before_snapshot += 1
                return
            if event.seq <= self.seq[s]:
                self.stale += 1
                return
            if event.prev_seq > self.seq[s]:
                self.gaps += 1
                return
            self.seq[s] = event.seq
            self.applied += 1
            self._levels(s, event.bids, self.bids[s], 0, max)
            self._levels(s, event.asks, self.asks[s], 1, min)
            if self.best[s][0] >= self.best[s][1]:
                self.crossed += 1

    def _levels(self, s, levels, side, index, pick) -> None:
        best = self.best[s]
        for price, size in levels:
            if size:
                side[price] = size
                if pick(price, best[index]) == price:
                    best[index] = price
            else:
                side.pop(price, None)
                if price == best[index]:
                    best[index] = pick(side, default=0.0 if index == 0 else 1e300)


@pytest.fixture(scope="module")
def legacy(fixtures_dir):
    return recorded_messages(fixtures_dir)


@pytest.mark.fixtures
def test_recorded_session_counts_10_snapshots_and_9719_updates_over_10_products(legacy):
    parser = CoinbaseParser()
    events = [e for raw in legacy for e in parser.parse_ws(raw, 1)]
    kinds = Counter(type(e).__name__ for e in events)
    assert kinds == {"BookSnapshot": 10, "BookDelta": 9719}
    assert len({e.symbol for e in events}) == 10
    assert all(e.ts_event > 0 for e in events if isinstance(e, BookDelta))


@pytest.mark.fixtures
def test_recorded_session_replays_without_gaps_and_is_never_crossed(legacy):
    parser = CoinbaseParser()
    book = ReferenceBook()
    for raw in legacy:
        for event in parser.parse_ws(raw, 1):
            book.apply(event)
    assert (book.applied, book.gaps, book.stale, book.before_snapshot) == (9719, 0, 0, 0)
    assert book.crossed == 0
    for symbol in book.seq:
        bids, asks = book.bids[symbol], book.asks[symbol]
        assert max(bids) < min(asks), symbol


@pytest.mark.fixtures
def test_recorded_snapshots_are_best_first_and_keep_every_level(legacy):
    parser = CoinbaseParser()
    raw = next(m for m in legacy if m.startswith('{"type":"snapshot"'))
    (snap,) = parser.parse_ws(raw, 7)
    assert isinstance(snap, BookSnapshot)
    assert snap.symbol == "BAND-GBP" and snap.ts_event == 0 and snap.ts_recv == 7
    assert (len(snap.bids), len(snap.asks)) == (152, 166)
    assert snap.asks[0] == (14.8024, 12.77)
    assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)


@pytest.mark.fixtures
def test_advanced_trade_example_frames_give_snapshot_then_continuous_delta():
    parser = CoinbaseParser()
    (snap,) = parser.parse_ws((FIXTURES / AT_SNAPSHOT).read_bytes(), 1)
    (delta,) = parser.parse_ws((FIXTURES / AT_UPDATE).read_bytes(), 2)
    assert isinstance(snap, BookSnapshot) and isinstance(delta, BookDelta)
    assert snap.bids[0] == (68900.0, 1.5) and snap.asks[0] == (68901.0, 0.5)
    assert (delta.prev_seq, delta.seq) == (snap.seq, snap.seq + 1)
    assert delta.bids == [(68900.0, 2.0)] and delta.asks == [(68901.0, 0.0)]
    assert delta.ts_event == 1775572201456789000  # 2026-04-07T14:30:01.456789Z
    assert not parser.resync_needed


def _at_parser() -> tuple[CoinbaseParser, BookSnapshot]:
    parser = CoinbaseParser()
    (snap,) = parser.parse_ws((FIXTURES / AT_SNAPSHOT).read_bytes(), 1)  # sequence_num 0
    assert isinstance(snap, BookSnapshot)
    return parser, snap


@pytest.mark.fixtures
def test_sequence_num_jump_resyncs_every_book_and_the_book_rule_sees_a_gap():
    parser, snap = _at_parser()
    book = ReferenceBook()
    book.apply(snap)
    skipped = sim_updates(first_sequence_num=2)  # sequence_num 1 never arrives
    (delta,) = parser.parse_ws(skipped[0], 2)
    assert parser.resync_needed == {"*"} and parser.connection_gaps == 1
    assert delta.prev_seq > snap.seq  # not continuous: the book must not apply it
    book.apply(delta)
    assert book.gaps == 1 and book.applied == 0
    # the resync's fresh snapshot restarts continuity
    (fresh,) = parser.parse_ws((FIXTURES / AT_SNAPSHOT).read_bytes().replace(
        b'"sequence_num": 0', b'"sequence_num": 3'), 3)  # fmt: skip
    (after,) = parser.parse_ws(sim_updates(first_sequence_num=4)[0], 4)
    assert fresh.seq > delta.seq and (after.prev_seq, after.seq) == (fresh.seq, fresh.seq + 1)
    assert parser.connection_gaps == 1


@pytest.mark.fixtures
def test_contiguous_sequence_nums_across_channels_are_not_a_gap():
    parser, _ = _at_parser()
    heartbeat = (
        '{"channel":"heartbeats","client_id":"","timestamp":"2026-04-07T14:30:00Z",'
        '"sequence_num":1,"events":[{"current_time":"x","heartbeat_counter":"1"}]}'
    )
    assert parser.parse_ws(heartbeat, 2) == []
    parser.parse_ws(sim_updates(first_sequence_num=2)[0], 3)
    assert not parser.resync_needed and parser.connection_gaps == 0


@pytest.mark.fixtures
def test_reset_after_reconnect_forgets_the_connection_sequence_but_never_rewinds_books():
    parser, snap = _at_parser()
    parser.reset(None)
    (delta,) = parser.parse_ws(sim_updates(first_sequence_num=7)[0], 2)
    assert not parser.resync_needed  # a new connection starts its own numbering
    assert delta.prev_seq > snap.seq  # but a delta before the new snapshot is not continuous


@pytest.mark.fixtures
def test_reset_of_one_symbol_breaks_only_that_book():
    parser = CoinbaseParser()
    parser.parse_ws(
        '{"type":"snapshot","product_id":"A-USD","bids":[["1","1"]],"asks":[["2","1"]]}', 1
    )
    parser.parse_ws(
        '{"type":"snapshot","product_id":"B-USD","bids":[["1","1"]],"asks":[["2","1"]]}', 1
    )
    parser.reset("A-USD")
    a = parser.parse_ws('{"type":"l2update","product_id":"A-USD","changes":[["buy","1","2"]]}', 2)[
        0
    ]
    b = parser.parse_ws('{"type":"l2update","product_id":"B-USD","changes":[["buy","1","2"]]}', 2)[
        0
    ]
    assert (a.prev_seq, b.prev_seq) == (2, 1)


def test_venue_error_frame_is_reported_not_swallowed():
    parser = CoinbaseParser()
    with pytest.raises(MalformedFrame) as caught:
        parser.parse_ws('{"type":"error","message":"authentication failure"}', 1)
    assert caught.value.kind == "venue_error" and "authentication failure" in str(caught.value)


def test_unknown_message_types_and_channels_are_ignored():
    parser = CoinbaseParser()
    assert parser.parse_ws('{"type":"brand_new_thing","product_id":"BTC-USD"}', 1) == []
    assert parser.parse_ws('{"channel":"ticker","sequence_num":0,"events":[{"type":"snapshot",'
                           '"tickers":[{"price":"1"}]}]}', 1) == []  # fmt: skip


def test_product_id_that_is_no_coinbase_product_is_malformed():
    parser = CoinbaseParser(SymbolMap())  # no reference data: Coinbase's own BASE-QUOTE rule
    assert parser.parse_ws('{"type":"l2update","product_id":"ETH-EUR","changes":[]}', 1)
    with pytest.raises(MalformedFrame) as caught:
        parser.parse_ws('{"type":"l2update","product_id":"ETHEUR","changes":[]}', 1)
    assert caught.value.kind == "unknown_symbol"


def test_rest_product_book_is_a_snapshot_and_other_urls_are_ignored():
    parser = CoinbaseParser()
    body = ('{"pricebook":{"product_id":"ETH-USD","bids":[{"price":"3500.1","size":"2"},'
            '{"price":"3500.2","size":"1"}],"asks":[{"price":"3500.5","size":"0.5"}],'
            '"time":"2025-01-02T03:04:05.5Z"},"last":"3500.3"}')  # fmt: skip
    (snap,) = parser.parse_rest("http://h/api/v3/brokerage/market/product_book?product_id=ETH-USD",
                                body, 9)  # fmt: skip
    assert isinstance(snap, BookSnapshot)
    assert snap.bids == [(3500.2, 1.0), (3500.1, 2.0)] and snap.asks == [(3500.5, 0.5)]
    assert snap.ts_event == 1735787045_500000000
    assert parser.parse_rest("http://h/api/v3/brokerage/market/products", "{}", 9) == []
    with pytest.raises(MalformedFrame):
        parser.parse_rest("http://h/api/v3/brokerage/market/product_book", "{}", 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-06-23T20:31:26.122969572Z", 1687552286_122969572),
        ("2021-04-17T16:43:37.075687Z", 1618677817_075687000),
        ("2021-04-17T16:43:37Z", 1618677817_000000000),
        ("2021-04-17T16:43:37.5Z", 1618677817_500000000),
        ("2021-04-17T16:43:37.123456789123Z", 1618677817_123456789),  # past ns: cut
        ("2021-04-17T16:43:37.075687+00:00", 1618677817_075687000),  # offset suffix
        ("", 0),
        ("garbage-not-a-time", 0),
    ],
)
def test_timestamps_become_integer_nanoseconds(text, expected):
    assert TimestampParser()(text) == expected


def test_normalise_accepts_coinbase_product_ids_only():
    assert CoinbaseParser.normalise("btc-usd") == "BTC-USD"
    assert CoinbaseParser.normalise("BTCUSD") is None
    assert CoinbaseParser.normalise("BTC-") is None
