"""KuCoin spot frames -> normalised book events.

``/market/level2:{symbol}`` (https://www.kucoin.com/docs-new/3470068w0) pushes only
increments: ``trade.l2update`` with ``sequenceStart``/``sequenceEnd``; the book starts from a
REST snapshot carrying ``sequence`` (market.py). KuCoin's calibration rule: apply an update
when ``sequenceStart <= book.sequence + 1`` and ``sequenceEnd > book.sequence``; anything
else is a gap. An update is a BookDelta ``(prev_seq, seq) = (sequenceStart - 1,
sequenceEnd)``, so the book's one rule (apply if ``prev_seq <= book.seq < seq``, drop if
``seq <= book.seq``) is exactly KuCoin's. The overlap of an update that straddles the
snapshot is harmless: each change carries the level's latest size as of ``sequenceEnd``.

Each change is ``[price, size, sequence]``; price "0" is a sequence-only change ("If the price
is 0, ignore the messages and update the sequence"): dropped, its update still advances the
sequence (an update may so hold no levels at all). Size "0" deletes the level.

The REST snapshot: ``GET /api/v1/market/orderbook/level2_20`` / ``level2_100`` (public) or
``/api/v3/market/orderbook/level2`` (the whole book, authenticated; what the 2021 recording
holds): ``{"code": "200000", "data": {"sequence": "<n>", "time", "bids", "asks"}}``, each side
best first. ``seq = sequence``.

Every level is checked as it is decoded (``arb_venues.common.levels``); a snapshot must also
be best-first, hold no size 0 and not be crossed. A refused update flags its book in
``resync_needed``. Control frames (welcome, ack, pong) and other topics' pushes yield
nothing; an ``error`` frame is a MalformedFrame (``error_reply``).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_orderbook import native
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import (
    MAX_PRICE,
    MAX_SIZE,
    LevelError,
    check_snapshot,
    find_bad_side,
    malformed,
)
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.kucoin import schemas

VENUE = "kucoin"
_MS = 1_000_000  # ms -> ns
L2_SUBJECT = "trade.l2update"
L2_TOPIC = "/market/level2:"
CONTROL_TYPES = frozenset({"welcome", "ack", "pong"})
# Paths whose answer is a book snapshot (v1 partial books; v3 (and the old v2) full book).
BOOK_PATHS = (
    "/market/orderbook/level2_20",
    "/market/orderbook/level2_100",
    "/market/orderbook/level2",
)

# The compiled reader of a whole level2 push where the compiled book runs (None: msgspec's),
# and its slots: the push's keys by path (schemas.Push).
KEYED_READER = native.COMPILED.keyed_frame if native.COMPILED is not None else None
# (parent, key, kind (0 int, 1 text, 2 rows, 3 object), slot); changes: price, size, sequence.
PUSH_SHAPE = (
    native.COMPILED.KeyedShape(
        (
            (-1, b"type", 1, 0),
            (-1, b"subject", 1, 1),
            (-1, b"topic", 1, 2),
            (-1, b"data", 3, 0),
            (3, b"symbol", 1, 3),
            (3, b"sequenceStart", 0, 0),
            (3, b"sequenceEnd", 0, 1),
            (3, b"time", 0, 2),
            (3, b"changes", 3, 0),
            (8, b"bids", 2, 0),
            (8, b"asks", 2, 1),
        ),
        3,
    )
    if native.COMPILED is not None
    else None
)


def _with_level(changes: list[object]) -> list[object]:
    """Undecoded changes without the sequence-only ones (price "0"), which are no error."""
    return [c for c in changes if not (isinstance(c, list) and c and c[0] in ("0", 0))]


def is_book_path(path: str) -> bool:
    return path.endswith(BOOK_PATHS)


class KucoinParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.welcomes = 0
        self.keyed_reader = KEYED_READER  # None: msgspec's read only (tests)

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        if self.keyed_reader is not None:
            events = self._update_compiled(raw, ts_recv)
            if events is not None:
                return events
        try:
            push = schemas.push_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            return self._other(raw, exc)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        if push.subject != L2_SUBJECT or push.type != "message":
            return []
        update = push.data
        if update.sequenceEnd < update.sequenceStart:
            self.resync_needed.add(update.symbol)
            raise MalformedFrame(
                VENUE, "l2update",
                f"{update.symbol}: sequenceEnd {update.sequenceEnd} < sequenceStart "
                f"{update.sequenceStart}",
            )  # fmt: skip
        changes = update.changes
        # The levels are the changes with a price > 0, written out here: the hot path.
        return [
            BookDelta(
                venue=VENUE,
                symbol=self._symbol(update.symbol),
                prev_seq=update.sequenceStart - 1,
                seq=update.sequenceEnd,
                bids=[(price, size) for price, size, _ in changes.bids if price > 0.0],
                asks=[(price, size) for price, size, _ in changes.asks if price > 0.0],
                ts_event=update.time * _MS,
                ts_recv=ts_recv,
            )
        ]

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not is_book_path(parts.path):
            return []
        symbols = parse_qs(parts.query).get("symbol")
        if not symbols:
            raise MalformedFrame(VENUE, "snapshot", f"no symbol= in the order book URL {url!r}")
        venue_symbol = symbols[0]
        try:
            answer = schemas.book_decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise self._diagnose_rest(venue_symbol, body, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "snapshot", f"{venue_symbol}: {exc}") from None
        if answer.code != "200000" or answer.data is None:
            raise MalformedFrame(VENUE, "snapshot",
                                 f"{venue_symbol}: code {answer.code} {answer.msg}")  # fmt: skip
        book = answer.data
        try:
            seq = int(book.sequence)
        except ValueError:
            detail = f"{venue_symbol}: sequence {book.sequence!r}"
            raise MalformedFrame(VENUE, "snapshot", detail) from None
        try:
            check_snapshot(book.bids, book.asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{venue_symbol} book") from None
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=self._symbol(venue_symbol),
                seq=seq,
                bids=book.bids,
                asks=book.asks,
                ts_event=book.time * _MS,
                ts_recv=ts_recv,
            )
        ]

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        base, sep, quote = venue_symbol.partition("-")
        return f"{base}-{quote}" if sep and base and quote and "-" not in quote else None

    # -- internals ---------------------------------------------------------------------------

    def _update_compiled(self, raw: str | bytes, ts_recv: int) -> list[MdEvent] | None:
        """A level2 push the compiled reader reads whole: the event parse_ws's msgspec read
        gives for it. None, before any state changes, for any other frame, one with a level
        or a sequence msgspec's read would refuse included (that read then says why)."""
        assert self.keyed_reader is not None
        read = self.keyed_reader(raw, PUSH_SHAPE)
        if read is None:
            return None
        (start, end, time), (kind, subject, topic, symbol), _, (bids, asks), *bounds = read
        low_price, high_price, low_size, high_size = bounds
        # schemas.Push's fields and ChangePrice's and Size's bounds, on all levels at once.
        if (
            kind != "message"
            or subject != L2_SUBJECT
            or topic is None
            or symbol is None
            or start is None
            or end is None
            or end < start
            or not (low_price >= 0.0 and high_price < MAX_PRICE)
            or not (low_size >= 0.0 and high_size < MAX_SIZE)
        ):
            return None
        venue_symbol = self.symbols.to_symbol(symbol)
        if venue_symbol is None:
            return None
        if low_price == 0.0:  # sequence-only changes: no level
            bids = [level for level in bids if level[0] > 0.0]
            asks = [level for level in asks if level[0] > 0.0]
        return [
            BookDelta(
                venue=VENUE,
                symbol=venue_symbol,
                prev_seq=start - 1,
                seq=end,
                bids=bids,
                asks=asks,
                ts_event=(time or 0) * _MS,
                ts_recv=ts_recv,
            )
        ]

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"cannot normalise {venue_symbol!r}")
        return symbol

    def _other(self, raw: str | bytes, exc: Exception) -> list[MdEvent]:
        """Not a level2 push that decodes: a control frame, another topic, or a bad push."""
        try:
            env = schemas.envelope_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as other:
            raise MalformedFrame(VENUE, "json", str(other)) from None
        if env.type in CONTROL_TYPES:
            self.welcomes += env.type == "welcome"
            return []
        if env.type == "error":
            raise MalformedFrame(VENUE, "error_reply", f"{env.code}: {bytes(env.data)[:200]!r}")
        if env.type == "message":
            if env.subject == L2_SUBJECT or (env.topic or "").startswith(L2_TOPIC):
                raise self._diagnose_push(raw, exc)
            return []  # ticker, match, candles...: no book data
        raise MalformedFrame(VENUE, "unknown", f"frame type {env.type!r}")

    def _diagnose_push(self, raw: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_push_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "l2update", str(exc))
        changes = loose.data.changes
        found = find_bad_side(_with_level(changes.get("bids", [])),
                              _with_level(changes.get("asks", [])), snapshot=False)  # fmt: skip
        if loose.data.symbol:
            self.resync_needed.add(loose.data.symbol)
        if found is None:
            return MalformedFrame(VENUE, "l2update", f"{loose.data.symbol or '?'}: {exc}")
        return malformed(VENUE, found[1], f"{loose.data.symbol or '?'} {found[0]}")

    @staticmethod
    def _diagnose_rest(symbol: str, body: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_book_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        found = find_bad_side(loose.data.bids, loose.data.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        return malformed(VENUE, found[1], f"{symbol} book {found[0]}")
