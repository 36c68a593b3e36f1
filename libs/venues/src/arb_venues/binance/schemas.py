"""Binance spot wire structs, with Binance's own field names.

Market data is decoded straight into float levels by msgspec (``strict=False`` lets msgspec
turn Binance's "0.01000000" strings into floats natively: no ``float()`` per level). The
levels are ``arb_venues.common.levels`` constrained floats, so a price that is not finite and
> 0, or a size that is not finite and >= 0, fails the decode itself (the parser then says
which level). No Binance book has a checksum, so the exact text is not kept on the hot path.

Docs (binance/binance-spot-api-docs @ a5e0bc3d):
- diff depth: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream
- depth REST: https://developers.binance.com/docs/binance-spot-api-docs/rest-api#order-book
- exchangeInfo: https://developers.binance.com/docs/binance-spot-api-docs/rest-api#exchange-information
- orders/account: https://developers.binance.com/docs/binance-spot-api-docs/rest-api#trading-endpoints
"""

from __future__ import annotations

import msgspec

from arb_venues.common.levels import WireLevel

# -- public market data ----------------------------------------------------------------------


class DepthUpdate(msgspec.Struct, frozen=True):
    """``<symbol>@depth[@100ms]`` event: absolute quantities for update ids U..u."""

    e: str  # "depthUpdate"
    E: int  # event time, ms
    s: str  # symbol, upper case (BNBBTC)
    U: int  # first update id in the event
    u: int  # final update id in the event
    b: list[WireLevel]
    a: list[WireLevel]


class CombinedDepth(msgspec.Struct, frozen=True):
    """A combined-stream frame ``{"stream": ..., "data": ...}`` carrying a depthUpdate."""

    stream: str
    data: DepthUpdate


class Envelope(msgspec.Struct, frozen=True):
    """Any other frame, looked at only enough to classify it (the slow path)."""

    stream: str | None = None  # combined stream name
    data: msgspec.Raw = msgspec.Raw()  # combined payload, undecoded (empty: absent)
    e: str | None = None  # raw-stream event type
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET  # method reply id
    code: int | None = None  # method error reply
    msg: str | None = None


class DepthSnapshot(msgspec.Struct, frozen=True):
    """GET /api/v3/depth body: bids best (highest) first, asks best (lowest) first."""

    lastUpdateId: int
    bids: list[WireLevel]
    asks: list[WireLevel]


class LooseDepthUpdate(msgspec.Struct, frozen=True):
    """A depthUpdate with untyped levels: read only to say which level a refused frame broke."""

    s: str = ""
    b: list[object] = []
    a: list[object] = []


class LooseDepthSnapshot(msgspec.Struct, frozen=True):
    bids: list[object] = []
    asks: list[object] = []


# -- reference data --------------------------------------------------------------------------


class SymbolFilter(msgspec.Struct, frozen=True):
    """One entry of a symbol's ``filters``; only the fields we use (others are ignored)."""

    filterType: str
    tickSize: str | None = None  # PRICE_FILTER
    minPrice: str | None = None
    maxPrice: str | None = None
    stepSize: str | None = None  # LOT_SIZE
    minQty: str | None = None
    maxQty: str | None = None
    minNotional: str | None = None  # NOTIONAL / MIN_NOTIONAL


class SymbolInfo(msgspec.Struct, frozen=True):
    symbol: str
    status: str  # TRADING | HALT | BREAK
    baseAsset: str
    quoteAsset: str
    filters: list[SymbolFilter] = []
    baseAssetPrecision: int = 8
    quoteAssetPrecision: int = 8
    isSpotTradingAllowed: bool = True


class ExchangeInfo(msgspec.Struct, frozen=True):
    symbols: list[SymbolInfo]
    serverTime: int = 0


# -- private REST ----------------------------------------------------------------------------


class ErrorBody(msgspec.Struct, frozen=True):
    """Every Binance REST error: ``{"code": -1121, "msg": "Invalid symbol."}``."""

    code: int
    msg: str = ""


class OrderFill(msgspec.Struct, frozen=True):
    price: str
    qty: str
    commission: str
    commissionAsset: str
    tradeId: int = 0


class OrderResponse(msgspec.Struct, frozen=True):
    """New order (RESULT/FULL), query order and cancel order answers share these fields."""

    symbol: str
    orderId: int
    clientOrderId: str
    origClientOrderId: str | None = None  # cancel answers: the cancelled order's id
    price: str = "0"
    origQty: str = "0"
    executedQty: str = "0"
    cummulativeQuoteQty: str = "0"  # sic: Binance's spelling
    status: str = "NEW"
    timeInForce: str = ""
    type: str = ""
    side: str = ""
    transactTime: int = 0
    updateTime: int = 0
    fills: list[OrderFill] = []
    time: int = 0  # query and allOrders answers: creation time (ms)


class AccountTrade(msgspec.Struct, frozen=True):
    """One row of GET /api/v3/myTrades: a fill of one of the account's orders."""

    symbol: str
    id: int
    orderId: int
    price: str
    qty: str
    quoteQty: str
    commission: str
    commissionAsset: str
    time: int = 0
    isBuyer: bool = False


class AccountBalance(msgspec.Struct, frozen=True):
    asset: str
    free: str
    locked: str


class CommissionRates(msgspec.Struct, frozen=True):
    maker: str
    taker: str


class Account(msgspec.Struct, frozen=True):
    balances: list[AccountBalance]
    commissionRates: CommissionRates | None = None
    canTrade: bool = True


# Decoders, built once. strict=False: numeric strings decode into float/int fields.
combined_depth_decoder = msgspec.json.Decoder(CombinedDepth, strict=False)
depth_update_decoder = msgspec.json.Decoder(DepthUpdate, strict=False)
envelope_decoder = msgspec.json.Decoder(Envelope)
depth_snapshot_decoder = msgspec.json.Decoder(DepthSnapshot, strict=False)
loose_update_decoder = msgspec.json.Decoder(LooseDepthUpdate)
loose_snapshot_decoder = msgspec.json.Decoder(LooseDepthSnapshot)
exchange_info_decoder = msgspec.json.Decoder(ExchangeInfo)
error_decoder = msgspec.json.Decoder(ErrorBody)
order_decoder = msgspec.json.Decoder(OrderResponse)
orders_decoder = msgspec.json.Decoder(list[OrderResponse])
trades_decoder = msgspec.json.Decoder(list[AccountTrade])
account_decoder = msgspec.json.Decoder(Account)
