"""Kraken spot public market data: WS v2 ``book`` (default) or WS v1 ``book-N``.

Choose the protocol with ``KrakenMarket(endpoints, depth, protocol_version="v1")`` or the
``KrakenMarketV1`` class; ``endpoints.ws_url`` is the WS base (``wss://ws.kraken.com``): v2
lives at ``<base>/v2``, v1 at ``<base>``.
https://docs.kraken.com/api/docs/guides/spot-ws-intro (endpoints, v1 vs v2)
Kraken's WS sends a snapshot after each subscribe, so a resync of one book is an
unsubscribe + subscribe of that pair (snapshot_source "ws").
Push cadence: the book pages (https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/book,
.../spot-websocket-v1/book: "a snapshot is published at the specified depth, followed by level
updates") document no interval, unlike Binance's 100 ms or Bybit's 20 ms, and Kraken's guide
says the feed "streams updates to the order book in real time"
(https://support.kraken.com/hc/en-us/articles/360027821131-WebSocket-API-v1-How-to-maintain-a-valid-order-book):
no coalescing interval. The simulator sends each market tick's changes of a book as one frame
(its checksum is over the book after them), so its VenueSpec does not say frame_per_change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame
from arb_venues.kraken import schemas
from arb_venues.kraken import symbols as kraken_symbols
from arb_venues.kraken.errors import kraken_error_mapper
from arb_venues.kraken.parser import DEFAULT_DEPTH, KrakenParser
from arb_venues.kraken.parser_v1 import KrakenV1Parser

# Subscription depths the book channel accepts (v1 and v2 alike).
DEPTHS = (10, 25, 100, 500, 1000)
PROTOCOL_VERSIONS = ("v2", "v1")


class KrakenMarket(MarketDataProtocol):
    venue = "kraken"
    snapshot_source = "ws"
    # Kraken documents no per-message symbol cap; 25 pairs a message, 5 messages a second
    # keeps a 200-pair reconnect well inside the connection's message rate.
    subscribe_batch = 25
    subscribe_interval_s = 0.2
    # v2: {"method":"ping"} (v1: {"event":"ping"}); the server also sends heartbeats ~1/s.
    heartbeat_interval_s = 15.0
    idle_timeout_s = 30.0
    # Public REST: about one call per second per IP (https://docs.kraken.com/api/docs/guides/
    # spot-rest-ratelimits); private: a counter of 15-20 that decays 0.33-1 per second.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(1, 1),
        "private": BucketLimit(15, 0.33),
    }
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/0/public/Trades"
    protocol_version: ClassVar[str] = "v2"
    protocol_versions: ClassVar[tuple[str, ...]] = PROTOCOL_VERSIONS
    # /0/public/Depth carries no sequence: content audits (the checksum is the main proof).
    audit_match: ClassVar[str] = "content"
    # Ping and server time: https://docs.kraken.com/api/docs/rest-api/get-server-time
    ping_path: ClassVar[str] = "/0/public/Time"
    server_time_path: ClassVar[str] = "/0/public/Time"
    # Its book seqs are this connection's own counters: a rotation joins by snapshot.
    rotation_join_mode: ClassVar[str] = "snapshot"

    def __init__(
        self, endpoints: Endpoints, depth: int = 0, *, protocol_version: str | None = None
    ) -> None:
        super().__init__(endpoints, depth)
        version = protocol_version or type(self).protocol_version
        if version not in PROTOCOL_VERSIONS:
            raise ValueError(f"kraken protocol_version={version!r}: use 'v2' or 'v1'")
        if depth and depth not in DEPTHS:
            raise ValueError(f"kraken book depth={depth}: use one of {DEPTHS}")
        self.version = version
        self.book_depth = depth or DEFAULT_DEPTH

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """``{"error":[],"result":{"unixtime":1688669448,"rfc1123":"Thu, 06 Jul 23 18:50:48
        +0000"}}``: whole seconds, so the offset is known to +-1 s (inside the 60 s window of
        AddOrder's ``deadline``)"""
        return int(msgspec.json.decode(body)["result"]["unixtime"]) * 1_000_000_000

    @classmethod
    def for_version(cls, version: str | None) -> type[MarketDataProtocol]:
        if not version:
            return cls
        if version not in PROTOCOL_VERSIONS:
            raise ValueError(
                f"kraken: no protocol version {version!r}; choose one of "
                f"{', '.join(PROTOCOL_VERSIONS)} (v2 = WS v2 book, v1 = WS v1 book-N)"
            )
        return KrakenMarketV1 if version == "v1" else KrakenMarket

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        if self.version == "v1":
            return KrakenV1Parser(symbols, self.book_depth)
        return KrakenParser(symbols, self.book_depth)

    def ws_url(self, instruments: list[Instrument]) -> str:
        base = self.endpoints.ws_url.rstrip("/")
        return f"{base}/v2" if self.version == "v2" else base

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        names = [i.venue_symbol for i in instruments]
        size = self.subscribe_batch
        return [
            self._book_request("subscribe", names[i : i + size]) for i in range(0, len(names), size)
        ]

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        names = [instrument.venue_symbol]
        return [self._book_request("unsubscribe", names), self._book_request("subscribe", names)]

    def heartbeat_message(self) -> str | None:
        return '{"method":"ping"}' if self.version == "v2" else '{"event":"ping"}'

    def _book_request(self, verb: str, v2_names: Sequence[str]) -> str:
        if self.version == "v2":
            params = {"channel": "book", "symbol": v2_names, "depth": self.book_depth}
            return json.dumps({"method": verb, "params": params}, separators=(",", ":"))
        pairs = [kraken_symbols.v1_symbol(n) for n in v2_names]
        subscription = {"name": "book", "depth": self.book_depth}
        return json.dumps(
            {"event": verb, "pair": pairs, "subscription": subscription}, separators=(",", ":")
        )

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        pair = kraken_symbols.rest_pair(instrument.venue_symbol)
        return "/0/public/Depth", f"pair={pair}&count={self.audit_depth(levels)}", "default", 1

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get("/0/public/AssetPairs")
        return parse_asset_pairs(body)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /0/public/Trades, count <= 1000, oldest first
        (https://docs.kraken.com/api/docs/rest-api/get-recent-trades)."""
        pair = kraken_symbols.rest_pair(instrument.venue_symbol)
        return self.trades_path, f"pair={pair}&count={min(limit, 1000)}", "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"error": [], "result": {<pair>: [[price, volume, time (s, float), "b"/"s" (the
        taker's side), "l"/"m", misc, trade_id]], "last": ...}}``."""
        result = json.loads(body, parse_float=Decimal)["result"]  # the times, exactly
        (rows,) = [value for key, value in result.items() if key != "last"]
        return [
            PublicTrade(self.venue, instrument.symbol, str(row[6]), text(row[0]), text(row[1]),
                        taker_side(row[3]), int(Decimal(str(row[2])) * 1_000_000_000))
            for row in reversed(rows)
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return kraken_error_mapper()


class KrakenMarketV1(KrakenMarket):
    """The same adapter on WS v1 (``<ws_base>``, XBT spelling, string decimals)."""

    protocol_version: ClassVar[str] = "v1"


def parse_asset_pairs(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """/0/public/AssetPairs -> instruments (pairs without a wsname, e.g. dark pools, skipped).

    https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs. The fee tiers it
    lists are the public schedule, not the account's fee: ingest sets that (arb_venues.fees).
    """
    try:
        response = schemas.ASSET_PAIRS.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedFrame("kraken", "asset_pairs", str(exc)) from exc
    if response.error:
        raise MalformedFrame("kraken", "asset_pairs", ", ".join(response.error))
    instruments = []
    for pair in response.result.values():
        if not pair.wsname:
            continue
        venue_symbol = kraken_symbols.v2_symbol(pair.wsname)
        base, _, quote = venue_symbol.partition("/")
        tick = pair.tick_size or _step(pair.pair_decimals)
        instruments.append(
            Instrument(
                venue="kraken",
                symbol=f"{base}-{quote}",
                venue_symbol=VenueSymbol(venue_symbol),
                base=base,
                quote=quote,
                tick_size=tick,
                lot_size=_step(pair.lot_decimals),
                min_size=pair.ordermin,
                min_notional=pair.costmin,
                price_decimals=pair.pair_decimals,
                size_decimals=pair.lot_decimals,
                ts_recv=ts_recv,
                status="trading" if pair.status == "online" else pair.status,
            )
        )
    return instruments


def _step(decimals: int) -> str:
    return format(Decimal(1).scaleb(-decimals), "f") if decimals > 0 else "1"
