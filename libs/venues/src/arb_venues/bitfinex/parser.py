"""Bitfinex WS v2 ``book`` (P0) frames and REST books -> normalised book events.

Protocol (https://docs.bitfinex.com/reference/ws-public-books,
https://docs.bitfinex.com/docs/ws-websocket-checksum, https://docs.bitfinex.com/reference/ws-config):
- a ``subscribed`` event maps a channel id to its symbol; channel data then come as arrays:
  ``[CHAN_ID, [[PRICE, COUNT, AMOUNT], ...]]`` (the snapshot, bids best first then asks best
  first), ``[CHAN_ID, [PRICE, COUNT, AMOUNT]]`` (one level: COUNT > 0 sets it, a bid when
  AMOUNT > 0 and an ask when AMOUNT < 0; COUNT 0 deletes it, from the bids when AMOUNT is 1 and
  from the asks when it is -1), ``[CHAN_ID, "hb"]`` (heartbeat), ``[CHAN_ID, "cs", CHECKSUM]``;
- with the ``conf`` flag SEQ_ALL (65536) every array message of the connection ends with a
  sequence number that grows by exactly 1 a message, heartbeats and every other channel
  included (the recording: 1,670 messages numbered 1..1670). The parser learns the flags from
  the ``conf`` answer and checks that number on every message: a jump (or a step back) means
  messages were lost on the connection, for every book on it, so it asks the feed to resync
  everything (``resync_needed = {"*"}``) and breaks every book's counter, as Coinbase's
  parser does for its ``sequence_num``;
- OB_CHECKSUM (131072) adds ``[CHAN_ID, "cs", CHECKSUM]`` after book changes: the parser turns
  it into an empty delta that carries the checksum, which the book engine verifies over its
  top 25 levels (``checksum.py``). Each level keeps its exact number text; an ask keeps its
  amount's ``-``, as the checksum wants it.

Bitfinex numbers no book's updates itself, so each book gets a synthetic counter (a snapshot
takes the next number, each delta is (n-1, n)); counters never go back. After ``reset`` of a
book its updates are dropped until its next snapshot (the resubscribe brings one).

Channel ids of a former connection are kept until a ``subscribed`` event gives the id to
another channel or an ``unsubscribed`` event ends it: Bitfinex sends no data on a channel
before its ``subscribed`` event, so a stale id is never read.

Every level is checked where it is parsed (price finite and > 0, amount a finite number,
not 0 unless it deletes, count a whole number >= 0; a snapshot best first and uncrossed). A
refused book frame is a MalformedFrame of the broken rule's kind; its book is flagged in
``resync_needed`` and its counter skips a number, so the next update is a gap.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import unquote, urlsplit

import msgspec
from arb_orderbook import native
from arb_structs import BookDelta, BookSnapshot, Level, LevelText, MdEvent

from arb_venues.base import FeedParser
from arb_venues.bitfinex import schemas
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.common.levels import (
    BAD_SIZE,
    MAX_PRICE,
    MAX_SIZE,
    LevelError,
    check_snapshot,
    malformed,
    read_number,
    read_price,
)
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

VENUE = "bitfinex"
DEFAULT_DEPTH = 25
SEQ_ALL = 65536
OB_CHECKSUM = 131072
# info codes (https://docs.bitfinex.com/docs/ws-general, "Info Messages"): 20051 the server
# restarts (reconnect), 20060 maintenance starts, 20061 it ended (resubscribe everything).
RESTART = 20051
MAINTENANCE_END = 20061
_QUIET_EVENTS = frozenset({"info", "pong", "auth", "unsubscribed", "conf", "subscribed"})
# The compiled readers of a whole one-level update (``[CHAN_ID,[PRICE,COUNT,AMOUNT],SEQ?]``,
# read_level's bounds checked there: ``int_level_frame(raw, MAX_PRICE, MAX_SIZE)``), a whole
# snapshot (``[CHAN_ID,[[PRICE,COUNT,AMOUNT],...],SEQ?]``, split into bids and asks by
# the sign of AMOUNT) and a heartbeat or checksum (``[CHAN_ID,"hb",SEQ?]``,
# ``[CHAN_ID,"cs",CHECKSUM,SEQ?]``) where the compiled book runs; None: the msgspec way only.
READERS = (
    (
        native.COMPILED.int_level_frame,
        native.COMPILED.signed_levels_frame,
        native.COMPILED.int_word_frame,
    )
    if native.COMPILED is not None
    else None
)


def _malformed(kind: str, message: str) -> MalformedFrame:
    return MalformedFrame(VENUE, kind, message)


def _text(raw: msgspec.Raw) -> str:
    return bytes(raw).decode(errors="replace")


def read_level(
    price_raw: msgspec.Raw, count: int, amount_raw: msgspec.Raw, *, snapshot: bool
) -> tuple[bool, Level, LevelText]:
    """One ``[PRICE, COUNT, AMOUNT]`` -> (is a bid, (price, size), exact text); LevelError
    for a level no book may hold. Size 0 (COUNT 0) deletes; a snapshot has none."""
    price_text, amount_text = _text(price_raw), _text(amount_raw)
    price = read_price(price_text)
    amount = read_number(amount_text)
    if amount is None or amount == 0.0 or not abs(amount) < MAX_SIZE:
        raise LevelError(BAD_SIZE, f"amount {amount_text!r} is not a finite, non-zero number")
    if count < 0 or (snapshot and count == 0):
        raise LevelError(BAD_SIZE, f"count {count} {'in a snapshot' if count == 0 else '< 0'}")
    size = abs(amount) if count else 0.0
    return amount > 0.0, (price, size), (price_text, amount_text)


class BitfinexParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None, depth: int = DEFAULT_DEPTH) -> None:
        super().__init__(symbols)
        self.depth = depth
        self._books: dict[int, tuple[str, int]] = {}  # chanId -> (venue symbol, len)
        self._others: set[int] = set()  # chanIds of other channels (ticker, trades...)
        self._channel_of: dict[str, int] = {}  # venue symbol -> its book's chanId
        # chanId -> (venue symbol, symbol) of a book with a snapshot since its last reset: the
        # hot path's one look-up. Filled by _update; emptied whenever _books or _live lose
        # an entry (an event, a reset), so it never outlives the state it caches.
        self._hot: dict[int, tuple[str, str]] = {}
        self._counters: dict[str, int] = {}  # venue symbol -> last synthetic seq
        self._live: set[str] = set()  # books with a snapshot since their last reset
        self.sequencing = False  # SEQ_ALL confirmed by the connection's conf answer
        self.checksums = False  # OB_CHECKSUM confirmed
        self.first_sequence: int | None = None
        self.last_sequence: int | None = None
        self.sequence_gaps = 0  # lost-message events seen on connections (tests, metrics)
        self.readers = READERS  # None: the reference read only (tests)

    # -- FeedParser ---------------------------------------------------------------------------

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        return bitfinex_symbols.normalise(venue_symbol)

    def reset(self, venue_symbol: str | None = None) -> None:
        """None: a new connection (no sequence yet, no flags until its conf answer, every
        book waits for its snapshot). A symbol: that book waits for its next snapshot."""
        names = list(self._counters) if venue_symbol is None else [venue_symbol]
        self._hot.clear()
        if venue_symbol is None:
            self._live.clear()
            self.sequencing = self.checksums = False
            self.first_sequence = self.last_sequence = None
        else:
            self._live.discard(venue_symbol)
        for name in names:
            if name in self._counters:
                self._counters[name] += 1

    def channel_of(self, venue_symbol: str) -> int | None:
        """The chanId the book of ``venue_symbol`` streams on now (to unsubscribe it)."""
        return self._channel_of.get(venue_symbol)

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        readers = self.readers
        if readers is not None:
            update = readers[0](raw, MAX_PRICE, MAX_SIZE)
            if update is not None:
                # The common frame: one level of a live book, its symbol known (_hot). The
                # reader checked the level's bounds; what is left is _update's, inline.
                chan_id, level, level_text, bid, sequence = update
                hot = self._hot.get(chan_id)
                sequencing = self.sequencing
                if hot is not None and (sequence is not None or not sequencing):
                    if sequencing and sequence is not None:  # not None: checked above
                        last = self.last_sequence
                        if last is not None and sequence == last + 1:
                            self.last_sequence = sequence  # _sequence's common case
                        else:
                            self._sequence(sequence)
                    venue_symbol, symbol = hot
                    counters = self._counters
                    prev = counters[venue_symbol]
                    counters[venue_symbol] = seq = prev + 1
                    if bid:
                        return [BookDelta(venue=VENUE, symbol=symbol, prev_seq=prev, seq=seq,
                                          bids=[level], asks=[], ts_event=0, ts_recv=ts_recv,
                                          checksum=None, bids_text=[level_text],
                                          asks_text=[])]  # fmt: skip
                    return [BookDelta(venue=VENUE, symbol=symbol, prev_seq=prev, seq=seq,
                                      bids=[], asks=[level], ts_event=0, ts_recv=ts_recv,
                                      checksum=None, bids_text=[],
                                      asks_text=[level_text])]  # fmt: skip
                events = self._update(update, ts_recv)
                if events is not None:
                    return events
            elif (snapshot := readers[1](raw)) is not None:
                events = self._snapshot_read(snapshot, ts_recv)
                if events is not None:
                    return events
            elif (word := readers[2](raw)) is not None:
                events = self._word_read(word, ts_recv)
                if events is not None:
                    return events
        head = raw.lstrip()[:1]
        if head in ("[", b"["):
            return self._array(raw, ts_recv)
        if head in ("{", b"{"):
            return self._event(raw)
        raise _malformed("json", f"neither an array nor an object: {raw[:40]!r}")

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        """``GET /v2/book/{symbol}/P0`` -> one snapshot (audits and replay of REST captures)."""
        parts = urlsplit(url).path.split("/")
        at = parts.index("book") if "book" in parts else -1
        if at < 0 or at + 1 >= len(parts) or not parts[at + 1]:
            return []
        venue_symbol = unquote(parts[at + 1])
        try:
            rows = schemas.LEVELS.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _malformed("rest_book", f"{venue_symbol}: {exc}") from None
        return [self._snapshot(venue_symbol, rows, 0, ts_recv, "REST book")]

    # -- events -------------------------------------------------------------------------------

    def _event(self, raw: str | bytes) -> list[MdEvent]:
        try:
            event = schemas.EVENT.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _malformed("event", str(exc)) from None
        kind = event.event
        if kind in ("subscribed", "unsubscribed"):
            self._hot.clear()  # a channel id may now name another book, or none
        if kind == "subscribed" and event.chanId is not None:
            if event.channel == "book":
                depth = int(event.len) if str(event.len).isdigit() else self.depth
                self._books[event.chanId] = (event.symbol, depth)
                self._channel_of[event.symbol] = event.chanId
                self._others.discard(event.chanId)
            else:
                self._others.add(event.chanId)
                self._forget(event.chanId)
        elif kind == "unsubscribed" and event.chanId is not None:
            self._forget(event.chanId)
            self._others.discard(event.chanId)
        elif kind == "conf":
            if event.status.upper() != "OK":
                raise _malformed("venue_error", f"conf refused: {event.status} {event.msg}")
            self.sequencing = bool(event.flags & SEQ_ALL)
            self.checksums = bool(event.flags & OB_CHECKSUM)
        elif kind == "info" and event.code == RESTART:
            # The server restarts soon: what came so far is whole; the feed moves the books
            # to a new connection before this one closes.
            self.reconnect_notice = True
        elif kind == "info" and event.code == MAINTENANCE_END:
            self._lost_messages()  # every book must come back from a fresh snapshot
        elif kind == "error":
            raise _malformed("venue_error", f"code {event.code}: {event.msg or 'no message'}")
        elif kind not in _QUIET_EVENTS:
            return []  # "new fields and events may be added": ignored
        return []

    def _forget(self, chan_id: int) -> None:
        book = self._books.pop(chan_id, None)
        if book is not None and self._channel_of.get(book[0]) == chan_id:
            del self._channel_of[book[0]]

    # -- channel data -------------------------------------------------------------------------

    def _array(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        try:
            parts = schemas.PARTS.decode(raw)
            chan_id = schemas.INT.decode(parts[0]) if parts else None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _malformed("json", str(exc)) from None
        if chan_id is None or len(parts) < 2:
            raise _malformed("frame", f"not [CHAN_ID, DATA, ...]: {raw[:60]!r}")
        if self.sequencing:
            if len(parts) < 3:
                self._lost_messages()
                raise _malformed("sequence", f"channel {chan_id}: no sequence number (SEQ_ALL)")
            try:
                self._sequence(schemas.INT.decode(parts[-1]))
            except msgspec.DecodeError:
                self._lost_messages()
                raise _malformed("sequence", f"channel {chan_id}: {_text(parts[-1])!r}") from None
        body = parts[1]
        text = _text(body)
        head = text[:1]
        if head == '"':
            if text == '"cs"':
                return self._checksum(chan_id, parts, ts_recv)
            return []  # "hb", and trades' "te"/"tu"
        book = self._books.get(chan_id)
        if book is None:
            if chan_id in self._others:
                return []
            raise _malformed("unknown_channel", f"data on channel {chan_id}, never subscribed")
        if head != "[":
            raise _malformed("frame", f"channel {chan_id}: data {text[:40]!r}")
        venue_symbol = book[0]
        if text[1:].lstrip()[:1] in ("[", "]"):
            try:
                rows = schemas.LEVELS.decode(body)
            except msgspec.DecodeError as exc:
                raise self._refuse_shape(venue_symbol, "snapshot", exc) from None
            return [self._snapshot(venue_symbol, rows, book[1], ts_recv, "snapshot")]
        try:
            price_raw, count, amount_raw = schemas.LEVEL.decode(body)
        except msgspec.DecodeError as exc:
            raise self._refuse_shape(venue_symbol, "update", exc) from None
        try:
            bid, level, level_text = read_level(price_raw, count, amount_raw, snapshot=False)
        except LevelError as exc:
            raise self._refuse(venue_symbol, exc, "update") from None
        if venue_symbol not in self._live:
            return []  # no snapshot since the reset: the resubscribe brings one
        if bid:
            return [self._delta(venue_symbol, [level], [], [level_text], [], None, ts_recv)]
        return [self._delta(venue_symbol, [], [level], [], [level_text], None, ts_recv)]

    def _update(
        self, read: tuple[int, Level, LevelText, bool, int | None], ts_recv: int
    ) -> list[MdEvent] | None:
        """A one-level update the compiled reader read whole (its level within read_level's
        bounds) on a channel ``parse_ws`` has no ``_hot`` entry for: the events ``_array``
        gives for it. None, before any state changes, for anything ``_array`` must look at
        itself (a channel that is not a book, no sequence number)."""
        chan_id, level, level_text, bid, sequence = read
        book = self._books.get(chan_id)
        if book is None or (sequence is None and self.sequencing):
            return None
        if sequence is not None and self.sequencing:
            self._sequence(sequence)
        venue_symbol = book[0]
        if venue_symbol not in self._live:
            return []  # no snapshot since the reset: the resubscribe brings one
        symbol = self._symbol(venue_symbol)
        self._hot[chan_id] = (venue_symbol, symbol)
        prev = self._counters[venue_symbol]
        self._counters[venue_symbol] = prev + 1
        bids, asks = ([level], []) if bid else ([], [level])
        bids_text, asks_text = ([level_text], []) if bid else ([], [level_text])
        return [BookDelta(venue=VENUE, symbol=symbol, prev_seq=prev, seq=prev + 1, bids=bids,
                          asks=asks, ts_event=0, ts_recv=ts_recv, checksum=None,
                          bids_text=bids_text, asks_text=asks_text)]  # fmt: skip

    def _snapshot_read(
        self,
        read: tuple[int, list[Level], list[Level], list[LevelText], list[LevelText], int | None,
                    float, float, int, float, bool],
        ts_recv: int,
    ) -> list[MdEvent] | None:  # fmt: skip
        """A snapshot the compiled reader read whole: the events ``_array`` gives for it. None,
        before any state changes, for anything ``_array`` must look at itself."""
        chan_id, bids, asks, bids_text, asks_text, sequence, *bounds = read
        low_price, high_price, low_count, high_size, zero = bounds
        book = self._books.get(chan_id)
        if book is None or (sequence is None and self.sequencing):
            return None
        # read_level's rules for a snapshot, on the bounds of its levels, and check_snapshot.
        if zero or not (low_price > 0.0 and high_price < MAX_PRICE and high_size < MAX_SIZE):
            return None
        if low_count < 1:
            return None
        try:
            check_snapshot(bids, asks)
        except LevelError:
            return None
        if sequence is not None and self.sequencing:
            self._sequence(sequence)
        venue_symbol, depth = book
        symbol = self._symbol(venue_symbol)
        return [self._snapshot_event(venue_symbol, symbol, bids, asks, bids_text, asks_text,
                                     depth, ts_recv)]  # fmt: skip

    def _word_read(
        self, read: tuple[int, str, tuple[int, ...]], ts_recv: int
    ) -> list[MdEvent] | None:
        """A heartbeat or a checksum the compiled reader read whole: the events ``_array``
        gives for it. None, before any state changes, for anything ``_array`` must look at
        itself (another word, a channel that is not a book, a number missing)."""
        chan_id, word, numbers = read
        sequencing = self.sequencing
        if sequencing and not numbers:
            return None
        if word == "hb":
            book = None
        elif word == "cs":
            book = self._books.get(chan_id)
            if book is None or len(numbers) < 1 + sequencing:
                return None
        else:
            return None
        if sequencing:
            self._sequence(numbers[-1])
        if book is None or book[0] not in self._live:
            return []
        return [self._delta(book[0], [], [], [], [], numbers[0], ts_recv)]

    def _checksum(self, chan_id: int, parts: list[msgspec.Raw], ts_recv: int) -> list[MdEvent]:
        book = self._books.get(chan_id)
        if book is None:
            if chan_id in self._others:
                return []
            raise _malformed("unknown_channel", f"checksum on channel {chan_id}, never subscribed")
        try:
            value = schemas.INT.decode(parts[2]) if len(parts) > 2 else None
        except msgspec.DecodeError:
            value = None
        if value is None:
            self.resync_needed.add(book[0])
            raise _malformed("checksum", f"{book[0]}: cs without a number: {parts!r}"[:200])
        if book[0] not in self._live:
            return []
        return [self._delta(book[0], [], [], [], [], value, ts_recv)]

    def _sequence(self, number: int) -> None:
        last = self.last_sequence
        if self.first_sequence is None:
            self.first_sequence = number
        if last is not None and number != last + 1:
            self._lost_messages()
        self.last_sequence = number

    def _lost_messages(self) -> None:
        """Continuity of the connection is gone: every book on it may have missed updates."""
        self.sequence_gaps += 1
        self.resync_needed.add("*")
        for name in self._counters:
            self._counters[name] += 1

    # -- events out ---------------------------------------------------------------------------

    def _refuse(self, venue_symbol: str, error: LevelError, where: str) -> MalformedFrame:
        """A book frame of ``venue_symbol`` broke a rule: resync the book, break its counter."""
        self.resync_needed.add(venue_symbol)
        if venue_symbol in self._counters:
            self._counters[venue_symbol] += 1
        return malformed(VENUE, error, f"{venue_symbol} {where}")

    def _refuse_shape(self, venue_symbol: str, where: str, exc: Exception) -> MalformedFrame:
        self.resync_needed.add(venue_symbol)
        if venue_symbol in self._counters:
            self._counters[venue_symbol] += 1
        return _malformed("level", f"{venue_symbol} {where}: {exc}")

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise _malformed("unknown_symbol", f"no instrument for {venue_symbol!r}")
        return symbol

    def _snapshot(
        self,
        venue_symbol: str,
        rows: list[schemas.Level],
        depth: int,
        ts_recv: int,
        where: str,
    ) -> BookSnapshot:
        symbol = self._symbol(venue_symbol)
        bids: list[Level] = []
        asks: list[Level] = []
        bids_text: list[LevelText] = []
        asks_text: list[LevelText] = []
        try:
            for index, (price_raw, count, amount_raw) in enumerate(rows):
                try:
                    bid, level, level_text = read_level(price_raw, count, amount_raw, snapshot=True)
                except LevelError as exc:
                    raise LevelError(exc.kind, f"level {index}: {exc.detail}") from None
                if bid:
                    bids.append(level)
                    bids_text.append(level_text)
                else:
                    asks.append(level)
                    asks_text.append(level_text)
            check_snapshot(bids, asks)
        except LevelError as exc:
            raise self._refuse(venue_symbol, exc, where) from None
        return self._snapshot_event(venue_symbol, symbol, bids, asks, bids_text, asks_text,
                                    depth, ts_recv)  # fmt: skip

    def _snapshot_event(
        self,
        venue_symbol: str,
        symbol: str,
        bids: list[Level],
        asks: list[Level],
        bids_text: list[LevelText],
        asks_text: list[LevelText],
        depth: int,
        ts_recv: int,
    ) -> BookSnapshot:
        """The snapshot event of levels already checked; the book's counter moves on."""
        seq = self._counters.get(venue_symbol, 0) + 1
        self._counters[venue_symbol] = seq
        self._live.add(venue_symbol)
        return BookSnapshot(
            venue=VENUE, symbol=symbol, seq=seq, bids=bids, asks=asks, ts_event=0,
            ts_recv=ts_recv, bids_text=bids_text, asks_text=asks_text, depth=depth,
        )  # fmt: skip

    def _delta(
        self,
        venue_symbol: str,
        bids: list[Level],
        asks: list[Level],
        bids_text: list[LevelText],
        asks_text: list[LevelText],
        checksum: int | None,
        ts_recv: int,
    ) -> BookDelta:
        symbol = self._symbol(venue_symbol)
        prev = self._counters[venue_symbol]
        self._counters[venue_symbol] = prev + 1
        return BookDelta(
            venue=VENUE, symbol=symbol, prev_seq=prev, seq=prev + 1, bids=bids, asks=asks,
            ts_event=0, ts_recv=ts_recv, checksum=checksum, bids_text=bids_text,
            asks_text=asks_text,
        )  # fmt: skip
