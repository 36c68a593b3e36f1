"""Kraken spot WS v1 ``book-N`` frames (arrays with string decimals, XBT spelling).

Snapshot ``[chanId, {"as": [...], "bs": [...]}, "book-10", "XBT/USD"]``; update
``[chanId, {"a": [...]}, ("{"b": [...], "c": "974947235"}",) "book-10", "XBT/USD"]``; ``c``
(the unsigned CRC32, decimal text) sits in the last a/b object; a level's 4th element ``"r"``
marks a republish, applied like any update. Snapshots carry no checksum.
https://docs.kraken.com/api/docs/websocket-v1/book and .../guides/spot-ws-book-v1

The hot path reads a book frame whole, twice, in msgspec's C decoder: once as text (the
checksum's exact level text) and once as checked floats (``schemas.V1_NUMBER_FRAME``: the
same number grammar and bounds as ``arb_venues.common.levels``), so a valid frame costs no
Python per number. A frame either read refuses (trades, tickers, a bad level, an odd shape)
goes the part-by-part way (``_parse_parts``), which says what is wrong, or returns [] for a
channel that is not a book.
"""

from __future__ import annotations

import msgspec
from arb_orderbook import native
from arb_structs import BookDelta, Level, LevelText, MdEvent

from arb_venues.common.levels import MAX_PRICE, MAX_SIZE, LevelError, check_snapshot, read_number
from arb_venues.common.symbols import SymbolMap
from arb_venues.kraken import schemas
from arb_venues.kraken import symbols as kraken_symbols
from arb_venues.kraken.parser import (
    _V1_QUIET_EVENTS,
    DEFAULT_DEPTH,
    VENUE,
    _KrakenParserBase,
    _malformed,
    _text_levels,
)

_PAIRS_MAX = 4096
STAMP_LIMIT = 1e11  # a level time (epoch seconds) is in [0, STAMP_LIMIT)
# The compiled reader of a whole book frame where the compiled book runs (None: msgspec's),
# called as ``ROWS_READER(raw, _ROW_SLOTS, _DIGIT_SLOTS, MAX_PRICE, MAX_SIZE, STAMP_LIMIT)``:
# it checks the level and time bounds of _text_levels and _latest_ns itself, and reads the
# checksum's digits into an int (a "c" of anything else, or of more than 18 digits, is left
# to the other reads).
ROWS_READER = native.COMPILED.rows_frame if native.COMPILED is not None else None
# Its slots: a book object's keys with levels (snapshot asks, bids; update asks, bids), and c.
_ROW_SLOTS = {"as": 0, "bs": 1, "a": 2, "b": 3}
_DIGIT_SLOTS = {"c": 0}
_SNAPSHOT_SLOTS = 1 << 0 | 1 << 1
_UPDATE_SLOTS = 1 << 2 | 1 << 3


class KrakenV1Parser(_KrakenParserBase):
    def __init__(self, symbols: SymbolMap | None = None, depth: int = DEFAULT_DEPTH) -> None:
        super().__init__(symbols, depth)
        self._pairs: dict[str, str] = {}  # v1 pair (XBT/USD) -> its v2 spelling (BTC/USD)
        self.rows_reader = ROWS_READER  # None: msgspec's read and the reference only (tests)
        # v1 pair -> (venue symbol, symbol) of a book with a snapshot since its last reset:
        # the hot path's one look-up. Filled by _book_compiled, emptied by every reset.
        self._hot: dict[str, tuple[str, str]] = {}

    def reset(self, venue_symbol: str | None = None) -> None:
        self._hot.clear()
        super().reset(venue_symbol)

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        reader = self.rows_reader
        if reader is not None:
            read = reader(raw, _ROW_SLOTS, _DIGIT_SLOTS, MAX_PRICE, MAX_SIZE, STAMP_LIMIT)
            if read is not None:
                # The common frame: an update of a live book, its symbol known (_hot). The
                # reader checked every bound; what is left is _book_compiled's, inline.
                _, channel, pair, seen, levels, texts, ints, _, stamp = read
                hot = self._hot.get(pair)
                if (
                    hot is not None
                    and not seen & _SNAPSHOT_SLOTS
                    and (levels[2] or levels[3])
                    and channel.startswith("book")
                ):
                    venue_symbol, symbol = hot
                    seqs = self._seq
                    seq = seqs[venue_symbol] + 1
                    seqs[venue_symbol] = seq
                    return [BookDelta(venue=VENUE, symbol=symbol, prev_seq=seq - 1, seq=seq,
                                      bids=levels[3], asks=levels[2],
                                      ts_event=int(stamp * 1_000_000_000), ts_recv=ts_recv,
                                      checksum=ints[0],
                                      bids_text=texts[3], asks_text=texts[2])]  # fmt: skip
                events = self._book_compiled(read, ts_recv)
                if events is not None:
                    return events
        try:
            texts = schemas.V1_BOOK_FRAME.decode(raw)
            numbers = schemas.V1_NUMBER_FRAME.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, TypeError):
            return self._parse_other(raw, ts_recv)
        if len(texts) < 4 or len(numbers) != len(texts):
            return self._parse_other(raw, ts_recv)
        channel, pair = texts[-2], texts[-1]
        if type(channel) is not str or type(pair) is not str or not channel.startswith("book"):
            return self._parse_other(raw, ts_recv)
        venue_symbol = self._venue_symbol(pair)
        events = self._book_read(channel, venue_symbol, texts[1:-2], numbers[1:-2], ts_recv)
        return self._parse_other(raw, ts_recv) if events is None else events

    def _venue_symbol(self, pair: str) -> str:
        venue_symbol = self._pairs.get(pair)
        if venue_symbol is None:
            if len(self._pairs) >= _PAIRS_MAX:  # bounded whatever the feed sends
                self._pairs.clear()
            venue_symbol = self._pairs[pair] = kraken_symbols.v2_symbol(pair)
        return venue_symbol

    def _book_compiled(
        self,
        read: tuple[int, str, str, int, list[list[Level]], list[list[LevelText]],
                    list[int | None], bool, float],
        ts_recv: int,
    ) -> list[MdEvent] | None:  # fmt: skip
        """A book frame the compiled reader read whole (numbers in the JSON grammar, finite
        and within the bounds of _text_levels and _latest_ns) that the hot path did not
        take: the events ``_book_checked`` gives for it. None, before any state changes, for
        any frame it would refuse or one that is not a book frame (the other reads then say
        what is wrong)."""
        _, channel, pair, seen, levels, texts, ints, zero, stamp = read
        if not channel.startswith("book"):
            return None
        snapshot = bool(seen & _SNAPSHOT_SLOTS)
        if snapshot:
            if seen & _UPDATE_SLOTS or zero:
                return None  # a snapshot with update rows (their order) or a size 0
            asks, bids, asks_text, bids_text = levels[0], levels[1], texts[0], texts[1]
            try:
                check_snapshot(bids, asks)
            except LevelError:
                return None
        else:
            asks, bids, asks_text, bids_text = levels[2], levels[3], texts[2], texts[3]
            if not bids and not asks:
                return None
        checksum = ints[0]
        venue_symbol = self._pairs.get(pair) or self._venue_symbol(pair)
        ts_event = int(stamp * 1_000_000_000)
        if snapshot:
            return self._book_events(channel, venue_symbol, snapshot, bids, asks, bids_text,
                                     asks_text, checksum, ts_event, ts_recv)  # fmt: skip
        delta = self._delta(  # _book_events' delta, without its call
            venue_symbol, bids, asks, bids_text, asks_text, checksum, ts_event, ts_recv
        )
        if delta is None:
            return []
        self._hot[pair] = (venue_symbol, delta.symbol)  # the book is live: later updates
        return [delta]

    def _parse_other(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Every frame the hot path did not take: events, other channels, and book frames
        either read refused (read again part by part, to say what is wrong)."""
        if not isinstance(raw, str | bytes):
            raise _malformed("json", f"frame is {type(raw).__name__}, not text")
        head = raw.lstrip()[:1]
        if head in ("{", b"{"):
            return self._event(raw)
        return self._parse_parts(raw, ts_recv)

    def _parse_parts(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """The part-by-part read: non-book frames, and the frames the hot path refused."""
        try:
            parts = schemas.V1_PARTS.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _malformed("json", str(exc)) from exc
        if len(parts) < 4:
            raise _malformed("book", f"array frame of {len(parts)} elements, expected >= 4")
        try:
            channel = msgspec.json.decode(parts[-2], type=str)
            if not channel.startswith("book"):
                return []  # trade, ticker, spread...
            pair = msgspec.json.decode(parts[-1], type=str)
            datas = [schemas.V1_BOOK_DATA.decode(p) for p in parts[1:-2]]
        except msgspec.DecodeError as exc:
            raise _malformed("book", str(exc)) from exc
        return self._book_checked(channel, kraken_symbols.v2_symbol(pair), datas, ts_recv)

    def _event(self, raw: str | bytes) -> list[MdEvent]:
        try:
            event = schemas.V1_EVENT.decode(raw)
        except msgspec.DecodeError as exc:
            raise _malformed("json", str(exc)) from exc
        if event.event == "subscriptionStatus" and event.status == "error":
            raise _malformed("request_rejected", f"{event.pair}: {event.errorMessage}")
        if event.event in _V1_QUIET_EVENTS:
            return []
        raise _malformed("unknown_message", f"event {event.event!r}")

    def _book_read(
        self,
        channel: str,
        venue_symbol: str,
        datas: list[int | str | schemas.V1BookData],
        numbers: list[int | str | schemas.V1NumberData],
        ts_recv: int,
    ) -> list[MdEvent] | None:
        """A book frame both reads accepted: its levels' numbers are already checked. None
        when its middle parts are not all book objects (the caller reads it part by part)."""
        bids: list[Level] = []
        asks: list[Level] = []
        bids_text: list[LevelText] = []
        asks_text: list[LevelText] = []
        checksum: int | None = None
        snapshot = False
        stamps: list[float] = []
        for data, number in zip(datas, numbers, strict=True):
            if type(data) is not schemas.V1BookData or type(number) is not schemas.V1NumberData:
                return None
            # Both reads are of the same array: one number level per text row, each row of at
            # least price and volume (the number read requires both).
            if data.snapshot_asks is not None or data.snapshot_bids is not None:
                snapshot = True
                for rows, levels, out, out_text in (
                    (data.snapshot_asks, number.snapshot_asks, asks, asks_text),
                    (data.snapshot_bids, number.snapshot_bids, bids, bids_text),
                ):
                    if rows is not None and levels is not None:
                        out_text += [(row[0], row[1]) for row in rows]
                        out += [(level.price, level.volume) for level in levels]
                        stamps += [level.stamp for level in levels]
            rows, levels = data.a, number.a
            if rows is not None and levels is not None:
                asks_text += [(row[0], row[1]) for row in rows]
                asks += [(level.price, level.volume) for level in levels]
                stamps += [level.stamp for level in levels]
            rows, levels = data.b, number.b
            if rows is not None and levels is not None:
                bids_text += [(row[0], row[1]) for row in rows]
                bids += [(level.price, level.volume) for level in levels]
                stamps += [level.stamp for level in levels]
            if data.c is not None:
                try:
                    checksum = int(data.c)
                except ValueError as exc:
                    raise _malformed("checksum", f"c={data.c!r} is not an integer") from exc
        if not snapshot and not bids and not asks:
            raise _malformed("book", f"{channel} {venue_symbol}: no levels")
        if snapshot:
            try:
                check_snapshot(bids, asks)
            except LevelError as exc:
                raise self._refuse(venue_symbol, exc, "snapshot") from None
        ts_event = int(max(stamps, default=0.0) * 1_000_000_000)
        return self._book_events(channel, venue_symbol, snapshot, bids, asks, bids_text,
                                 asks_text, checksum, ts_event, ts_recv)  # fmt: skip

    def _book_checked(
        self, channel: str, venue_symbol: str, datas: list[schemas.V1BookData], ts_recv: int
    ) -> list[MdEvent]:
        bid_rows: list[list[str]] = []
        ask_rows: list[list[str]] = []
        checksum: int | None = None
        snapshot = False
        for data in datas:
            if data.snapshot_asks is not None or data.snapshot_bids is not None:
                snapshot = True
                ask_rows += data.snapshot_asks or []
                bid_rows += data.snapshot_bids or []
            ask_rows += data.a or []
            bid_rows += data.b or []
            if data.c is not None:
                try:
                    checksum = int(data.c)
                except ValueError as exc:
                    raise _malformed("checksum", f"c={data.c!r} is not an integer") from exc
        if not snapshot and not bid_rows and not ask_rows:
            raise _malformed("book", f"{channel} {venue_symbol}: no levels")
        try:
            bids, bids_text = _text_levels(bid_rows, snapshot=snapshot)
            asks, asks_text = _text_levels(ask_rows, snapshot=snapshot)
            if snapshot:
                check_snapshot(bids, asks)
        except LevelError as exc:
            raise self._refuse(venue_symbol, exc, "snapshot" if snapshot else "update") from None
        ts_event = _latest_ns(bid_rows, ask_rows)
        return self._book_events(channel, venue_symbol, snapshot, bids, asks, bids_text,
                                 asks_text, checksum, ts_event, ts_recv)  # fmt: skip

    def _book_events(
        self, channel: str, venue_symbol: str, snapshot: bool, bids: list[Level],
        asks: list[Level], bids_text: list[LevelText], asks_text: list[LevelText],
        checksum: int | None, ts_event: int, ts_recv: int,
    ) -> list[MdEvent]:  # fmt: skip
        """One book frame's event, whichever reader read it: a snapshot at the channel's
        depth, or a delta (none when it changed nothing)."""
        if snapshot:
            depth = _channel_depth(channel) or self.depth
            return [
                self._snapshot(
                    venue_symbol, bids, asks, bids_text, asks_text, None, depth, ts_event, ts_recv
                )
            ]
        delta = self._delta(
            venue_symbol, bids, asks, bids_text, asks_text, checksum, ts_event, ts_recv
        )
        return [delta] if delta is not None else []


def _channel_depth(channel: str) -> int:
    """book-25 -> 25 (0 when the name carries no depth)."""
    _, _, depth = channel.partition("-")
    return int(depth) if depth.isdigit() else 0


def _latest_ns(*sides: list[list[str]]) -> int:
    """The newest level timestamp ("1534614248.123678", epoch seconds) in ns; 0 if none."""
    latest = 0.0
    for rows in sides:
        for row in rows:
            if len(row) > 2:
                stamp = read_number(row[2])  # "Infinity" or "1e400" is no time either
                if stamp is None or not 0.0 <= stamp < STAMP_LIMIT:
                    raise _malformed("timestamp", f"level time {row[2]!r}")
                latest = max(latest, stamp)
    return int(latest * 1_000_000_000)
