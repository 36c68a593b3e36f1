"""Coinbase market data -> normalised book events. One parser reads BOTH protocols.

Advanced Trade ``level2`` (current; frames carry ``channel``):
    https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/websocket/level2
    ``l2_data`` events of type "snapshot" / "update", levels {side bid|offer, price_level,
    new_quantity}; new_quantity is the absolute size, "0" removes the level.
    ``sequence_num`` counts every message of the CONNECTION across all channels; a jump means
    messages were lost, for every product: the parser asks the feed to resync everything
    (``resync_needed = {"*"}``) and breaks every book's counter so the book service sees the
    gap on the very next delta (prev_seq > book.seq).
legacy Coinbase Exchange ``level2`` (the 2021 recording; frames carry ``type``):
    https://docs.cdp.coinbase.com/exchange/websocket-feed
    ``snapshot`` {bids, asks: [[price, size]]} and ``l2update`` {changes: [[buy|sell, p, s]]}.

Neither protocol numbers the updates of one book, so each book gets a synthetic counter:
a snapshot takes the next number, each delta is (prev_seq=n-1, seq=n). Counters never go
backwards within a parser's life (a snapshot after a resync still carries a higher seq than
anything before), and ``reset`` breaks them instead of rewinding, so a delta that slips in
between a lost message and the fresh snapshot can never look continuous.

Selection: nothing to select. The frame's own keys say which protocol it is (``channel`` vs
``type``), so ``arb replay --venue coinbase`` runs the legacy recording and a live Advanced
Trade connection through the same parser.

Levels are checked while msgspec decodes them (``arb_venues.common.levels``: a
``new_quantity`` of "Infinity" or "inf" is refused, as are NaN, negative sizes and prices <= 0).
A snapshot must hold no size 0 and not be crossed; Coinbase does not promise an order, so
the parser sorts it. A refused book frame is a MalformedFrame of the broken rule's kind; its
product is flagged in ``resync_needed`` and its counter skips a number, so the next update is
a gap for the book service.
"""

from __future__ import annotations

import calendar
from typing import ClassVar

import msgspec
from arb_structs import BookDelta, BookSnapshot, Level, MdEvent

from arb_venues.base import FeedParser
from arb_venues.coinbase.schemas import (
    FRAME_DECODER,
    LOOSE_FRAME_DECODER,
    PRODUCT_BOOK_DECODER,
    Event,
    Frame,
)
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_level, malformed
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

VENUE = "coinbase"
# Legacy frames that carry no book data: acks, heartbeats, trades, tickers, level-3 messages.
_QUIET_TYPES = frozenset(
    {"subscriptions", "heartbeat", "ticker", "match", "last_match", "received", "open", "done",
     "change", "activate", "status"}
)  # fmt: skip


_FRACTION_SCALE = [10 ** (9 - digits) for digits in range(10)]  # ns per unit of k digits


class TimestampParser:
    """RFC 3339 UTC text ("2026-04-07T14:30:00.123456Z", up to 9 fraction digits) -> ns.

    Caches the whole-second prefix: consecutive frames almost always share it.
    """

    __slots__ = ("_prefix", "_seconds")

    def __init__(self) -> None:
        self._prefix = ""
        self._seconds = 0

    def __call__(self, text: str) -> int:
        if not text:
            return 0
        prefix = text[:19]
        if prefix != self._prefix:
            try:
                seconds = calendar.timegm(
                    (int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]),
                     int(prefix[11:13]), int(prefix[14:16]), int(prefix[17:19]), 0, 0, 0)
                )  # fmt: skip
            except ValueError:
                return 0  # a bad venue clock is not worth dropping book data for
            self._prefix, self._seconds = prefix, seconds
        nanos = 0
        if len(text) > 20 and text[19] == ".":
            digits = text[20:-1] if text[-1] == "Z" else text[20:]
            if not (digits.isdigit() and len(digits) <= 9):  # an odd suffix: digits up to it
                end = 0
                while end < len(digits) and end < 9 and digits[end].isdigit():
                    end += 1
                digits = digits[:end]
            if digits:
                nanos = int(digits) * _FRACTION_SCALE[len(digits)]
        return self._seconds * 1_000_000_000 + nanos


class CoinbaseParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._counters: dict[str, int] = {}  # venue symbol -> last synthetic seq
        self._connection_seq: int | None = None  # last Advanced Trade sequence_num
        self._ts = TimestampParser()
        self.connection_gaps = 0  # lost-message events seen (for tests and metrics)

    # -- FeedParser ---------------------------------------------------------------------------

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        """BTC-USD -> BTC-USD (Coinbase spells products BASE-QUOTE already)."""
        base, dash, quote = venue_symbol.upper().partition("-")
        if not dash or not base.isalnum() or not quote.isalnum():
            return None
        return f"{base}-{quote}"

    def reset(self, venue_symbol: str | None = None) -> None:
        if venue_symbol is None:
            self._connection_seq = None
            for name in self._counters:
                self._counters[name] += 1
        elif venue_symbol in self._counters:
            self._counters[venue_symbol] += 1

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        try:
            frame = FRAME_DECODER.decode(raw)
        except msgspec.ValidationError as exc:
            raise self._diagnose(raw, exc) from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedFrame(VENUE, "frame", str(exc)) from None
        if frame.channel:
            return self._advanced_trade(frame, ts_recv)
        kind = frame.type
        if kind == "l2update":
            return self._legacy_update(frame, ts_recv)
        if kind == "snapshot":
            return [self._legacy_snapshot(frame, ts_recv)]
        if kind == "error":
            raise MalformedFrame(VENUE, "venue_error", f"{frame.message} {frame.reason}".strip())
        if kind in _QUIET_TYPES:
            return []
        if not kind:
            raise MalformedFrame(VENUE, "frame", "neither 'channel' nor 'type' in the frame")
        return []  # Coinbase: "new message types can be added at any time"; ignore them

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        if "/product_book" not in url:
            return []
        try:
            book = PRODUCT_BOOK_DECODER.decode(body).pricebook
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a bad level included
            raise MalformedFrame(VENUE, "product_book", str(exc)) from None
        bids = [(level.price, level.size) for level in book.bids]
        asks = [(level.price, level.size) for level in book.asks]
        return [self._snapshot(book.product_id, bids, asks, self._ts(book.time), ts_recv)]

    # -- Advanced Trade -----------------------------------------------------------------------

    def _advanced_trade(self, frame: Frame, ts_recv: int) -> list[MdEvent]:
        number = frame.sequence_num
        if number >= 0:
            last = self._connection_seq
            if last is not None and number != last + 1 and number > last:
                self._lost_messages()
            if last is None or number > last:
                self._connection_seq = number
        if frame.channel != "l2_data":
            return []  # subscriptions acks, heartbeats, tickers, trades, unknown channels
        ts_event = self._ts(frame.timestamp)
        events: list[MdEvent] = []
        for event in frame.events:
            events.append(self._l2_event(event, ts_event, ts_recv))
        return events

    def _lost_messages(self) -> None:
        """A sequence_num jump: every book on the connection may have missed updates."""
        self.connection_gaps += 1
        self.resync_needed.add("*")
        for name in self._counters:
            self._counters[name] += 1

    def _l2_event(self, event: Event, ts_event: int, ts_recv: int) -> MdEvent:
        bids: list[Level] = []
        asks: list[Level] = []
        for update in event.updates:  # price and size were checked by the decoder
            price, size = update.price_level, update.new_quantity
            side = update.side
            if side == "bid":
                bids.append((price, size))
            elif side == "offer":
                asks.append((price, size))
            else:
                raise MalformedFrame(VENUE, "l2_data", f"unknown side {side!r}")
        if event.type == "update":
            return self._delta(event.product_id, bids, asks, ts_event, ts_recv)
        if event.type == "snapshot":
            return self._snapshot(event.product_id, bids, asks, ts_event, ts_recv)
        raise MalformedFrame(VENUE, "l2_data", f"unknown event type {event.type!r}")

    # -- legacy Coinbase Exchange feed ---------------------------------------------------------

    def _legacy_snapshot(self, frame: Frame, ts_recv: int) -> BookSnapshot:
        return self._snapshot(frame.product_id, list(frame.bids), list(frame.asks), 0, ts_recv)

    def _legacy_update(self, frame: Frame, ts_recv: int) -> list[MdEvent]:
        bids: list[Level] = []
        asks: list[Level] = []
        for side, price, size in frame.changes:  # price and size checked by the decoder
            if side == "buy":
                bids.append((price, size))
            elif side == "sell":
                asks.append((price, size))
            else:
                raise MalformedFrame(VENUE, "l2update", f"unknown side {side!r}")
        return [self._delta(frame.product_id, bids, asks, self._ts(frame.time), ts_recv)]

    def _diagnose(self, raw: str | bytes, exc: Exception) -> MalformedFrame:
        """Which level made msgspec refuse a frame (slow path: refused frames only). A bad
        level flags its product; any other refusal is a ``frame`` MalformedFrame."""
        try:
            loose = LOOSE_FRAME_DECODER.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return MalformedFrame(VENUE, "frame", str(exc))
        sides: list[tuple[str, str, object, bool, object, object]] = [
            (event.product_id, "updates", event.updates, event.type == "snapshot",
             "price_level", "new_quantity")
            for event in loose.events
        ]  # fmt: skip
        sides += [
            (loose.product_id, "bids", loose.bids, True, 0, 1),
            (loose.product_id, "asks", loose.asks, True, 0, 1),
            (loose.product_id, "changes", loose.changes, False, 1, 2),
        ]
        for product_id, name, levels, snapshot, price_at, size_at in sides:
            bad = find_bad_level(levels, snapshot=snapshot, price_at=price_at, size_at=size_at)
            if bad is not None:
                self._flag(product_id)
                return malformed(VENUE, bad, f"{product_id or '?'} {name}")
        return MalformedFrame(VENUE, "frame", str(exc))

    def _flag(self, product_id: str) -> None:
        """A book frame of ``product_id`` was refused: resync it, and skip a number of its
        counter so the next update is a gap, not a silent hole."""
        if not product_id:
            return
        self.resync_needed.add(product_id)
        if product_id in self._counters:
            self._counters[product_id] += 1

    # -- shared -------------------------------------------------------------------------------

    def _symbol(self, product_id: str) -> str:
        symbol = self.symbols.to_symbol(product_id)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"product {product_id!r}")
        return symbol

    def _snapshot(
        self, product_id: str, bids: list[Level], asks: list[Level], ts_event: int, ts_recv: int
    ) -> BookSnapshot:
        symbol = self._symbol(product_id)
        try:
            check_snapshot(bids, asks, sorted_by_venue=False)
        except LevelError as exc:
            self._flag(product_id)
            raise malformed(VENUE, exc, f"{product_id} snapshot") from None
        seq = self._counters.get(product_id, 0) + 1
        self._counters[product_id] = seq
        # Best first (Coinbase sends them sorted but does not promise it; a sort of sorted
        # data is linear, and snapshots are rare).
        bids = sorted(bids, key=_price, reverse=True)
        asks = sorted(asks, key=_price)
        return BookSnapshot(
            venue=VENUE, symbol=symbol, seq=seq, bids=bids, asks=asks,
            ts_event=ts_event, ts_recv=ts_recv,
        )  # fmt: skip

    def _delta(
        self, product_id: str, bids: list[Level], asks: list[Level], ts_event: int, ts_recv: int
    ) -> BookDelta:
        symbol = self._symbol(product_id)
        prev = self._counters.get(product_id, 0)
        self._counters[product_id] = prev + 1
        return BookDelta(
            venue=VENUE, symbol=symbol, prev_seq=prev, seq=prev + 1, bids=bids, asks=asks,
            ts_event=ts_event, ts_recv=ts_recv,
        )  # fmt: skip


def _price(level: Level) -> float:
    return level[0]
