"""Bitget v2 spot public frames -> normalised book events. Pure, no I/O.

Docs: https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel

- ``books`` (all levels): the first push after a subscribe is ``action: "snapshot"``, then
  ``update`` pushes carry the changed levels (amount "0" deletes). Every push carries
  ``seq`` and ``checksum``. Bitget documents ``seq`` as increasing on updates "except during
  symbol maintenance" and does not promise steps of one, and the v2 spot push has no previous
  sequence field: so the parser links each update to the last ``seq`` it saw of that book
  (``prev_seq`` = that seq) and the book's proof of continuity is the checksum, which every
  update carries and the book engine verifies on every update (``checksum.py``). A ``seq``
  that does not increase (maintenance) breaks the chain: the book is flagged in
  ``resync_needed`` and the frame yields nothing; the resubscribe's snapshot restarts it.
- A snapshot's own checksum is passed on when non-zero (ccxt, for one, does not check
  snapshots); the first update after it proves the top 25 levels anyway.
- ``books1`` / ``books5`` / ``books15`` push whole top-N snapshots each time: BookSnapshots
  with ``depth`` N.
- REST ``GET /api/v2/spot/market/orderbook`` is a snapshot without a sequence number (read
  for audits, by content).

A frame with an impossible level is a MalformedFrame of that rule's kind and its book is
flagged (the chain is dropped, so nothing after it looks continuous). ``pong``, acks, trades
-> []; an ``error`` event raises MalformedFrame(kind "error_event") so the feed counts it.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.bitget import schemas
from arb_venues.common.levels import (
    LevelError,
    check_snapshot,
    find_bad_side,
    malformed,
    read_price,
    read_size,
)
from arb_venues.common.symbols import SymbolMap, split_glued
from arb_venues.errors import MalformedFrame

VENUE = "bitget"
INCREMENTAL = "books"
SNAPSHOT_CHANNELS = {"books1": 1, "books5": 5, "books15": 15}
REST_BOOK_PATH = "/api/v2/spot/market/orderbook"
_MS = 1_000_000


def _ts_ns(ts: str | int | None) -> int:
    try:
        return int(ts or 0) * _MS
    except ValueError:
        return 0


def _floats(levels: list[schemas.FloatLevel]) -> list[tuple[float, float]]:
    return [(level.px, level.sz) for level in levels]


def _texts(levels: list[schemas.TextLevel]) -> list[tuple[str, str]]:
    return [(level[0], level[1]) for level in levels]


class BitgetParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._last: dict[str, int] = {}  # instId -> last seq of the chain since its snapshot
        self._synthetic: dict[str, int] = {}  # top-N channels pushed without a seq

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        """``BTCUSDT`` -> ``BTC-USDT`` by the known quote suffixes (reference data wins)."""
        pair = split_glued(venue_symbol)
        return f"{pair[0]}-{pair[1]}" if pair else None

    def reset(self, venue_symbol: str | None = None) -> None:
        if venue_symbol is None:
            self._last.clear()
            self._synthetic.clear()
        else:
            self._last.pop(venue_symbol, None)
            self._synthetic.pop(venue_symbol, None)

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        if raw == "pong" or raw == b"pong":
            return []
        try:
            envelope = schemas.ENVELOPE.decode(raw)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", f"{exc}: {_preview(raw)}") from exc
        if envelope.event is not None:
            if envelope.event == "error":
                raise MalformedFrame(
                    VENUE,
                    "error_event",
                    f"code {envelope.code}: {envelope.msg} (check the subscribe arguments)",
                )
            return []  # subscribe / unsubscribe / login acks
        arg = envelope.arg
        if arg is None or not schemas.present(envelope.data):
            raise MalformedFrame(VENUE, "shape", f"no arg/data: {_preview(raw)}")
        if arg.channel == INCREMENTAL:
            return self._incremental(arg.instId, envelope, ts_recv)
        depth = SNAPSHOT_CHANNELS.get(arg.channel)
        if depth is not None:
            return self._top_snapshots(arg.instId, depth, envelope.data, ts_recv)
        return []  # trades, tickers, candles carry no book data

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith(REST_BOOK_PATH):
            return []
        names = parse_qs(parts.query).get("symbol")
        if not names:
            raise MalformedFrame(VENUE, "rest_snapshot", f"no symbol in {url}")
        inst_id = names[0]
        try:
            envelope = schemas.REST_ENVELOPE.decode(body)
            if envelope.code != "00000" or not schemas.present(envelope.data):
                raise MalformedFrame(
                    VENUE, "rest_snapshot", f"{inst_id}: code {envelope.code}: {envelope.msg}"
                )
            book = schemas.REST_BOOK.decode(envelope.data)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest_snapshot", f"{inst_id}: {exc}") from exc
        symbol = self._symbol(inst_id)
        try:
            bids_text, asks_text = _texts(book.bids), _texts(book.asks)
            bids = [(read_price(p), read_size(s, snapshot=True)) for p, s in bids_text]
            asks = [(read_price(p), read_size(s, snapshot=True)) for p, s in asks_text]
            check_snapshot(bids, asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{inst_id} REST snapshot") from None
        except (ValueError, IndexError) as exc:
            raise MalformedFrame(VENUE, "rest_snapshot", f"{inst_id}: {exc}") from exc
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=symbol,
                seq=0,  # the REST book has no sequence: audits compare it by content
                bids=bids,
                asks=asks,
                ts_event=_ts_ns(book.ts),
                ts_recv=ts_recv,
                bids_text=bids_text,
                asks_text=asks_text,
                depth=max(len(bids), len(asks)),
            )
        ]

    # -- internals ---------------------------------------------------------------------------

    def _symbol(self, inst_id: str) -> str:
        symbol = self.symbols.to_symbol(inst_id)
        if symbol is None:
            raise MalformedFrame(VENUE, "symbol", f"unknown instId {inst_id!r}")
        return symbol

    def _flag(self, inst_id: str) -> None:
        """A book frame of ``inst_id`` was refused: resync it, and break its chain."""
        self.resync_needed.add(inst_id)
        self._last.pop(inst_id, None)

    def _decode(self, data: msgspec.Raw, inst_id: str, snapshot: bool) -> list[schemas.BookData]:
        try:
            return schemas.BOOK_DATA.decode(data)
        except msgspec.ValidationError as exc:
            try:
                loose = schemas.LOOSE_BOOKS.decode(data)
            except msgspec.DecodeError:
                loose = []
            for entry in loose:
                found = find_bad_side(entry.bids, entry.asks, snapshot=snapshot)
                if found is not None:
                    self._flag(inst_id)
                    raise malformed(VENUE, found[1], f"{inst_id} {found[0]}") from None
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: {exc}") from exc
        except msgspec.DecodeError as exc:
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: {exc}") from exc

    def _decode_texts(self, data: msgspec.Raw, inst_id: str) -> list[schemas.BookText]:
        try:
            return schemas.BOOK_TEXT.decode(data)
        except msgspec.DecodeError as exc:  # a JSON number where Bitget writes a string
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: level text: {exc}") from exc

    def _checked(
        self, inst_id: str, bids: list[tuple[float, float]], asks: list[tuple[float, float]]
    ) -> None:
        try:
            check_snapshot(bids, asks)
        except LevelError as exc:
            self._flag(inst_id)
            raise malformed(VENUE, exc, f"{inst_id} snapshot") from None

    def _incremental(self, inst_id: str, envelope: schemas.Envelope, ts_recv: int) -> list[MdEvent]:
        action = envelope.action
        if action not in ("snapshot", "update"):
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: action {action!r}")
        snapshot = action == "snapshot"
        entries = self._decode(envelope.data, inst_id, snapshot)
        texts = self._decode_texts(envelope.data, inst_id)
        symbol = self._symbol(inst_id)
        events: list[MdEvent] = []
        for entry, text in zip(entries, texts, strict=True):
            if entry.seq is None:
                self._flag(inst_id)
                raise MalformedFrame(VENUE, "book", f"{inst_id}: {action} without seq")
            bids_text, asks_text = _texts(text.bids), _texts(text.asks)
            if snapshot:
                bids, asks = _floats(entry.bids), _floats(entry.asks)
                self._checked(inst_id, bids, asks)
                self._last[inst_id] = entry.seq
                events.append(
                    BookSnapshot(
                        venue=VENUE,
                        symbol=symbol,
                        seq=entry.seq,
                        bids=bids,
                        asks=asks,
                        ts_event=_ts_ns(entry.ts),
                        ts_recv=ts_recv,
                        checksum=entry.checksum or None,
                        bids_text=bids_text,
                        asks_text=asks_text,
                    )
                )
                continue
            last = self._last.get(inst_id)
            if last is not None and entry.seq <= last:  # maintenance: the chain restarts
                self._flag(inst_id)
                continue
            prev = last if last is not None else entry.seq - 1
            if last is not None:
                self._last[inst_id] = entry.seq
            events.append(
                BookDelta(
                    venue=VENUE,
                    symbol=symbol,
                    prev_seq=prev,
                    seq=entry.seq,
                    bids=_floats(entry.bids),
                    asks=_floats(entry.asks),
                    ts_event=_ts_ns(entry.ts),
                    ts_recv=ts_recv,
                    checksum=entry.checksum,
                    bids_text=bids_text,
                    asks_text=asks_text,
                )
            )
        return events

    def _top_snapshots(
        self, inst_id: str, depth: int, data: msgspec.Raw, ts_recv: int
    ) -> list[MdEvent]:
        entries = self._decode(data, inst_id, True)
        symbol = self._symbol(inst_id)
        events: list[MdEvent] = []
        for entry in entries:
            bids, asks = _floats(entry.bids), _floats(entry.asks)
            self._checked(inst_id, bids, asks)
            seq = entry.seq
            if seq is None:
                seq = self._synthetic[inst_id] = self._synthetic.get(inst_id, 0) + 1
            events.append(
                BookSnapshot(
                    venue=VENUE,
                    symbol=symbol,
                    seq=seq,
                    bids=bids,
                    asks=asks,
                    ts_event=_ts_ns(entry.ts),
                    ts_recv=ts_recv,
                    depth=depth,
                )
            )
        return events


def _preview(raw: str | bytes) -> str:
    text = raw[:120] if isinstance(raw, str) else raw[:120].decode(errors="replace")
    return repr(text)
