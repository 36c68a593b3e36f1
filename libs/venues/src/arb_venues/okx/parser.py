"""OKX v5 public frames -> normalised book events. Pure, no I/O.

Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel

Sequence normalisation (the BOOK service applies the rule; we only map fields):
- ``books`` (incremental, 400 levels): seq = ``seqId``, prev_seq = ``prevSeqId``. A
  ``snapshot`` action is a BookSnapshot at ``seqId`` (its prevSeqId is always -1).
  Two documented exceptions: a keep-alive with empty sides and ``seqId == prevSeqId`` carries
  nothing (-> []); a maintenance reset (``seqId < prevSeqId``) breaks continuity, so the book
  is flagged in ``resync_needed`` and the frame yields nothing (the REST snapshot that
  follows restarts the book at the new sequence).
- Frames without ``seqId`` (recordings made before OKX added it in 2022) get a synthetic
  per-book counter: a snapshot is 1, each update prev = n, seq = n + 1.
- ``books5`` / ``bbo-tbt`` push whole top-5 / top-1 snapshots: each is a BookSnapshot with
  ``depth`` 5 / 1.
- REST ``GET /api/v5/market/books`` is a BookSnapshot at its ``seqId`` (OKX's current
  procedure, changelog 2026-02-12: https://www.okx.com/docs-v5/log_en), with exact text.

Two snapshots of one book (the WS ``snapshot`` that OKX still pushes after a subscribe and
the REST snapshot the feed fetches, or two WS snapshots): the parser follows each book's
seqId chain from the snapshot it emitted (an update continues it when ``prevSeqId <= last <
seqId``, OKX's join rule). A later snapshot whose seqId is not past that chain's last seqId
holds nothing the book lacks, and resetting the book to it would throw away updates already
applied (the next update would then look like a gap): it is dropped and counted in
``duplicate_snapshots``. A newer one, or any snapshot after the chain broke or after
``reset()`` (the feed resets a book before it asks for a resync snapshot), is emitted.

Checksums: a non-zero ``checksum`` is passed on with the exact level text; ``0`` (what OKX
sends since 2026-06-23, https://www.okx.com/help/okx-order-book-channels-checksum-field-deprecation)
or no field at all (the changelog's delisting) means "no checksum", never "no validation":
every level is still checked (``arb_venues.common.levels``: price finite and > 0, size finite
and >= 0, snapshots best-first, no size 0, not crossed), continuity still comes from
seqId/prevSeqId, and the book service audits the book against REST snapshots. A frame that
breaks a level rule is a MalformedFrame of that rule's kind and its book is flagged in
``resync_needed`` (its seqId chain, or synthetic counter, is broken so the next update is a
gap). ``pong``, acks, notices, trades, tickers -> [].
An ``error`` event (e.g. 60012 for a bad subscribe) raises MalformedFrame(kind
"error_event") so the feed counts and logs it once instead of dropping it silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import (
    LevelError,
    check_snapshot,
    find_bad_side,
    malformed,
    read_price,
    read_size,
)
from arb_venues.common.symbols import INVERSE, LINEAR, SymbolMap, market_symbol
from arb_venues.errors import MalformedFrame
from arb_venues.okx import schemas

VENUE = "okx"
INCREMENTAL_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
SNAPSHOT_CHANNELS = {"books5": 5, "bbo-tbt": 1}
CHANNEL_DEPTH = {"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50}
_MS = 1_000_000
# event "notice", code 64008: "The connection will soon be closed for a service upgrade. Please
# reconnect.", 30 s before (https://www.okx.com/docs-v5/en/#overview-websocket-notification).
SERVICE_UPGRADE = "64008"


def _ts_ns(ts: str) -> int:
    try:
        return int(ts) * _MS
    except ValueError:
        return 0


def _floats(levels: list[schemas.FloatLevel]) -> list[tuple[float, float]]:
    return [(level.px, level.sz) for level in levels]


def _texts(levels: list[schemas.TextLevel]) -> list[tuple[str, str]]:
    return [(level[0], level[1]) for level in levels]


def _pairs(levels: list[schemas.TextPair]) -> list[tuple[str, str]]:
    return [(level.px, level.sz) for level in levels]


class OkxParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._synthetic: dict[str, int] = {}  # instId -> last synthetic seq
        # instId -> last seqId of the unbroken chain since the snapshot we emitted
        self._chain: dict[str, int] = {}
        self.duplicate_snapshots = 0

    # -- FeedParser ----------------------------------------------------------------------

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        """Spot ``BTC-USDT`` is already BASE-QUOTE. A derivative (``BTC-USDT-SWAP``,
        ``BTC-USD-220527``, options) keeps its instId, so every contract is its own book, with
        its market appended (``arb_venues.common.symbols``): USD-quoted OKX contracts are
        coin-margined (inverse), the others (USDT, USDC) linear. So ``BTC-USDT-SWAP:linear``
        never collides with the spot ``BTC-USDT``.
        https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments (instId, ctType)
        """
        parts = venue_symbol.upper().split("-")
        if len(parts) < 2 or not all(p.isalnum() for p in parts):
            return None
        if len(parts) == 2:
            return "-".join(parts)
        market = INVERSE if parts[1] == "USD" else LINEAR
        return market_symbol("-".join(parts), market)

    def reset(self, venue_symbol: str | None = None) -> None:
        if venue_symbol is None:
            self._synthetic.clear()
            self._chain.clear()
        else:
            self._synthetic.pop(venue_symbol, None)
            self._chain.pop(venue_symbol, None)

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        if raw == "pong" or raw == b"pong":
            return []
        # The hot path: an incremental book push read whole (one read instead of the
        # envelope's and then its data's); everything else is read the envelope way.
        try:
            frame: schemas.BookFrame | None = schemas.BOOK_FRAME.decode(raw)
        except msgspec.DecodeError:
            frame = None
        if (
            frame is not None
            and frame.event is None
            and frame.arg.channel in INCREMENTAL_CHANNELS
            and frame.action in ("snapshot", "update")
        ):
            inst_id = frame.arg.instId
            return self._entries(
                inst_id,
                frame.arg.channel,
                frame.action == "snapshot",
                frame.data,
                lambda: self._decode_frame_texts(raw, inst_id),
                ts_recv,
            )
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
            if envelope.event == "notice" and envelope.code == SERVICE_UPGRADE:
                self.reconnect_notice = True  # the server goes for an upgrade in 30 s
            return []  # subscribe/unsubscribe acks, notice, channel-conn-count
        arg = envelope.arg
        if arg is None or not schemas.present(envelope.data):
            raise MalformedFrame(VENUE, "shape", f"no arg/data: {_preview(raw)}")
        channel = arg.channel
        if channel in INCREMENTAL_CHANNELS:
            return self._incremental(arg.instId, channel, envelope, ts_recv)
        depth = SNAPSHOT_CHANNELS.get(channel)
        if depth is not None:
            return self._top_snapshots(arg.instId, depth, envelope.data, ts_recv)
        return []  # trades, tickers and other channels carry no book data

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith("/api/v5/market/books"):
            return []
        inst_ids = parse_qs(parts.query).get("instId")
        if not inst_ids:
            raise MalformedFrame(VENUE, "rest_snapshot", f"no instId in {url}")
        inst_id = inst_ids[0]
        try:
            envelope = schemas.REST_ENVELOPE.decode(body)
            if envelope.code != "0" or not schemas.present(envelope.data):
                raise MalformedFrame(
                    VENUE, "rest_snapshot", f"{inst_id}: code {envelope.code}: {envelope.msg}"
                )
            books = schemas.REST_BOOKS.decode(envelope.data)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest_snapshot", f"{inst_id}: {exc}") from exc
        if len(books) != 1:
            raise MalformedFrame(VENUE, "rest_snapshot", f"{inst_id}: {len(books)} books")
        book = books[0]
        if book.seqId is None:
            raise MalformedFrame(
                VENUE,
                "rest_snapshot",
                f"{inst_id}: no seqId in the REST book, so it cannot be joined to the WS "
                "stream; the venue must return seqId (OKX changelog 2026-02-12)",
            )
        symbol = self._symbol(inst_id)
        try:
            bids_text, asks_text = _texts(book.bids), _texts(book.asks)
            bids = _read_levels(bids_text)
            asks = _read_levels(asks_text)
            check_snapshot(bids, asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{inst_id} REST snapshot") from None
        except (ValueError, IndexError) as exc:
            raise MalformedFrame(VENUE, "rest_snapshot", f"{inst_id}: {exc}") from exc
        self._synthetic.pop(inst_id, None)
        if not self._take_snapshot(inst_id, book.seqId):
            return []
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=symbol,
                seq=book.seqId,
                bids=bids,
                asks=asks,
                ts_event=_ts_ns(book.ts),
                ts_recv=ts_recv,
                bids_text=bids_text,
                asks_text=asks_text,
                depth=max(len(bids), len(asks)),
            )
        ]

    # -- channels ------------------------------------------------------------------------

    def _symbol(self, inst_id: str) -> str:
        symbol = self.symbols.to_symbol(inst_id)
        if symbol is None:
            raise MalformedFrame(VENUE, "symbol", f"unknown instId {inst_id!r}")
        return symbol

    def _decode_books(
        self, data: msgspec.Raw, inst_id: str, snapshot: bool
    ) -> list[schemas.BookData]:
        try:
            return schemas.BOOK_DATA.decode(data)
        except msgspec.ValidationError as exc:
            raise self._diagnose(data, inst_id, snapshot, exc) from exc
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "book", f"{inst_id}: {exc}") from exc

    def _diagnose(
        self, data: msgspec.Raw, inst_id: str, snapshot: bool, exc: Exception
    ) -> MalformedFrame:
        """Which level made msgspec refuse a book frame (slow path: refused frames only)."""
        try:
            loose = schemas.LOOSE_BOOKS.decode(data)
        except msgspec.DecodeError:
            return MalformedFrame(VENUE, "book", f"{inst_id}: {exc}")
        for entry in loose:
            found = find_bad_side(entry.bids, entry.asks, snapshot=snapshot)
            if found is not None:
                self._flag(inst_id)
                return malformed(VENUE, found[1], f"{inst_id} {found[0]}")
        return MalformedFrame(VENUE, "book", f"{inst_id}: {exc}")

    def _decode_texts(self, data: msgspec.Raw, inst_id: str) -> list[schemas.BookTextPairs]:
        """The exact level text a checksum is computed from: strings, as OKX sends them."""
        try:
            return schemas.BOOK_TEXT_PAIRS.decode(data)
        except msgspec.DecodeError as exc:  # e.g. a JSON number where OKX writes a string
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: level text: {exc}") from exc

    def _flag(self, inst_id: str) -> None:
        """A book frame of ``inst_id`` was refused: the book needs a resync, and nothing that
        follows may look continuous with what it held."""
        self.resync_needed.add(inst_id)
        self._chain.pop(inst_id, None)
        if inst_id in self._synthetic:
            self._synthetic[inst_id] += 1

    def _checked(
        self, inst_id: str, bids: list[tuple[float, float]], asks: list[tuple[float, float]]
    ) -> None:
        """A snapshot must be best-first on both sides, hold no size 0 and not be crossed."""
        try:
            check_snapshot(bids, asks)
        except LevelError as exc:
            self._flag(inst_id)
            raise malformed(VENUE, exc, f"{inst_id} snapshot") from None

    def _incremental(
        self, inst_id: str, channel: str, envelope: schemas.Envelope, ts_recv: int
    ) -> list[MdEvent]:
        action = envelope.action
        if action not in ("snapshot", "update"):
            raise MalformedFrame(VENUE, "book", f"{inst_id}: action {action!r}")
        entries = self._decode_books(envelope.data, inst_id, action == "snapshot")
        data = envelope.data
        return self._entries(
            inst_id,
            channel,
            action == "snapshot",
            entries,
            lambda: self._decode_texts(data, inst_id),
            ts_recv,
        )

    def _decode_frame_texts(self, raw: str | bytes, inst_id: str) -> list[schemas.BookTextPairs]:
        try:
            return schemas.BOOK_TEXT_FRAME.decode(raw).data
        except msgspec.DecodeError as exc:  # e.g. a JSON number where OKX writes a string
            self._flag(inst_id)
            raise MalformedFrame(VENUE, "book", f"{inst_id}: level text: {exc}") from exc

    def _entries(
        self,
        inst_id: str,
        channel: str,
        snapshot: bool,
        entries: list[schemas.BookData],
        read_texts: Callable[[], list[schemas.BookTextPairs]],
        ts_recv: int,
    ) -> list[MdEvent]:
        """The events of an incremental push's entries; ``read_texts`` reads the frame's
        level text, once, when an entry carries a checksum."""
        symbol = self._symbol(inst_id)
        texts: list[schemas.BookTextPairs] | None = None
        events: list[MdEvent] = []
        for i, entry in enumerate(entries):
            checksum = entry.checksum or None  # 0 = "no checksum" since 2026-06-23
            bids_text = asks_text = None
            if checksum is not None:
                if texts is None:
                    texts = read_texts()
                bids_text, asks_text = _pairs(texts[i].bids), _pairs(texts[i].asks)
            ts_event = _ts_ns(entry.ts)
            if snapshot:
                bids, asks = _floats(entry.bids), _floats(entry.asks)
                self._checked(inst_id, bids, asks)
                seq = entry.seqId
                if seq is None:
                    seq = self._synthetic[inst_id] = 1
                else:
                    self._synthetic.pop(inst_id, None)
                    if not self._take_snapshot(inst_id, seq):
                        continue
                events.append(
                    BookSnapshot(
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
                        depth=CHANNEL_DEPTH[channel],
                    )
                )
                continue
            if entry.seqId is None:
                prev = self._synthetic.get(inst_id, 0)
                seq = self._synthetic[inst_id] = prev + 1
            else:
                seq = entry.seqId
                prev = entry.prevSeqId if entry.prevSeqId is not None else seq - 1
                if seq == prev and not entry.bids and not entry.asks:
                    continue  # documented keep-alive: nothing changed
                if seq < prev:  # documented maintenance reset of the sequence
                    self.resync_needed.add(inst_id)
                    self._chain.pop(inst_id, None)
                    continue
                self._follow_chain(inst_id, prev, seq)
            events.append(
                BookDelta(
                    venue=VENUE,
                    symbol=symbol,
                    prev_seq=prev,
                    seq=seq,
                    bids=_floats(entry.bids),
                    asks=_floats(entry.asks),
                    ts_event=ts_event,
                    ts_recv=ts_recv,
                    checksum=checksum,
                    bids_text=bids_text,
                    asks_text=asks_text,
                )
            )
        return events

    def _take_snapshot(self, inst_id: str, seq: int) -> bool:
        """Whether a snapshot at ``seq`` is news: False when the unbroken chain since the
        last emitted snapshot has already reached it (a duplicate)."""
        last = self._chain.get(inst_id)
        if last is not None and seq <= last:
            self.duplicate_snapshots += 1
            return False
        self._chain[inst_id] = seq
        return True

    def _follow_chain(self, inst_id: str, prev: int, seq: int) -> None:
        last = self._chain.get(inst_id)
        if last is None or seq <= last:
            return  # no snapshot yet, or an update the snapshot already holds
        if prev <= last:
            self._chain[inst_id] = seq
        else:
            del self._chain[inst_id]  # a gap: the book will ask for a snapshot; take it

    def _top_snapshots(
        self, inst_id: str, depth: int, data: msgspec.Raw, ts_recv: int
    ) -> list[MdEvent]:
        entries = self._decode_books(data, inst_id, True)
        symbol = self._symbol(inst_id)
        events: list[MdEvent] = []
        for entry in entries:
            bids, asks = _floats(entry.bids), _floats(entry.asks)
            self._checked(inst_id, bids, asks)
            seq = entry.seqId
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


def _read_levels(texts: list[tuple[str, str]]) -> list[tuple[float, float]]:
    """REST levels (exact text) read on purpose, as snapshot levels (size 0 refused)."""
    return [(read_price(price), read_size(size, snapshot=True)) for price, size in texts]


def _preview(raw: str | bytes) -> str:
    text = raw[:120] if isinstance(raw, str) else raw[:120].decode(errors="replace")
    return repr(text)
