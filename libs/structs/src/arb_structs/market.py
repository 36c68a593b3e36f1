"""Market data: instruments, book events (ingest -> book), book views (book -> detector)."""

from __future__ import annotations

import enum

import msgspec

from arb_structs.ids import VenueSymbol

# A price level on the hot path: (price, size) as floats. Size 0 deletes the level in a delta.
Level = tuple[float, float]
# The same level as the venue's exact text, kept only where a checksum needs it.
LevelText = tuple[str, str]


class BookState(enum.StrEnum):
    SYNCING = "SYNCING"  # no snapshot yet; deltas buffered
    LIVE = "LIVE"  # tradable while fresh
    SUSPECT = "SUSPECT"  # gap, checksum mismatch, crossed or stale; resync requested
    HALTED = "HALTED"  # venue or connection down


class Instrument(msgspec.Struct, frozen=True, kw_only=True, tag="instrument"):
    """Reference data of one symbol on one venue. Decimal quantities are exact text."""

    venue: str
    symbol: str  # normalised BASE-QUOTE, e.g. BTC-USDT
    venue_symbol: VenueSymbol  # the venue's own spelling, e.g. BTCUSDT, XBT/USDT
    base: str
    quote: str
    tick_size: str  # price step, decimal text
    lot_size: str  # size step, decimal text
    min_size: str = "0"
    min_notional: str = "0"
    price_decimals: int = 8
    size_decimals: int = 8
    maker_fee: str = "0.001"  # fraction: 0.001 = 10 bps
    taker_fee: str = "0.001"
    status: str = "trading"
    ts_recv: int = 0
    # spot | linear | inverse. A non-spot book's symbol carries ":<market>" (BTC-USDT:linear),
    # so the same pair's spot and derivative books never share a symbol.
    market: str = "spot"


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag="snapshot"):
    """A whole book side pair: replaces everything the book held."""

    venue: str
    symbol: str
    seq: int  # normalised sequence the snapshot is valid at
    bids: list[Level]  # best first
    asks: list[Level]  # best first
    ts_event: int  # venue time, ns (0 when the venue gives none)
    ts_recv: int  # ingest receive time, ns
    checksum: int | None = None  # venue checksum to verify after applying, if any
    bids_text: list[LevelText] | None = None  # exact text, same order as bids
    asks_text: list[LevelText] | None = None
    depth: int = 0  # truncate the book to this many levels per side (0 = no truncation)


class BookDelta(msgspec.Struct, frozen=True, kw_only=True, tag="delta"):
    """Absolute level changes. Applied if prev_seq <= book.seq < seq; stale if seq <= book.seq."""

    venue: str
    symbol: str
    prev_seq: int
    seq: int
    bids: list[Level]
    asks: list[Level]
    ts_event: int
    ts_recv: int
    checksum: int | None = None
    bids_text: list[LevelText] | None = None
    asks_text: list[LevelText] | None = None


class VenueStatus(msgspec.Struct, frozen=True, kw_only=True, tag="status"):
    """Connection state from ingest. symbol None means every book of the venue."""

    venue: str
    status: str  # "up" | "down"
    reason: str = ""
    symbol: str | None = None
    ts_recv: int = 0


MdEvent = BookSnapshot | BookDelta | VenueStatus


class AuditSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag="audit"):
    """A fresh REST snapshot ingest fetched for an audit (AuditRequest), never applied to the
    book: the book service rebuilds the book from it plus the deltas after ``seq`` and
    compares their top levels at the same sequence; a difference makes the book SUSPECT."""

    venue: str
    symbol: str
    seq: int  # the venue's sequence the snapshot is valid at; -1: it shares none with the WS
    bids: list[Level]  # best first
    asks: list[Level]
    ts_event: int
    ts_recv: int
    depth: int = 0  # levels per side asked for (levels beyond it are not in the snapshot)


# Everything on an arb:md:{venue} stream.
MdMessage = MdEvent | AuditSnapshot


class BookView(msgspec.Struct, frozen=True, kw_only=True, tag="view"):
    """What the detector needs of one book: top N levels, state, seq and the latency chain."""

    venue: str
    symbol: str
    state: BookState
    seq: int
    bids: list[Level]
    asks: list[Level]
    ts_event: int  # venue time of the last applied event
    ts_recv: int  # ingest receive time of the last applied event
    ts_book: int  # when the book service published this view
    reason: str = ""
    # When the book service read the batch holding the last applied event (0 on a view its
    # staleness sweep published): ts_read - ts_recv is ingest and the first Redis hop,
    # ts_book - ts_read the book service's own work.
    ts_read: int = 0
    ts_update: int = 0  # when the book last changed (for staleness), ns
    # The book's last audit against a REST snapshot since its last snapshot: "" (none yet),
    # "passed", "mismatch" (then the book is SUSPECT), "skipped" (could not be matched).
    audit: str = ""
    ts_audit: int = 0  # when that audit ended, ns
