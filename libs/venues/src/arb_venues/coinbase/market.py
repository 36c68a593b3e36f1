"""Coinbase Advanced Trade public market data: one WS connection, level2 + heartbeats.

https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
- wss://advanced-trade-ws.coinbase.com; a subscribe names ONE channel
  ({"type": "subscribe", "product_ids": [...], "channel": "level2"}); no subscribe within
  5 s and the server disconnects.
- level2 needs no authentication now ("most channels are now available without
  authentication"); with a CDP key each message may carry a fresh "jwt" (they expire after
  2 minutes), which Coinbase says makes the connection more reliable.
- "Most channels close within 60-90 seconds if no updates are sent. Subscribe to heartbeats
  to keep all subscriptions open" (websocket-channels page).
- level2 sends "All updates" (the same page; its reference page: it "guarantees delivery of
  all updates", https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/websocket/level2):
  no push interval, a frame per book change (``VenueSpec.frame_per_change``). The Exchange
  level2 recording agrees: one change per ``l2update``, a product's messages 5-17 ms apart at
  the median and 0 ms at p10 (2021, ten products).
https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-rate-limits
- 750 connections/s per IP; unauthenticated messages 8/s per IP: subscribes are paced at 4/s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Credentials, Endpoints, FeedParser, MarketDataProtocol
from arb_venues.coinbase.errors import error_mapper
from arb_venues.coinbase.parser import CoinbaseParser
from arb_venues.coinbase.schemas import PRODUCTS_DECODER, Product
from arb_venues.coinbase.signing import ws_jwt
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, other_side, rfc3339_ns, taker_side, text
from arb_venues.errors import MalformedFrame

VENUE = "coinbase"
PRODUCTS_PATH = "/api/v3/brokerage/market/products"
PRODUCT_BOOK_PATH = "/api/v3/brokerage/market/product_book"


def decimals_of(step: str) -> int:
    """Decimal places of a step: "0.01" -> 2, "1" -> 0, "0.00000001" -> 8."""
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class _Keys(msgspec.Struct):
    channel: str = ""  # Advanced Trade: every message names its channel
    type: str = ""  # Exchange (legacy): every message has a type


_KEYS = msgspec.json.Decoder(_Keys)


class CoinbaseMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "ws"  # a level2 subscribe answers with a snapshot
    subscribe_batch: ClassVar[int] = 10
    subscribe_interval_s: ClassVar[float] = 0.25  # 4 msgs/s, half the 8/s unauthenticated cap
    # The feed calls heartbeat_message() on this interval: it (re)subscribes the heartbeats
    # channel, which keeps quiet level2 subscriptions open. The first one goes out 20 s after
    # connecting, well inside the 60-90 s after which Coinbase closes silent channels.
    heartbeat_interval_s: ClassVar[float | None] = 20.0
    idle_timeout_s: ClassVar[float] = 30.0  # heartbeats arrive every second once subscribed
    # Public REST: 10 requests/s per IP (Advanced Trade REST rate-limits page).
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(10, 10)}
    # product_book carries no sequence: content audits (compared with recent book states).
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v3/brokerage/market/products/{symbol}/ticker"
    audit_match: ClassVar[str] = "content"
    # Ping and server time: https://docs.cdp.coinbase.com/advanced-trade/reference/retailbrokerageapi_getservertime
    ping_path: ClassVar[str] = "/api/v3/brokerage/time"
    server_time_path: ClassVar[str] = "/api/v3/brokerage/time"
    # Its book seqs are this connection's own counters: a rotation joins by snapshot.
    rotation_join_mode: ClassVar[str] = "snapshot"

    @classmethod
    def dialects(cls, raw_frames: Sequence[str | bytes]) -> str | None:
        """advanced_trade, legacy (Coinbase Exchange, as the recordings are) or both."""
        seen: set[str] = set()
        for raw in raw_frames:
            try:
                keys = _KEYS.decode(raw)
            except msgspec.DecodeError:
                continue
            if keys.channel:
                seen.add("advanced_trade")
            elif keys.type:
                seen.add("legacy")
        return "+".join(sorted(seen)) or "unknown"

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"iso":"2023-05-31T10:48:43.127Z","epochSeconds":"1685530123","epochMillis":"1685530123127"}"""
        return int(msgspec.json.decode(body)["epochMillis"]) * 1_000_000

    def __init__(
        self, endpoints: Endpoints, depth: int = 0, credentials: Credentials | None = None
    ) -> None:
        super().__init__(endpoints, depth)
        self.credentials = credentials  # optional: authenticated subscribes

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return CoinbaseParser(symbols)

    def ws_url(self, instruments: list[Instrument]) -> str:
        return self.endpoints.ws_url

    def _message(self, kind: str, channel: str, product_ids: Sequence[str]) -> str:
        message: dict[str, object] = {"type": kind, "product_ids": product_ids,
                                      "channel": channel}  # fmt: skip
        if self.credentials is not None:
            message["jwt"] = ws_jwt(self.credentials)
        return msgspec.json.encode(message).decode()

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        products = [i.venue_symbol for i in instruments]
        step = self.subscribe_batch
        return [
            self._message("subscribe", "level2", products[start : start + step])
            for start in range(0, len(products), step)
        ]

    def heartbeat_message(self) -> str | None:
        # Subscribing again to a channel one is subscribed to is harmless; the server answers
        # with a "subscriptions" frame (parsed to nothing).
        return self._message("subscribe", "heartbeats", [])

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """A fresh snapshot of one book: unsubscribe and subscribe its level2 again."""
        products = [instrument.venue_symbol]
        return [
            self._message("unsubscribe", "level2", products),
            self._message("subscribe", "level2", products),
        ]

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        query = f"product_id={instrument.venue_symbol}&limit={self.audit_depth(levels)}"
        return PRODUCT_BOOK_PATH, query, "default", 1

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get(PRODUCTS_PATH, query="product_type=SPOT")
        return parse_products(body)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v3/brokerage/market/products/{product_id}/ticker, newest first
        (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-market-trades)."""
        path = self.trades_path.format(symbol=instrument.venue_symbol)
        return path, f"limit={min(limit, 1000)}", "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"trades": [{"trade_id", "product_id", "price", "size", "time" (RFC 3339), "side"
        (BUY/SELL)}], "best_bid", "best_ask"}``. ``side`` is the maker's, as Coinbase documents
        for its trades ("the side of a trade indicates the maker order side": a SELL prints at
        the ask), so the taker's is the other one."""
        rows = msgspec.json.decode(body)["trades"]
        return [
            PublicTrade(VENUE, instrument.symbol, row["trade_id"], text(row["price"]),
                        text(row["size"]), other_side(taker_side(row["side"])),
                        rfc3339_ns(row["time"]))
            for row in rows
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()


def parse_products(body: bytes | str) -> list[Instrument]:
    """Instruments from GET /api/v3/brokerage/market/products.

    Skipped: non-spot products, and aliases (BTC-USDC is an alias of BTC-USD: the market
    data channels serve the -USD book for both, per the websocket-channels page).
    """
    try:
        products = PRODUCTS_DECODER.decode(body).products
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "products", str(exc)) from None
    instruments = []
    for product in products:
        if product.product_type not in ("", "SPOT") or product.alias:
            continue
        instrument = _instrument(product)
        if instrument is not None:
            instruments.append(instrument)
    return instruments


def _instrument(product: Product) -> Instrument | None:
    base, quote = product.base_currency_id, product.quote_currency_id
    if not base or not quote:
        parts = product.product_id.split("-")
        if len(parts) != 2:
            return None
        base, quote = parts
    # price_increment is the price grid; quote_increment the quote-amount grid. They agree
    # on spot products; prefer the price one where both are given.
    tick = product.price_increment or product.quote_increment
    lot = product.base_increment
    if not tick or not lot:
        return None
    trading = (
        product.status == "online"
        and not product.trading_disabled
        and not product.is_disabled
        and not product.cancel_only
        and not product.view_only
    )
    return Instrument(
        venue=VENUE,
        symbol=f"{base}-{quote}",
        venue_symbol=VenueSymbol(product.product_id),
        base=base,
        quote=quote,
        tick_size=tick,
        lot_size=lot,
        min_size=product.base_min_size or "0",
        min_notional=product.quote_min_size or "0",
        price_decimals=decimals_of(tick),
        size_decimals=decimals_of(lot),
        status="trading" if trading else "halted",
    )
