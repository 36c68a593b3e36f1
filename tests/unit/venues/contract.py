"""The contract every venue's public adapter passes, driven by that venue's recorded frames.

A venue's test module defines a ContractCase and a class
``class TestContract(AdapterContract): case = CASE`` - the tests below then run for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from arb_structs import BookDelta, BookSnapshot, Instrument, MdEvent
from arb_venues import get_venue
from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import RateLimiter
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame


@dataclass(frozen=True)
class RecordedFrame:
    kind: str  # "ws" | "rest"
    raw: str
    url: str = ""


@dataclass(frozen=True)
class ContractCase:
    venue: str
    symbol: str  # normalised symbol of the recorded book
    instrument: Instrument  # for that symbol (venue_symbol as the venue spells it)
    snapshot: RecordedFrame  # a recorded snapshot of that book (WS or REST)
    deltas: list[RecordedFrame]  # recorded frames after the snapshot, in order (>= 3)
    control_frames: list[str]  # acks, pongs, heartbeats: must yield no events
    malformed_frames: list[str]  # valid-looking but wrong frames: must raise MalformedFrame
    extra_instruments: list[Instrument] = field(default_factory=list)


def _parse(parser: FeedParser, frame: RecordedFrame, ts: int) -> list[MdEvent]:
    if frame.kind == "rest":
        return parser.parse_rest(frame.url, frame.raw, ts)
    return parser.parse_ws(frame.raw, ts)


class AdapterContract:
    case: ContractCase

    @pytest.fixture
    def protocol(self) -> MarketDataProtocol:
        spec = get_venue(self.case.venue)
        return spec.market(Endpoints(ws_url="ws://127.0.0.1:1/ws", rest_url="http://127.0.0.1:1"))

    @pytest.fixture
    def parser(self, protocol: MarketDataProtocol) -> FeedParser:
        instruments = [self.case.instrument, *self.case.extra_instruments]
        return protocol.make_parser(SymbolMap(instruments))

    def _book_events(self, parser: FeedParser) -> list[MdEvent]:
        events = [e for e in _parse(parser, self.case.snapshot, 1) if e.symbol == self.case.symbol]
        for i, frame in enumerate(self.case.deltas, 2):
            events += [e for e in _parse(parser, frame, i) if e.symbol == self.case.symbol]
        return events

    def test_snapshot_parses_to_one_snapshot_best_first(self, parser: FeedParser) -> None:
        events = [e for e in _parse(parser, self.case.snapshot, 1) if e.symbol == self.case.symbol]
        snapshots = [e for e in events if isinstance(e, BookSnapshot)]
        assert len(snapshots) == 1, events
        snap = snapshots[0]
        assert snap.venue == self.case.venue and snap.ts_recv == 1
        assert snap.bids and snap.asks
        assert all(a[0] > b[0] for a, b in zip(snap.bids, snap.bids[1:], strict=False))
        assert all(a[0] < b[0] for a, b in zip(snap.asks, snap.asks[1:], strict=False))
        assert all(size > 0 for _, size in snap.bids + snap.asks)
        assert snap.bids[0][0] < snap.asks[0][0]
        for levels, text in ((snap.bids, snap.bids_text), (snap.asks, snap.asks_text)):
            if text is not None:
                assert [float(p) for p, _ in text] == [p for p, _ in levels]

    def test_deltas_continue_the_snapshot_without_gaps(self, parser: FeedParser) -> None:
        events = self._book_events(parser)
        deltas = [e for e in events if isinstance(e, BookDelta)]
        assert len(deltas) >= 3
        seq = events[0].seq if isinstance(events[0], BookSnapshot) else None
        assert seq is not None
        for delta in deltas:
            assert delta.seq > delta.prev_seq
            if delta.seq <= seq:
                continue  # stale overlap, dropped by the book
            assert delta.prev_seq <= seq, f"gap: book at {seq}, delta {delta.prev_seq}->{delta.seq}"
            seq = delta.seq

    def test_control_frames_yield_no_events(self, parser: FeedParser) -> None:
        for raw in self.case.control_frames:
            assert parser.parse_ws(raw, 1) == [], raw

    @pytest.mark.parametrize("garbage", ["{not json", "[1,2", "\x00\x01"])
    def test_garbage_raises_malformed_frame(self, parser: FeedParser, garbage: str) -> None:
        with pytest.raises(MalformedFrame):
            parser.parse_ws(garbage, 1)

    def test_wrong_shaped_frames_raise_malformed_frame(self, parser: FeedParser) -> None:
        assert self.case.malformed_frames
        for raw in self.case.malformed_frames:
            with pytest.raises(MalformedFrame):
                parser.parse_ws(raw, 1)

    def test_reset_then_snapshot_restarts_the_book(self, parser: FeedParser) -> None:
        first = self._book_events(parser)
        parser.reset(None)
        second = self._book_events(parser)
        assert [type(e) for e in second] == [type(e) for e in first]
        assert [(e.bids, e.asks) for e in second if not isinstance(e, type(None))] == [
            (e.bids, e.asks) for e in first
        ]

    def test_symbol_reset_then_snapshot_restarts_that_book_only(self, parser: FeedParser) -> None:
        """The resync path: reset one book's parser state; its next snapshot starts it again
        exactly as the first time (no leftover synthetic sequence, no stale levels)."""
        first = self._book_events(parser)
        parser.reset(self.case.instrument.venue_symbol)
        second = self._book_events(parser)
        assert [(type(e), e.bids, e.asks) for e in second] == [
            (type(e), e.bids, e.asks) for e in first
        ]
        assert isinstance(second[0], BookSnapshot)
        assert all(e.seq > e.prev_seq for e in second if isinstance(e, BookDelta))

    def test_events_carry_the_receive_time_they_were_parsed_with(self, parser: FeedParser) -> None:
        events = self._book_events(parser)
        assert events[0].ts_recv == 1
        assert [e.ts_recv for e in events[1:]] == sorted(e.ts_recv for e in events[1:])
        assert all(e.ts_recv >= 2 for e in events[1:])

    def test_rest_limits_and_heartbeat_fit_the_feed(self, protocol: MarketDataProtocol) -> None:
        """What the feed builds from the protocol: a RestClient limiter (needs "default") and
        a heartbeat that fires well before the idle timeout would drop a quiet connection."""
        limiter = RateLimiter(protocol.rest_limits)
        assert limiter.bucket("default").limit.per_second > 0
        assert protocol.subscribe_batch >= 1 and protocol.subscribe_interval_s > 0
        if protocol.heartbeat_interval_s is not None:
            assert protocol.heartbeat_interval_s < protocol.idle_timeout_s
            assert protocol.heartbeat_message()
        for version in protocol.protocol_versions:
            assert type(protocol).for_version(version).venue == protocol.venue

    def test_resync_has_a_plan(self, protocol: MarketDataProtocol) -> None:
        if protocol.snapshot_source == "rest":
            assert type(protocol).fetch_snapshot is not MarketDataProtocol.fetch_snapshot
        else:
            assert protocol.snapshot_source == "ws"
            messages = protocol.resubscribe_messages(self.case.instrument)
            assert messages
            assert any(self.case.instrument.venue_symbol.split("/")[0] in m for m in messages)

    def test_subscribe_is_staged_within_the_venue_limit(self, protocol: MarketDataProtocol) -> None:
        many = [_clone(self.case.instrument, i) for i in range(3 * protocol.subscribe_batch + 1)]
        messages = protocol.subscribe_messages(many)
        url = protocol.ws_url(many)
        if messages:
            assert len(messages) == 4, "one message per subscribe_batch symbols"
        else:
            assert all(i.venue_symbol.lower() in url.lower() for i in many)


def _clone(instrument: Instrument, i: int) -> Instrument:
    import msgspec

    return msgspec.structs.replace(
        instrument, symbol=f"C{i}-{instrument.quote}", venue_symbol=f"{instrument.venue_symbol}{i}"
    )


ParserFactory = Callable[[], FeedParser]
