"""HTX (Huobi) spot frames -> normalised book events.

Frames: every WS frame HTX sends is gzip-compressed JSON
(https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data); a recording keeps the
decompressed text (shared/fixtures/README.md, ``raw_note``). Both read the same here: bytes
that start with the gzip magic are inflated first.

Two book channels, told apart by the topic in ``ch`` / ``rep``:

- ``market.$symbol.depth.step0`` pushes the whole book (150 levels) about once a second:
  each push is a BookSnapshot that replaces the book, ``seq = tick.version`` (HTX: "use
  `version` to de-duplicate and discard the smaller data", Best Practice, Depth). The 2021
  recording holds only these;
- ``market.$symbol.mbp.$levels`` (on ``/feed``) pushes incremental updates with ``seqNum``
  and ``prevSeqNum``; its full book comes from a ``req`` of the same topic on the same
  connection, whose ``seqNum`` "should match with the prevSeqNum inside one of incremental
  messages" (HTX notice 2020-05-28, https://www.huobi.com/support/en-us/detail/900001078223/).
  An update is a BookDelta ``(prev_seq, seq) = (prevSeqNum, seqNum)``: the book's one rule
  applies it when ``prevSeqNum <= book.seq`` (HTX's own rule is ``prevSeqNum == book.seq``;
  the looser one only also admits an overlap, harmless since levels are absolute), drops
  ``seqNum <= book.seq`` and calls anything else a gap. The ``req`` answer is a BookSnapshot
  with ``seq = seqNum``. HTX never sends that book by itself, so the subscribe ack of an mbp
  topic flags its book in ``resync_needed``: the feed then sends the market's resync, which
  for this channel is exactly that ``req`` (market.py).

Every level is checked as it is decoded (``arb_venues.common.levels``); a full book must also
be best-first (HTX: bids descending, asks ascending), hold no size 0 and not be crossed. A
refused book frame is a MalformedFrame of its rule's kind and flags its book for a resync.

The server's heartbeat ``{"ping": <ms>}`` yields no event: the parser answers it with
``{"pong": <ms>}`` in ``replies``, which the feed sends on the same connection.
"""

from __future__ import annotations

import zlib
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, Level, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.common.symbols import SymbolMap, split_glued
from arb_venues.errors import MalformedFrame
from arb_venues.htx import schemas

VENUE = "htx"
_MS = 1_000_000  # ms -> ns
GZIP_MAGIC = b"\x1f\x8b"


def inflate(raw: str | bytes) -> str | bytes:
    """The JSON text of a frame: gzip bytes inflated, anything else as it is."""
    if isinstance(raw, bytes | bytearray) and raw[:2] == GZIP_MAGIC:
        try:
            return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            raise MalformedFrame(
                VENUE, "gzip", f"cannot inflate a {len(raw)}-byte frame: {exc}"
            ) from None
    return raw


def topic_parts(topic: str) -> tuple[str, str]:
    """``market.btcusdt.mbp.150`` -> ("btcusdt", "mbp.150"); ("", "") for anything else."""
    parts = topic.split(".", 2)
    if len(parts) != 3 or parts[0] != "market":
        return "", ""
    return parts[1], parts[2]


def is_mbp(channel: str) -> bool:
    """The incremental channel ``mbp.<levels>`` (not ``mbp.refresh.<levels>``)."""
    kind, _, levels = channel.partition(".")
    return kind == "mbp" and levels.isdigit()


def is_full_book(channel: str) -> bool:
    """Channels whose every push is the whole book: ``depth.step<n>``, ``mbp.refresh.<n>``."""
    return channel.startswith("depth.step") or channel.startswith("mbp.refresh.")


class HtxParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.pings_seen = 0

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        text = inflate(raw)
        try:
            push = schemas.push_decoder.decode(text)
        except msgspec.ValidationError as exc:
            return self._refused(text, exc, ts_recv)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        venue_symbol, channel = topic_parts(push.ch)
        if is_mbp(channel):
            return [self._delta(venue_symbol, push, ts_recv)]
        if is_full_book(channel):
            tick = push.tick
            seq = tick.version if tick.version is not None else tick.seqNum
            return [self._snapshot(venue_symbol, tick.bids, tick.asks, seq,
                                   tick.ts or push.ts, ts_recv)]  # fmt: skip
        return []  # trade.detail, bbo, kline, ...: no book data

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith("/market/depth"):
            return []
        symbols = parse_qs(parts.query).get("symbol")
        if not symbols:
            raise MalformedFrame(VENUE, "snapshot", f"no symbol= in the depth URL {url!r}")
        try:
            depth = schemas.depth_decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise self._diagnose_rest(symbols[0], body, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "snapshot", f"{symbols[0]}: {exc}") from None
        if depth.status != "ok":
            raise MalformedFrame(VENUE, "snapshot", f"{symbols[0]}: status {depth.status!r}")
        tick = depth.tick
        return [self._snapshot(symbols[0], tick.bids, tick.asks, tick.version,
                               tick.ts or depth.ts, ts_recv, flag=False)]  # fmt: skip

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        pair = split_glued(venue_symbol)
        return f"{pair[0]}-{pair[1]}" if pair else None

    # -- internals ---------------------------------------------------------------------------

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"cannot normalise {venue_symbol!r}")
        return symbol

    def _delta(self, venue_symbol: str, push: schemas.Push, ts_recv: int) -> BookDelta:
        tick = push.tick
        if tick.seqNum is None or tick.prevSeqNum is None or tick.seqNum <= tick.prevSeqNum:
            raise MalformedFrame(
                VENUE, "mbp_update",
                f"{push.ch}: seqNum {tick.seqNum} / prevSeqNum {tick.prevSeqNum}",
            )  # fmt: skip
        return BookDelta(
            venue=VENUE,
            symbol=self._symbol(venue_symbol),
            prev_seq=tick.prevSeqNum,
            seq=tick.seqNum,
            bids=tick.bids,
            asks=tick.asks,
            ts_event=push.ts * _MS,
            ts_recv=ts_recv,
        )

    def _snapshot(
        self,
        venue_symbol: str,
        bids: list[Level],
        asks: list[Level],
        seq: int | None,
        ts_ms: int,
        ts_recv: int,
        *,
        flag: bool = True,
    ) -> BookSnapshot:
        if seq is None:
            raise MalformedFrame(VENUE, "snapshot", f"{venue_symbol}: a book without a version")
        try:
            check_snapshot(bids, asks)
        except LevelError as exc:
            if flag:
                self.resync_needed.add(venue_symbol)
            raise malformed(VENUE, exc, f"{venue_symbol} book") from None
        return BookSnapshot(
            venue=VENUE,
            symbol=self._symbol(venue_symbol),
            seq=seq,
            bids=bids,
            asks=asks,
            ts_event=ts_ms * _MS,
            ts_recv=ts_recv,
        )

    def _refused(self, text: str | bytes, exc: Exception, ts_recv: int) -> list[MdEvent]:
        """Not a push that decodes: another frame type, or a push with a bad level."""
        try:
            env = schemas.envelope_decoder.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError) as other:
            raise MalformedFrame(VENUE, "json", str(other)) from None
        if env.ch is not None:  # a push that msgspec refused: which level broke which rule
            raise self._diagnose_push(text, exc)
        if env.ping is not None:  # answered at once on this connection, with its own value
            self.pings_seen += 1
            self.replies.append(f'{{"pong":{env.ping}}}')
            return []
        if env.status == "error":
            raise MalformedFrame(VENUE, "error_reply", f"{env.err_code}: {env.err_msg}")
        if env.subbed is not None:
            venue_symbol, channel = topic_parts(env.subbed)
            if is_mbp(channel) and venue_symbol:
                # The subscription runs; its book comes only from a req: ask for it.
                self.resync_needed.add(venue_symbol)
            return []
        if env.unsubbed is not None:
            return []
        if env.rep is not None:
            return self._rep(env, text, ts_recv)
        raise MalformedFrame(VENUE, "unknown", "neither a push, a reply nor a ping")

    def _rep(self, env: schemas.Envelope, text: str | bytes, ts_recv: int) -> list[MdEvent]:
        """A req's answer: the full book of an mbp or depth topic."""
        assert env.rep is not None
        venue_symbol, channel = topic_parts(env.rep)
        if not (is_mbp(channel) or is_full_book(channel)):
            return []
        if not env.data:
            raise MalformedFrame(VENUE, "refresh", f"{env.rep}: answer without data")
        try:
            book = schemas.refresh_decoder.decode(env.data)
        except msgspec.ValidationError as exc:
            raise self._diagnose_rep(venue_symbol, text, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "refresh", f"{env.rep}: {exc}") from None
        seq = book.seqNum if is_mbp(channel) else book.version
        return [self._snapshot(venue_symbol, book.bids, book.asks, seq, book.ts, ts_recv)]

    def _diagnose_push(self, text: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_push_decoder.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "push", str(exc))
        venue_symbol, channel = topic_parts(loose.ch)
        found = find_bad_side(loose.tick.bids, loose.tick.asks, snapshot=is_full_book(channel))
        if found is None:
            return MalformedFrame(VENUE, "push", f"{loose.ch}: {exc}")
        if venue_symbol:
            self.resync_needed.add(venue_symbol)
        return malformed(VENUE, found[1], f"{venue_symbol or '?'} {channel} {found[0]}")

    def _diagnose_rep(self, venue_symbol: str, text: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_rep_decoder.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "refresh", f"{venue_symbol}: {exc}")
        found = find_bad_side(loose.data.bids, loose.data.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "refresh", f"{venue_symbol}: {exc}")
        self.resync_needed.add(venue_symbol)
        return malformed(VENUE, found[1], f"{venue_symbol} refresh {found[0]}")

    @staticmethod
    def _diagnose_rest(symbol: str, body: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_depth_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        found = find_bad_side(loose.tick.bids, loose.tick.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        return malformed(VENUE, found[1], f"{symbol} depth {found[0]}")
