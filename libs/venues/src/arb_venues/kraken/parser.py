"""Kraken spot ``book`` frames -> normalised book events, for WS v2 (default) and WS v1.

Kraken sends no sequence numbers, so each book gets a synthetic counter: every snapshot and
every update takes the next number (prev_seq = n - 1, seq = n); the counter never goes back,
so deltas of an old subscription buffered by the book are stale after the new snapshot.
Integrity comes from Kraken's CRC32 checksum (top 10 levels, exact text): the events carry it
with ``bids_text``/``asks_text`` and the book engine verifies it.
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2 and .../spot-ws-book-v1
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, Level, LevelText, MdEvent

from arb_venues.base import FeedParser
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
    """2023-10-06T17:35:55.440295Z -> epoch nanoseconds (0 for an empty string)."""
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
            bids, bids_text = _text_levels(book.bids)
            asks, asks_text = _text_levels(book.asks)
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
        events: list[MdEvent] = []
        for book in books:
            bids, bids_text = _raw_levels(book.bids)
            asks, asks_text = _raw_levels(book.asks)
            ts_event = rfc3339_ns(book.timestamp)
            if envelope.type == "snapshot":
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


def _raw_levels(levels: Sequence[schemas.V2Level]) -> tuple[list[Level], list[LevelText]]:
    """JSON-number levels -> floats plus the exact wire text (for the checksum)."""
    floats: list[Level] = []
    texts: list[LevelText] = []
    try:
        for level in levels:
            price = bytes(level.price).decode()
            qty = bytes(level.qty).decode()
            floats.append((float(price), float(qty)))
            texts.append((price, qty))
    except (ValueError, TypeError) as exc:  # a quoted string or anything but a number
        raise _malformed("level", f"price/qty is not a JSON number: {exc}") from exc
    return floats, texts


def _text_levels(
    levels: Sequence[Sequence[object]],
) -> tuple[list[Level], list[LevelText]]:
    """[price, volume, ...] decimal-string levels (v1, REST) -> floats plus exact text."""
    floats: list[Level] = []
    texts: list[LevelText] = []
    try:
        for level in levels:
            price, volume = level[0], level[1]
            if not isinstance(price, str) or not isinstance(volume, str):
                raise ValueError(f"{level!r} has no string price/volume")
            floats.append((float(price), float(volume)))
            texts.append((price, volume))
    except (ValueError, IndexError) as exc:
        raise _malformed("level", f"bad level: {exc}") from exc
    return floats, texts
