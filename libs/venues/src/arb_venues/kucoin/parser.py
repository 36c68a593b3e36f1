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

``parse_ws`` reads each frame once (``schemas.Frame``): that settles a level2 update and
another topic's push, most of the feed. Every other frame (control, error, refused, a field
missing) goes to ``parse_ws_strict``, the long way and the reference: the two give the same
events and refusals on every frame (tests/unit/venues/kucoin/test_one_read.py).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent
from msgspec import UNSET, UnsetType

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
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


def _with_level(changes: list[object]) -> list[object]:
    """Undecoded changes without the sequence-only ones (price "0"), which are no error."""
    return [c for c in changes if not (isinstance(c, list) and c and c[0] in ("0", 0))]


_read_frame = schemas.frame_decoder.decode


def is_book_path(path: str) -> bool:
    return path.endswith(BOOK_PATHS)


class KucoinParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.welcomes = 0

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """One read (schemas.Frame) settles a level2 update and another topic's push; every
        other frame (control, error, refused, anything missing) goes to ``parse_ws_strict``,
        which gives the answer. The two give the same answer on every frame (tests hold them
        equal on the recording and on mutated frames). Written out: the hot path."""
        try:
            frame = _read_frame(raw)
        except msgspec.DecodeError:  # ValidationError too: parse_ws_strict says what is wrong
            return self.parse_ws_strict(raw, ts_recv)
        if frame.type == "message":
            if frame.subject == L2_SUBJECT:
                update = frame.data
                venue_symbol = update.symbol
                start = update.sequenceStart
                end = update.sequenceEnd
                if (
                    venue_symbol is not UNSET
                    and start is not UNSET
                    and end is not UNSET
                    and frame.topic is not UNSET
                    and end >= start
                ):
                    symbol = self.symbols.known.get(venue_symbol) or self._symbol(venue_symbol)
                    changes = update.changes
                    # The levels are the changes with a price > 0 (price 0 only moves the
                    # sequence), as (price, size).
                    bids = []
                    for price, size, _ in changes.bids:
                        if price > 0.0:
                            bids.append((price, size))
                    asks = []
                    for price, size, _ in changes.asks:
                        if price > 0.0:
                            asks.append((price, size))
                    return [
                        BookDelta(
                            venue=VENUE,
                            symbol=symbol,
                            prev_seq=start - 1,
                            seq=end,
                            bids=bids,
                            asks=asks,
                            ts_event=update.time * _MS,
                            ts_recv=ts_recv,
                        )
                    ]
            elif frame.id is UNSET and frame.code is UNSET:
                topic = frame.topic
                if isinstance(topic, UnsetType) or not topic.startswith(L2_TOPIC):
                    return []  # ticker, match, candles...: no book data
        return self.parse_ws_strict(raw, ts_recv)

    def parse_ws_strict(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Every frame read the long way: as a Push, else as an Envelope (``_other``). It
        answers what ``parse_ws``'s one read does not settle, and is the reference for it."""
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
            check_snapshot(book.bids, book.asks, sizes_read=True)
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
