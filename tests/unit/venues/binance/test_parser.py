"""The recorded Binance session through BinanceParser, and the book rule applied to it.

Sequence rule (DESIGN.md) with Binance's normalisation prev_seq = U - 1, seq = u equals the
docs' procedure: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
"""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest
from arb_structs import BookDelta, BookSnapshot, Instrument, MdEvent
from arb_venues.binance.parser import BinanceParser
from arb_venues.capture import Frame
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

from tests.unit.venues.binance.recorded import binance_dir_or_skip, session

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FRAMES = session(binance_dir_or_skip())


def parse_all(parser: BinanceParser, frames: list[Frame]) -> list[tuple[Frame, list[MdEvent]]]:
    out = []
    for i, frame in enumerate(frames):
        if frame.kind == "rest":
            out.append((frame, parser.parse_rest(frame.url, frame.raw, i)))
        else:
            out.append((frame, parser.parse_ws(frame.raw, i)))
    return out


class ReferenceBooks:
    """The book rule in a few lines: buffer while SYNCING, drop stale, apply, or gap."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}
        self.buffered: dict[str, list[BookDelta]] = {}
        self.counts: Counter[str] = Counter()
        self.first_applied: dict[str, tuple[BookDelta, int]] = {}

    def on(self, event: MdEvent) -> None:
        if isinstance(event, BookSnapshot):
            self.seq[event.symbol] = event.seq
            for delta in self.buffered.pop(event.symbol, []):
                self._apply(delta)
        elif isinstance(event, BookDelta):
            if event.symbol not in self.seq:
                self.buffered.setdefault(event.symbol, []).append(event)
            else:
                self._apply(event)

    def _apply(self, delta: BookDelta) -> None:
        seq = self.seq[delta.symbol]
        if delta.seq <= seq:
            self.counts["stale"] += 1
        elif delta.prev_seq <= seq:
            self.counts["applied"] += 1
            self.first_applied.setdefault(delta.symbol, (delta, seq))
            self.seq[delta.symbol] = delta.seq
        else:
            self.counts["gaps"] += 1


def test_recorded_session_has_177_diffs_and_4_snapshots_over_4_symbols() -> None:
    events = [e for _, evs in parse_all(BinanceParser(), FRAMES) for e in evs]
    deltas = [e for e in events if isinstance(e, BookDelta)]
    snapshots = [e for e in events if isinstance(e, BookSnapshot)]
    assert len(deltas) == 177
    assert len(snapshots) == 4
    assert {e.symbol for e in events} == {"NKN-USDT", "LRC-BTC", "BLZ-ETH", "RUNE-EUR"}
    assert {s.symbol for s in snapshots} == {"NKN-USDT", "LRC-BTC", "BLZ-ETH", "RUNE-EUR"}


def test_recorded_session_applies_172_diffs_with_no_gap() -> None:
    books = ReferenceBooks()
    for _, events in parse_all(BinanceParser(), FRAMES):
        for event in events:
            books.on(event)
    assert books.counts == Counter(applied=172, stale=5)
    assert books.counts["gaps"] == 0


def test_first_applied_diff_straddles_the_snapshot_update_id() -> None:
    books = ReferenceBooks()
    for _, events in parse_all(BinanceParser(), FRAMES):
        for event in events:
            books.on(event)
    assert len(books.first_applied) == 4
    for delta, last_update_id in books.first_applied.values():
        first, final = delta.prev_seq + 1, delta.seq  # U, u
        assert first <= last_update_id + 1 <= final


def test_ticker_trade_and_kline_frames_yield_nothing() -> None:
    kinds: Counter[str] = Counter()
    for frame, events in parse_all(BinanceParser(), FRAMES):
        if frame.kind == "ws" and not events:
            kinds[msgspec.json.decode(frame.raw)["stream"].split("@", 1)[1]] += 1
    assert kinds == Counter(bookTicker=84, aggTrade=2, kline_1m=2)


def test_delta_fields_come_from_the_frame() -> None:
    frame = next(f for f in FRAMES if f.kind == "ws" and "depthUpdate" in f.raw)
    data = msgspec.json.decode(frame.raw)["data"]
    [delta] = BinanceParser().parse_ws(frame.raw, 42)
    assert isinstance(delta, BookDelta)
    assert (delta.prev_seq, delta.seq) == (data["U"] - 1, data["u"])
    assert delta.ts_event == data["E"] * 1_000_000 and delta.ts_recv == 42
    assert delta.bids == [(float(p), float(q)) for p, q in data["b"]]
    assert delta.asks == [(float(p), float(q)) for p, q in data["a"]]


def test_snapshot_levels_and_seq_come_from_the_rest_body() -> None:
    frame = next(f for f in FRAMES if f.kind == "rest")
    body = msgspec.json.decode(frame.raw)
    [snap] = BinanceParser().parse_rest(frame.url, frame.raw, 7)
    assert isinstance(snap, BookSnapshot)
    assert snap.seq == body["lastUpdateId"] and snap.ts_recv == 7
    assert len(snap.bids) == len(body["bids"]) and len(snap.asks) == len(body["asks"])
    assert snap.bids[0] == (float(body["bids"][0][0]), float(body["bids"][0][1]))


def test_raw_stream_frame_parses_like_the_combined_one() -> None:
    frame = next(f for f in FRAMES if f.kind == "ws" and "depthUpdate" in f.raw)
    raw = msgspec.json.encode(msgspec.json.decode(frame.raw)["data"])
    parser = BinanceParser()
    assert parser.parse_ws(raw, 1) == parser.parse_ws(frame.raw, 1)


def test_instrument_symbol_map_wins_over_the_fallback() -> None:
    odd = Instrument(venue="binance", symbol="NKNX-USDT", venue_symbol="NKNUSDT", base="NKNX",
                     quote="USDT", tick_size="0.0001", lot_size="1")  # fmt: skip
    frame = next(f for f in FRAMES if f.kind == "ws" and "NKNUSDT" in f.raw and "depthU" in f.raw)
    [delta] = BinanceParser(SymbolMap([odd])).parse_ws(frame.raw, 1)
    assert delta.symbol == "NKNX-USDT"


def test_other_rest_endpoints_yield_nothing_and_depth_needs_a_symbol() -> None:
    parser = BinanceParser()
    assert parser.parse_rest("http://x/api/v3/exchangeInfo", b"{}", 1) == []
    with pytest.raises(MalformedFrame):
        parser.parse_rest(
            "http://x/api/v3/depth?limit=5", b'{"lastUpdateId":1,"bids":[],"asks":[]}', 1
        )
    with pytest.raises(MalformedFrame):
        parser.parse_rest("http://x/api/v3/depth?symbol=BNBBTC", b'{"bids":[],"asks":[]}', 1)
