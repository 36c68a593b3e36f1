"""Bitfinex WS v2 public market data: connection, conf flags, book subscriptions, instruments.

Docs:
- https://docs.bitfinex.com/docs/ws-general: public channels on ``wss://api-pub.bitfinex.com/ws/2``;
  events are objects, channel data arrays; info code 20051 (server restart), 20060/20061
  (maintenance); ``{"event":"ping"}`` is answered with ``pong``; Bitfinex sends ``[CHAN_ID,"hb"]``
  on a quiet channel every 15 s. At most 25 channel subscriptions per connection (the official
  client, bitfinex-api-py's changelog: "the open subscriptions number constraint (max. 25)").
- https://docs.bitfinex.com/reference/ws-config: ``{"event":"conf","flags":F}``, flags XOR'd:
  SEQ_ALL 65536 (a sequence number at the end of every message), OB_CHECKSUM 131072
  (https://docs.bitfinex.com/docs/ws-websocket-checksum).
- https://docs.bitfinex.com/reference/ws-public-books: ``{"event":"subscribe","channel":"book",
  "symbol":"tBTCUSD","prec":"P0","freq":"F0","len":"25"}`` (len 1, 25, 100 for P0; ``freq``
  "F0=realtime / F1=2sec", https://docs.bitfinex.com/v1.0.0/reference/ws-public-order-books:
  F0 sends each change as it happens, one message per changed level, which the recording shows:
  one level per update, a busy channel's updates 0 ms apart at the median); the answer
  ``subscribed`` carries the ``chanId``; ``{"event":"unsubscribe","chanId":N}`` ends it. A
  book comes as a snapshot after each subscribe: a resync is unsubscribe + subscribe.
- REST (https://docs.bitfinex.com/reference/rest-public-book): ``GET /v2/book/{symbol}/P0?len=100``
  (no sequence: audits compare content); https://docs.bitfinex.com/reference/rest-public-conf:
  ``GET /v2/conf/pub:list:pair:exchange,pub:info:pair`` (the pairs; [3] of an info entry is the
  minimum order size); https://docs.bitfinex.com/reference/rest-public-tickers:
  ``GET /v2/tickers?symbols=ALL`` ([7] LAST_PRICE: the 5-significant-digit price grid there).
- Rate limits: "between 10 and 90 requests per minute to a specific REST API endpoint", then
  the IP is blocked on that endpoint for 10-60 s (https://docs.bitfinex.com/v1, v2 error
  ``["error", 11010, "ratelimit: error"]``); the book endpoint allows 240 a minute. Each
  endpoint has its own bucket here, below those numbers.

One REST base URL serves both sides here: ``https://api.bitfinex.com`` answers the public v2
endpoints too (Bitfinex's own guide fetches ``https://api.bitfinex.com/v2/book/SYMBOL/P0``:
https://blog.bitfinex.com/api/bitfinex-api-order-books-checksums/), and the private ones
live only there.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import msgspec
from arb_structs import Instrument, Side, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.bitfinex import errors as codes
from arb_venues.bitfinex import schemas
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.bitfinex.numbers import LOT, decimals_of, significant_tick
from arb_venues.bitfinex.parser import DEFAULT_DEPTH, OB_CHECKSUM, SEQ_ALL, BitfinexParser
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, text
from arb_venues.errors import MalformedFrame

VENUE = "bitfinex"
DEPTHS = (1, 25, 100)  # the P0 book's len choices
FLAGS = SEQ_ALL | OB_CHECKSUM
CONF = msgspec.json.encode({"event": "conf", "flags": FLAGS}).decode()
INSTRUMENTS_PATH = "/v2/conf/pub:list:pair:exchange,pub:info:pair"
TICKERS_PATH = "/v2/tickers"
AUDIT_LEN = 100


def book_path(venue_symbol: str) -> str:
    return f"/v2/book/{venue_symbol}/P0"


class BitfinexMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "ws"  # a book subscribe answers with its snapshot
    subscribe_batch: ClassVar[int] = 1  # one channel per subscribe message
    # Bitfinex documents no subscribe rate; 10 a second keeps a 25-book connection quick.
    subscribe_interval_s: ClassVar[float] = 0.1
    heartbeat_interval_s: ClassVar[float | None] = 15.0  # {"event":"ping"}
    # Bitfinex's own heartbeat comes every 15 s on a quiet channel: 30 s of silence is dead.
    idle_timeout_s: ClassVar[float] = 30.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(5, 1),  # conf, tickers: 60 a minute each (limit 90)
        "book": BucketLimit(8, 3),  # 180 a minute (limit 240)
    }
    # /v2/book has no sequence: content audits (the checksum is the main proof).
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/v2/trades/{symbol}/hist"
    audit_match: ClassVar[str] = "content"
    # Ping: https://docs.bitfinex.com/reference/rest-public-platform-status. No server-time
    # endpoint, and none needed: the nonce only has to grow, no clock window (trading.py).
    ping_path: ClassVar[str] = "/v2/platform/status"
    # Its book seqs are this connection's own counters: a rotation joins by snapshot.
    rotation_join_mode: ClassVar[str] = "snapshot"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        if depth and depth not in DEPTHS:
            raise ValueError(f"bitfinex book depth={depth}: use one of {DEPTHS}")
        self.book_len = depth or DEFAULT_DEPTH
        self._parser: BitfinexParser | None = None

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        # The parser knows the channel ids (from the subscribed events); an unsubscribe names
        # a channel by id, so resubscribe_messages asks the parser of this connection.
        self._parser = BitfinexParser(symbols, self.book_len)
        return self._parser

    def ws_url(self, instruments: list[Instrument]) -> str:
        return self.endpoints.ws_url

    def _subscribe(self, venue_symbol: str) -> str:
        message = {"event": "subscribe", "channel": "book", "symbol": venue_symbol,
                   "prec": "P0", "freq": "F0", "len": str(self.book_len)}  # fmt: skip
        return msgspec.json.encode(message).decode()

    def connect_messages(self, instruments: list[Instrument]) -> list[str]:
        """The conf flags, before any book: sequence numbers and checksums from the first
        book on."""
        return [CONF]

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        """One subscribe per book."""
        return [self._subscribe(i.venue_symbol) for i in instruments]

    def heartbeat_message(self) -> str | None:
        return '{"event":"ping","cid":1}'

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """A fresh snapshot of one book: unsubscribe its channel (when known), subscribe."""
        chan_id = self._parser.channel_of(instrument.venue_symbol) if self._parser else None
        subscribe = self._subscribe(instrument.venue_symbol)
        if chan_id is None:
            return [subscribe]
        unsubscribe = msgspec.json.encode({"event": "unsubscribe", "chanId": chan_id}).decode()
        return [unsubscribe, subscribe]

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        return book_path(instrument.venue_symbol), f"len={AUDIT_LEN}", "book", 1

    def audit_depth(self, levels: int) -> int:
        return AUDIT_LEN

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        conf = await rest.get(INSTRUMENTS_PATH)
        tickers = await rest.get(TICKERS_PATH, query="symbols=ALL")
        return parse_instruments(conf, tickers)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /v2/trades/{symbol}/hist, limit <= 10000, newest first (sort -1)
        (https://docs.bitfinex.com/reference/rest-public-trades)."""
        return (
            self.trades_path.format(symbol=instrument.venue_symbol),
            f"limit={min(limit, 10000)}",
            "default",
            1,
        )

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``[[ID, MTS, AMOUNT, PRICE]]``: a positive AMOUNT was bought (the taker bought),
        a negative one sold."""
        trades = []
        for row in msgspec.json.decode(body, type=list[list[Any]]):
            amount = Decimal(str(row[2]))
            side = Side.BUY if amount > 0 else Side.SELL
            trade_id, ms, price = str(row[0]), int(row[1]), text(row[3])
            trades.append(PublicTrade(VENUE, instrument.symbol, trade_id, price,
                                      text(abs(amount)), side, ms * 1_000_000))  # fmt: skip
        return trades

    def error_mapper(self) -> ErrorMapper | None:
        return codes.error_mapper


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_instruments(conf: bytes | str, tickers: bytes | str) -> list[Instrument]:
    """Instruments from ``pub:list:pair:exchange,pub:info:pair`` and ``/v2/tickers``.

    The tick is the 5-significant-digit step at the last price (Bitfinex's price precision);
    a pair without a price yet gets the finest step, 1e-8. Amounts have 8 decimals."""
    try:
        answer = schemas.ANY.decode(conf)
        ticker_rows = schemas.ANY.decode(tickers)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "instruments", str(exc)) from None
    if not (isinstance(answer, list) and len(answer) >= 2 and isinstance(answer[0], list)):
        raise MalformedFrame(VENUE, "instruments", f"not [pairs, info]: {str(answer)[:120]}")
    minimums: dict[str, Decimal] = {}
    for entry in answer[1] if isinstance(answer[1], list) else []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list):
            info = entry[1]
            minimum = _decimal(info[3]) if len(info) > 3 else None
            if isinstance(entry[0], str) and minimum is not None:
                minimums[entry[0]] = minimum
    prices: dict[str, Decimal] = {}
    for row in ticker_rows if isinstance(ticker_rows, list) else []:
        if isinstance(row, list) and len(row) > 7 and isinstance(row[0], str):
            price = _decimal(row[7]) or _decimal(row[1])
            if price is not None and price > 0:
                prices[row[0]] = price
    instruments = []
    for pair in answer[0]:
        if not isinstance(pair, str):
            continue
        parts = bitfinex_symbols.split(pair)
        if parts is None:
            continue
        venue_symbol = bitfinex_symbols.PREFIX + pair
        base, quote = bitfinex_symbols.asset(parts[0]), bitfinex_symbols.asset(parts[1])
        price = prices.get(venue_symbol)
        tick = significant_tick(price) if price is not None else Decimal(LOT)
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{base}-{quote}",
                venue_symbol=VenueSymbol(venue_symbol),
                base=base,
                quote=quote,
                tick_size=format(tick, "f"),
                lot_size=LOT,
                min_size=format(minimums.get(pair, Decimal(LOT)), "f"),
                min_notional="0",
                price_decimals=decimals_of(tick),
                size_decimals=decimals_of(Decimal(LOT)),
            )
        )
    return instruments
