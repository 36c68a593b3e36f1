"""HTX (Huobi) spot public market data: the incremental MBP feed, or the full-book depth pushes.

Docs (https://huobiapi.github.io/docs/spot/v1/en/, "Access URLs", "Websocket Market Data"):
- ``wss://api.huobi.pro/ws`` serves market data except MBP incremental (``depth.step0``
  here); ``wss://api.huobi.pro/feed`` serves only MBP incremental (``mbp.$levels``);
- every frame is gzip-compressed; one topic per ``{"sub": <topic>, "id": <id>}``, answered
  ``{"id", "status": "ok", "subbed", "ts"}``; ``{"req": <topic>, "id"}`` answers once;
- heartbeat: the server sends ``{"ping": <ms>}`` every 5 s and closes the connection when two
  pings in a row got no ``{"pong": <the same ms>}`` (Huobi's "Heartbeat and Connection",
  also https://huobius.readme.io/reference/general-request-process);
- MBP (notices https://www.huobi.com/support/en-us/detail/900000047626/ and
  /900001526643/, /900001078223/): levels 5, 20, 150 (the 100 ms snapshot-diff feed) or 400;
  1) subscribe, cache the updates; 2) ``req`` the same topic on the same connection; 3) align
  the refresh's ``seqNum`` with a cached update's ``prevSeqNum``; 4) apply each update whose
  ``prevSeqNum`` is the book's ``seqNum``, else resync.
- REST ``GET /market/depth?symbol=&type=step0`` (``depth`` 5, 10 or 20, else 150 levels)
  carries ``version``, the depth channel's number, never an mbp ``seqNum``: audits of an mbp
  book compare by content; ``GET /v1/common/symbols`` lists the instruments.

Keepalive: the parser answers each server ping at once with its pong (``FeedParser.replies``,
sent by the feed on the same connection); the market sends no heartbeat of its own.
Frames are inflated by ``decode_frame`` before the parser and the wire tap see them, so
``arb record`` writes the JSON text the fixtures format holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame
from arb_venues.htx import schemas
from arb_venues.htx.errors import error_mapper
from arb_venues.htx.parser import VENUE, HtxParser, inflate

MBP_LEVELS = (5, 20, 150, 400)
DEFAULT_MBP_LEVELS = 150
# How often ``market.$symbol.mbp.$levels`` pushes, by levels: the 150-level feed "is based on
# the gap between two snapshots at 100ms interval", while the 5-level one is "tick by tick ...
# whenever there is an order book change at that level, it pushes an update"
# (https://www.huobi.com/support/en-us/detail/900001526643/). Levels not listed push every
# change (no interval found documented for them).
MBP_PUSH_INTERVAL_S: Mapping[int, float] = {150: 0.1}
REST_DEPTHS = (5, 10, 20)  # GET /market/depth ``depth``; without it, 150 levels
REST_FULL_DEPTH = 150
MBP = "mbp"
DEPTH = "depth"
PROTOCOL_VERSIONS = (MBP, DEPTH)
FEED_PATH = "/feed"
WS_PATH = "/ws"


def decimals_text(decimals: int) -> str:
    """The step of ``decimals`` decimal places: 2 -> "0.01", 0 -> "1"."""
    return "1" if decimals <= 0 else format(Decimal(1).scaleb(-decimals), "f")


def number_text(value: float | str | None) -> str:
    """A reference-data number as exact decimal text ("0.0001", "5"); "0" when absent."""
    if value is None:
        return "0"
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        raise MalformedFrame(VENUE, "symbols", f"not a number: {value!r}") from None


def instruments_from_symbols(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Spot instruments of a GET /v1/common/symbols body. ``price-precision`` and
    ``amount-precision`` are decimals (the grids); ``min-order-value`` is in the quote. Fees
    are the account's, not reference data: ingest sets them (arb_venues.fees)."""
    try:
        answer = schemas.symbols_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedFrame(VENUE, "symbols", str(exc)) from None
    instruments = []
    for row in answer.data:
        base, quote = row.base_currency.upper(), row.quote_currency.upper()
        minimum = row.limit_order_min_order_amt or row.min_order_amt
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{base}-{quote}",
                venue_symbol=VenueSymbol(row.symbol),
                base=base,
                quote=quote,
                tick_size=decimals_text(row.price_precision),
                lot_size=decimals_text(row.amount_precision),
                min_size=number_text(minimum),
                min_notional=number_text(row.min_order_value),
                price_decimals=row.price_precision,
                size_decimals=row.amount_precision,
                status="trading" if row.state == "online" else row.state,
                ts_recv=ts_recv,
            )
        )
    return instruments


class HtxMarket(MarketDataProtocol):
    """The incremental MBP feed (``mbp.$levels`` on ``/feed``): the live default."""

    venue: ClassVar[str] = VENUE
    # HTX never pushes the mbp book by itself: it comes from a ``req`` on the connection,
    # sent as this adapter's resync (the parser asks for one when the subscribe is acked).
    snapshot_source: ClassVar[str] = "ws"
    # One topic per sub message, so one book per message; 10 messages a second at most.
    subscribe_batch: ClassVar[int] = 1
    subscribe_interval_s: ClassVar[float] = 0.1
    # Pings come every 5 s: 30 s without a frame is a dead connection.
    idle_timeout_s: ClassVar[float] = 30.0
    # /market/* and /v1/common/* (public, per IP): kept to 10 calls a second per process,
    # the pace ccxt keeps for HTX (rateLimit 100 ms); the account endpoints share it ("Rate
    # Limit: 100times/2s"). The order endpoints' budgets are the trading client's.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(10, 10)}
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/market/history/trade"
    protocol_versions: ClassVar[tuple[str, ...]] = PROTOCOL_VERSIONS
    # /market/depth's version is the depth channel's, not the mbp seqNum: by content.
    audit_match: ClassVar[str] = "content"
    # Ping and server time: https://huobiapi.github.io/docs/spot/v1/en/#get-current-timestamp
    ping_path: ClassVar[str] = "/v1/common/timestamp"
    server_time_path: ClassVar[str] = "/v1/common/timestamp"
    channel: ClassVar[str] = MBP
    path: ClassVar[str] = FEED_PATH

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"status":"ok","data":1629715504949} (ms)"""
        return int(msgspec.json.decode(body)["data"]) * 1_000_000

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        self.levels = self._levels(depth)
        self._request_id = 0

    @staticmethod
    def _levels(depth: int) -> int:
        if not depth:
            return DEFAULT_MBP_LEVELS
        if depth not in MBP_LEVELS:
            raise ValueError(
                f"htx: depth {depth}: the mbp feed has {', '.join(map(str, MBP_LEVELS))} levels"
            )
        return depth

    @classmethod
    def for_version(cls, version: str | None) -> type[MarketDataProtocol]:
        if not version:
            return cls
        if version not in PROTOCOL_VERSIONS:
            raise ValueError(
                f"htx: no protocol version {version!r}; choose one of "
                f"{', '.join(PROTOCOL_VERSIONS)} (mbp = incremental mbp.$levels on /feed, "
                "depth = full-book depth.step0 pushes on /ws)"
            )
        return HtxDepthMarket if version == DEPTH else HtxMarket

    @classmethod
    def dialects(cls, raw_frames: Sequence[str | bytes]) -> str | None:
        """Which book channels the frames are in (``arb replay``'s ``protocol``): "mbp",
        "depth" or "mbp+depth"; one parser reads them all."""
        seen = []
        for name, marker in ((MBP, b".mbp."), (DEPTH, b".depth.step")):
            if any(marker in (f if isinstance(f, bytes) else f.encode()) for f in raw_frames):
                seen.append(name)
        return "+".join(seen) or None

    def topic(self, instrument: Instrument) -> str:
        return f"market.{instrument.venue_symbol}.mbp.{self.levels}"

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return HtxParser(symbols)

    def ws_url(self, instruments: list[Instrument]) -> str:
        base = self.endpoints.ws_url.rstrip("/")
        for suffix in (FEED_PATH, WS_PATH):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        return f"{base}{self.path}"

    def _next_id(self) -> str:
        self._request_id += 1
        return str(self._request_id)

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        return [self._message("sub", self.topic(i)) for i in instruments]

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """A resync: the full book of the topic, answered on this connection."""
        return [self._message("req", self.topic(instrument))]

    def _message(self, action: str, topic: str) -> str:
        return msgspec.json.encode({action: topic, "id": self._next_id()}).decode()

    def decode_frame(self, data: str | bytes) -> str | bytes:
        return inflate(data)

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get("/v1/common/symbols")
        return instruments_from_symbols(body, time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        depth = self.audit_depth(levels)
        query = f"symbol={instrument.venue_symbol}&type=step0"
        if depth in REST_DEPTHS:
            query += f"&depth={depth}"
        return "/market/depth", query, "default", 1.0

    def audit_depth(self, levels: int) -> int:
        """Four times the compared levels, as one of the depths /market/depth serves."""
        wanted = max(20, 4 * levels)
        return wanted if wanted in REST_DEPTHS else REST_FULL_DEPTH

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /market/history/trade, size <= 2000, newest first
        (https://huobiapi.github.io/docs/spot/v1/en/#get-the-most-recent-trades)."""
        query = f"symbol={instrument.venue_symbol}&size={min(limit, 2000)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"status": "ok", "data": [{"id", "ts", "data": [{"trade-id", "amount", "price"
        (JSON numbers), "direction" (the taker's), "ts" (ms)}]}]}``: one group per match."""
        groups = json.loads(body, parse_float=Decimal)["data"]  # its numbers, exactly
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["trade-id"]), text(row["price"]),
                        text(row["amount"]), taker_side(row["direction"]),
                        int(row["ts"]) * 1_000_000)
            for group in groups
            for row in group["data"]
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()


class HtxDepthMarket(HtxMarket):
    """The full-book ``depth.step0`` pushes on ``/ws`` (what the 2021 recording holds): every
    push replaces the book, so continuity needs no sequence; a resync asks for the book."""

    channel: ClassVar[str] = DEPTH
    path: ClassVar[str] = WS_PATH

    @staticmethod
    def _levels(depth: int) -> int:
        if depth not in (0, REST_FULL_DEPTH):
            raise ValueError(f"htx: depth {depth}: depth.step0 always sends 150 levels")
        return REST_FULL_DEPTH

    def topic(self, instrument: Instrument) -> str:
        return f"market.{instrument.venue_symbol}.depth.step0"
