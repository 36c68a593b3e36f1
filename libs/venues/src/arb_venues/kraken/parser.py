"""Kraken spot ``book`` frames -> normalised book events, for WS v2 (default) and WS v1.

Kraken sends no sequence numbers, so each book gets a synthetic counter: every snapshot and
every update takes the next number (prev_seq = n - 1, seq = n); the counter never goes back,
so deltas of an old subscription buffered by the book are stale after the new snapshot.
Integrity comes from Kraken's CRC32 checksum (top 10 levels, exact text): the events carry it
with ``bids_text``/``asks_text`` and the book engine verifies it.
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2 and .../spot-ws-book-v1

Every level's number text is read on purpose (``arb_venues.common.levels``: JSON number
grammar, price finite and > 0, size finite and >= 0), never by ``float()``'s rules (which take
"NaN", "inf", " 1" and "1_0"). A snapshot must also be best-first on both sides, hold no size
0 and not be crossed. A refused book frame is a MalformedFrame of the broken rule's kind; its
book is flagged in ``resync_needed`` and its counter skips a number, so the next update is a
gap for the book service instead of a silent hole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, Level, LevelText, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, malformed, read_price, read_size
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.kraken import schemas
from arb_venues.kraken import symbols as kraken_symbols

VENUE = "kraken"
DEFAULT_DEPTH = 10
# v2 channels that carry no book data (https://docs.kraken.com/api/docs/websocket-v2/).
_V2_QUIET_CHANNELS = frozenset({"heartbeat", "status", "trade", "ticker", "ohlc", "instrument"})
_V1_QUIET_EVENTS = frozenset({"heartbeat", "pong", "systemStatus", "subscriptionStatus"})


def _malformed(kind: str, message: str) -> MalformedFrame:
    return MalformedFrame(VENUE, kind, message)


def rfc3339_ns(text: str) -> int:
    """2023-10-06T17:35:55.440295Z -> epoch nanoseconds (0 for an empty string).

    Kraken's own shape (microseconds, ``Z``) reuses the seconds of the last whole second
    read (a book sends many updates a second); any other RFC 3339 text is read in full."""
    if len(text) == 27 and text[19] == "." and text[26] == "Z":
        micros = text[20:26]
        if micros.isascii() and micros.isdigit():
            whole = text[:19]
            seconds = _LAST_SECOND.get(whole)
            if seconds is None:
                moment = _rfc3339_ns(text)  # raises, naming the whole text, if it is no time
                _LAST_SECOND.clear()  # one entry: the second being read
                seconds = _LAST_SECOND[whole] = moment // 1_000_000_000
            return seconds * 1_000_000_000 + int(micros) * 1_000
    return _rfc3339_ns(text)


_LAST_SECOND: dict[str, int] = {}  # the last whole second rfc3339_ns read -> its epoch


def _rfc3339_ns(text: str) -> int:
    if not text:
        return 0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _malformed("timestamp", f"not an RFC 3339 time: {text!r}") from exc
    seconds = int(moment.timestamp())
    return seconds * 1_000_000_000 + moment.microsecond * 1_000


class _KrakenParserBase(FeedParser):
    """The synthetic sequence and event building shared by both protocol versions."""

    venue = VENUE

    def __init__(self, symbols: SymbolMap | None = None, depth: int = DEFAULT_DEPTH) -> None:
        super().__init__(symbols)
        self.depth = depth or DEFAULT_DEPTH
        self._seq: dict[str, int] = {}  # venue symbol (v2 spelling) -> last number given
        self._live: set[str] = set()  # venue symbols with a snapshot since the last reset

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        return kraken_symbols.normalise(venue_symbol)

    def reset(self, venue_symbol: str | None = None) -> None:
        """Deltas are dropped until the next snapshot; the counter itself never goes back."""
        if venue_symbol is None:
            self._live.clear()
        else:
            self._live.discard(kraken_symbols.v2_symbol(venue_symbol))

    def _refuse(self, venue_symbol: str, error: LevelError, where: str) -> MalformedFrame:
        """A book frame of ``venue_symbol`` broke a level rule: flag the book for a resync and
        break its counter (the next update must not look continuous)."""
        self.resync_needed.add(venue_symbol)
        if venue_symbol in self._seq:
            self._seq[venue_symbol] += 1
        return malformed(VENUE, error, f"{venue_symbol} {where}")

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise _malformed("unknown_symbol", f"no instrument for pair {venue_symbol!r}")
        return symbol

    def _snapshot(
        self,
        venue_symbol: str,
        bids: list[Level],
        asks: list[Level],
        bids_text: list[LevelText],
        asks_text: list[LevelText],
        checksum: int | None,
        depth: int,
        ts_event: int,
        ts_recv: int,
    ) -> BookSnapshot:
        symbol = self._symbol(venue_symbol)
        seq = self._seq.get(venue_symbol, 0) + 1
        self._seq[venue_symbol] = seq
        self._live.add(venue_symbol)
        return BookSnapshot(
            venue=VENUE,
            symbol=symbol,
            seq=seq,
            bids=bids,
            asks=asks,
            ts_event=ts_event,
            ts_recv=ts_recv,
            checksum=checksum,
            bids_text=bids_text,
            asks_text=asks_text,
            depth=depth,
        )

    def _delta(
        self,
        venue_symbol: str,
        bids: list[Level],
        asks: list[Level],
        bids_text: list[LevelText],
        asks_text: list[LevelText],
        checksum: int | None,
        ts_event: int,
        ts_recv: int,
    ) -> BookDelta | None:
        symbol = self._symbol(venue_symbol)
        if venue_symbol not in self._live:
            return None  # no snapshot since the reset: the resubscribe brings one
        seq = self._seq[venue_symbol] + 1
        self._seq[venue_symbol] = seq
        return BookDelta(
            venue=VENUE,
            symbol=symbol,
            prev_seq=seq - 1,
            seq=seq,
            bids=bids,
            asks=asks,
            ts_event=ts_event,
            ts_recv=ts_recv,
            checksum=checksum,
            bids_text=bids_text,
            asks_text=asks_text,
        )

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        """/0/public/Depth -> one snapshot per pair (for replay; the live feed uses the WS)."""
        if "/0/public/Depth" not in url:
            return []
        try:
            response = schemas.DEPTH.decode(body)
        except msgspec.DecodeError as exc:
            raise _malformed("rest_depth", str(exc)) from exc
        if response.error:
            raise _malformed("rest_error", ", ".join(response.error))
        wanted = parse_qs(urlsplit(url).query).get("pair", [""])[0]
        events: list[MdEvent] = []
        for key, book in response.result.items():
            symbol = self.normalise(wanted or key) or self.normalise(key)
            if symbol is None:
                raise _malformed("unknown_symbol", f"cannot read pair {key!r}")
            venue_symbol = self.symbols.to_venue(symbol) or symbol.replace("-", "/")
            try:
                bids, bids_text = _text_levels(book.bids, snapshot=True)
                asks, asks_text = _text_levels(book.asks, snapshot=True)
                check_snapshot(bids, asks)
            except LevelError as exc:
                raise self._refuse(venue_symbol, exc, "REST snapshot") from None
            ts_event = max((lv[2] for lv in (*book.bids, *book.asks)), default=0)
            events.append(
                self._snapshot(
                    venue_symbol,
                    bids,
                    asks,
                    bids_text,
                    asks_text,
                    None,
                    0,
                    ts_event * 1_000_000_000,
                    ts_recv,
                )
            )
        return events


class KrakenParser(_KrakenParserBase):
    """WS v2 ``book`` channel: objects, numbers as JSON numbers, checksum on every message."""

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        # The hot path: a book push read whole, as text then as checked floats, in C.
        try:
            frame = schemas.V2_BOOK_FRAME.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, TypeError):
            frame = None
        if (
            frame is not None
            and frame.channel == "book"
            and frame.data
            and not frame.method
            and frame.type in ("snapshot", "update")
        ):
            try:
                numbers: list[schemas.V2NumberBook] | None = schemas.V2_NUMBER_FRAME.decode(
                    raw
                ).data
            except msgspec.DecodeError:
                numbers = None  # a level the checked read refused: read level by level
            return self._entries(frame.type, frame.data, numbers, ts_recv)
        try:
            envelope = schemas.V2_ENVELOPE.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, TypeError) as exc:
            raise _malformed("json", str(exc)) from exc
        if envelope.channel == "book":
            return self._book(envelope, ts_recv)
        if envelope.method:
            if envelope.success is False:
                raise _malformed(
                    "request_rejected", f"{envelope.method}: {envelope.error or 'no reason given'}"
                )
            return []  # subscribe/unsubscribe acks, pong
        if envelope.channel in _V2_QUIET_CHANNELS:
            return []
        raise _malformed("unknown_message", f"channel {envelope.channel!r}, no method")

    def _book(self, envelope: schemas.V2Envelope, ts_recv: int) -> list[MdEvent]:
        if not envelope.data or envelope.type not in ("snapshot", "update"):
            raise _malformed("book", f"book frame of type {envelope.type!r} without data")
        try:
            books = schemas.V2_BOOKS.decode(envelope.data)
        except msgspec.DecodeError as exc:
            raise _malformed("book", str(exc)) from exc
        try:
            numbers: list[schemas.V2NumberBook] | None = schemas.V2_NUMBER_BOOKS.decode(
                envelope.data
            )
        except msgspec.DecodeError:
            numbers = None
        return self._entries(envelope.type, books, numbers, ts_recv)

    def _entries(
        self,
        kind: str,
        books: list[schemas.V2Book],
        numbers: list[schemas.V2NumberBook] | None,
        ts_recv: int,
    ) -> list[MdEvent]:
        """The events of a book push's entries. ``numbers``: the same entries read as checked
        floats (JSON numbers, in bounds) in C; None when that read refused the frame, which
        is then read level by level (``_raw_levels``), naming the fault."""
        events: list[MdEvent] = []
        snapshot = kind == "snapshot"
        for index, book in enumerate(books):
            try:
                if numbers is not None:
                    read = numbers[index]
                    bids = [(level.price, level.qty) for level in read.bids]
                    asks = [(level.price, level.qty) for level in read.asks]
                    bids_text = _wire_text(book.bids)
                    asks_text = _wire_text(book.asks)
                else:
                    bids, bids_text = _raw_levels(book.bids, snapshot)
                    asks, asks_text = _raw_levels(book.asks, snapshot)
                if snapshot:
                    check_snapshot(bids, asks)
            except LevelError as exc:
                raise self._refuse(book.symbol, exc, kind) from None
            ts_event = rfc3339_ns(book.timestamp)
            if snapshot:
                events.append(
                    self._snapshot(
                        book.symbol,
                        bids,
                        asks,
                        bids_text,
                        asks_text,
                        book.checksum,
                        self.depth,
                        ts_event,
                        ts_recv,
                    )
                )
            else:
                delta = self._delta(
                    book.symbol, bids, asks, bids_text, asks_text, book.checksum, ts_event, ts_recv
                )
                if delta is not None:
                    events.append(delta)
        return events


def _wire_text(levels: Sequence[schemas.V2Level]) -> list[LevelText]:
    """The exact wire text of levels whose numbers the hot read accepted (JSON numbers)."""
    return [(bytes(level.price).decode(), bytes(level.qty).decode()) for level in levels]


def _raw_levels(
    levels: Sequence[schemas.V2Level], snapshot: bool
) -> tuple[list[Level], list[LevelText]]:
    """JSON-number levels -> checked floats plus the exact wire text (for the checksum). A
    quoted string is not a JSON number: LevelError, like NaN or a negative size."""
    floats: list[Level] = []
    texts: list[LevelText] = []
    for index, level in enumerate(levels):
        price = bytes(level.price).decode(errors="replace")
        qty = bytes(level.qty).decode(errors="replace")
        try:
            floats.append((read_price(price), read_size(qty, snapshot=snapshot)))
        except LevelError as exc:
            raise LevelError(exc.kind, f"level {index}: {exc.detail}") from None
        texts.append((price, qty))
    return floats, texts


def _text_levels(
    levels: Sequence[Sequence[object]], *, snapshot: bool
) -> tuple[list[Level], list[LevelText]]:
    """[price, volume, ...] decimal-string levels (v1, REST) -> checked floats plus exact
    text. A level without two strings in front is a ``level`` MalformedFrame."""
    floats: list[Level] = []
    texts: list[LevelText] = []
    for index, level in enumerate(levels):
        try:
            price, volume = level[0], level[1]
        except IndexError:
            raise _malformed("level", f"level {index} {level!r} has no price and volume") from None
        if not isinstance(price, str) or not isinstance(volume, str):
            raise _malformed("level", f"level {index} {level!r} has no string price/volume")
        try:
            floats.append((read_price(price), read_size(volume, snapshot=snapshot)))
        except LevelError as exc:
            raise LevelError(exc.kind, f"level {index}: {exc.detail}") from None
        texts.append((price, volume))
    return floats, texts
