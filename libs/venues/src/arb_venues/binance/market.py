"""Binance spot public market data: one combined-stream connection of diff depth streams.

Docs (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
- combined streams at ``/stream?streams=<s1>/<s2>``, frames ``{"stream":..., "data":...}``;
  stream names are lower case: ``bnbbtc@depth@100ms``;
- at most 1024 streams per connection; at most 5 incoming messages per second (pings, pongs
  and JSON methods all count); 300 connection attempts per 5 minutes per IP;
- the server pings every 20 s and drops a connection that has not ponged within a minute
  (aiohttp's autoping answers); a connection lives at most 24 h;
- the book: buffer diffs, GET /api/v3/depth, then the update-id rule (see parser.py).
REST (https://developers.binance.com/docs/binance-spot-api-docs/rest-api): depth weight by
limit 1-100: 5, 101-500: 25, 501-1000: 50, 1001-5000: 250; exchangeInfo weight 20; the IP
REQUEST_WEIGHT limit is 6000 per minute (enums.md "Rate limiters"); 429 then 418 bans.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, MdEvent, Side, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.binance import schemas
from arb_venues.binance.errors import error_mapper
from arb_venues.binance.numbers import decimal_text, decimals_of
from arb_venues.binance.parser import VENUE, BinanceParser
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import TRADE_ROWS, PublicTrade, text
from arb_venues.errors import MalformedFrame

MAX_STREAMS_PER_CONNECTION = 1024
# The diff depth streams' update speeds, by stream kind: each event carries the changes of one
# interval, ``U``..``u`` ("Diff. Depth Stream", "Update Speed: 1000ms or 100ms":
# https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams). The engine
# subscribes ``DEPTH_STREAM``. The recording agrees: its events of one symbol are 100 ms apart
# or a multiple of it (min 99 ms, median 100 ms on the busiest symbol).
DEPTH_INTERVALS_S = {"depth": 1.0, "depth@1000ms": 1.0, "depth@100ms": 0.1}
DEPTH_STREAM = "depth@100ms"
DEFAULT_SNAPSHOT_LIMIT = 1000
EXCHANGE_INFO_WEIGHT = 20


def depth_weight(limit: int) -> int:
    """Request weight of GET /api/v3/depth?limit=<limit> (rest-api.md "Order book")."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def instruments_from_exchange_info(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Spot instruments of a GET /api/v3/exchangeInfo body (filters: filters.md). Fees are
    the account's, not reference data: ingest sets them (arb_venues.fees)."""
    try:
        info = schemas.exchange_info_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedFrame(VENUE, "exchange_info", str(exc)) from None
    instruments = []
    for entry in info.symbols:
        if not entry.isSpotTradingAllowed:
            continue
        filters = {f.filterType: f for f in entry.filters}
        price = filters.get("PRICE_FILTER")
        lot = filters.get("LOT_SIZE")
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL")
        if price is None or lot is None or not price.tickSize or not lot.stepSize:
            continue  # not orderable without a price and lot grid
        try:
            tick, step = decimal_text(price.tickSize), decimal_text(lot.stepSize)
            min_size = decimal_text(lot.minQty or "0")
            min_notional = decimal_text(notional.minNotional or "0") if notional else "0"
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "exchange_info", f"{entry.symbol}: {exc}") from None
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{entry.baseAsset}-{entry.quoteAsset}",
                venue_symbol=VenueSymbol(entry.symbol),
                base=entry.baseAsset,
                quote=entry.quoteAsset,
                tick_size=tick,
                lot_size=step,
                min_size=min_size,
                min_notional=min_notional,
                price_decimals=decimals_of(tick),
                size_decimals=decimals_of(step),
                status="trading" if entry.status == "TRADING" else entry.status.lower(),
                ts_recv=ts_recv,
            )
        )
    return instruments


class BinanceMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "rest"
    # Subscriptions ride in the URL (no SUBSCRIBE messages), so batching does not apply; the
    # hard limit is MAX_STREAMS_PER_CONNECTION streams per connection.
    subscribe_batch: ClassVar[int] = 10
    # An application heartbeat that the server answers with a frame (GET_PROPERTY -> {"result":
    # true, "id": n}): quiet books still show the connection alive. 1 message per 10 s is far
    # inside the 5 messages/s limit.
    heartbeat_interval_s: ClassVar[float | None] = 10.0
    idle_timeout_s: ClassVar[float] = 30.0
    # In weight units. Binance allows 6000/min per IP; this process keeps to at most 4000 in
    # its first minute (1000 burst + 50/s) and 3000/min after, leaving room for the rest
    # (trading, other processes on the IP). One 1000-level snapshot costs 50: 1/s sustained.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(1000, 50),
        "orders": BucketLimit(10, 10),  # ORDERS limit: 10 per second per account
    }
    # The depth snapshot's lastUpdateId is the diff stream's update id: exact audits (an
    # audit asks for 4x the compared levels, weight 5 up to 100 levels).
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v3/trades"
    audit_match: ClassVar[str] = "sequence"
    # Ping and server time: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints
    ping_path: ClassVar[str] = "/api/v3/ping"
    server_time_path: ClassVar[str] = "/api/v3/time"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        self.snapshot_limit = depth or DEFAULT_SNAPSHOT_LIMIT
        self._heartbeat_id = 0

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"serverTime": 1499827319559} (ms)"""
        return int(msgspec.json.decode(body)["serverTime"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return BinanceParser(symbols)

    def _ws_base(self) -> str:
        base = self.endpoints.ws_url.rstrip("/")
        for suffix in ("/stream", "/ws"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    def ws_url(self, instruments: list[Instrument]) -> str:
        if len(instruments) > MAX_STREAMS_PER_CONNECTION:
            raise ValueError(
                f"binance: {len(instruments)} symbols on one connection; Binance allows "
                f"{MAX_STREAMS_PER_CONNECTION} streams per connection: split them over feeds"
            )
        streams = "/".join(f"{i.venue_symbol.lower()}@{DEPTH_STREAM}" for i in instruments)
        return f"{self._ws_base()}/stream?streams={streams}"

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        return []  # the combined-stream URL subscribes

    def heartbeat_message(self) -> str | None:
        self._heartbeat_id += 1
        return f'{{"method":"GET_PROPERTY","params":["combined"],"id":{self._heartbeat_id}}}'

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        path = "/api/v3/depth"
        query = f"symbol={instrument.venue_symbol}&limit={self.snapshot_limit}"
        weight = _fit(rest, depth_weight(self.snapshot_limit))
        body = await rest.get(path, query=query, weight=weight)
        return parser.parse_rest(f"{rest.base_url}{path}?{query}", body, ts_recv())

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get("/api/v3/exchangeInfo", weight=_fit(rest, EXCHANGE_INFO_WEIGHT))
        return instruments_from_exchange_info(body, time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        limit = self.audit_depth(levels)
        query = f"symbol={instrument.venue_symbol}&limit={limit}"
        return "/api/v3/depth", query, "default", depth_weight(limit)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v3/trades, weight 25, limit <= 1000, oldest first (rest-api "Recent trades
        list": https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints)."""
        query = f"symbol={instrument.venue_symbol}&limit={min(limit, 1000)}"
        return self.trades_path, query, "default", 25

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``[{"id", "price", "qty", "quoteQty", "time" (ms), "isBuyerMaker", ...}]``: when the
        buyer is the maker, the taker sold."""
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["id"]), text(row["price"]),
                        text(row["qty"]), Side.SELL if row["isBuyerMaker"] else Side.BUY,
                        int(row["time"]) * 1_000_000)
            for row in reversed(msgspec.json.decode(body, type=TRADE_ROWS))
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()


def _fit(rest: RestClient, weight: float) -> float:
    """The weight, capped at the client's bucket capacity (a bucket refuses more than that)."""
    return min(weight, rest.limiter.capacity("default"))
