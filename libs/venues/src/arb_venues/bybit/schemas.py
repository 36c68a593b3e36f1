"""Bybit v5 wire structs, with Bybit's own field names (spot category).

Prices and sizes arrive as JSON strings (``["1.9531", "6203"]``). Bybit has no book checksum,
so the exact text is not needed: the decoders run in msgspec's lax mode (``strict=False``),
which turns those strings straight into floats inside msgspec (about 3 us per 40-level frame
instead of about 19 us for ``json.loads`` + ``float()``). The same lax mode accepts ``ts`` as
a string, which the docs show in one example.

Docs:
- WS orderbook:  https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
- WS connect:    https://bybit-exchange.github.io/docs/v5/ws/connect
- REST envelope: https://bybit-exchange.github.io/docs/v5/guide#common-response-parameters
- Orderbook:     https://bybit-exchange.github.io/docs/v5/market/orderbook
- Instruments:   https://bybit-exchange.github.io/docs/v5/market/instrument
- Orders:        https://bybit-exchange.github.io/docs/v5/order/open-order
- Wallet:        https://bybit-exchange.github.io/docs/v5/account/wallet-balance
"""

from __future__ import annotations

import msgspec

# A level as decoded on the hot path: (price, size), size 0 deletes the level in a delta.
# The shared bounds (arb_venues.common.levels) reject "nan", "inf", negative and zero prices
# inside msgspec (about 8 % of decode time).
from arb_venues.common.levels import WireLevel as FloatLevel

# -- public WS -------------------------------------------------------------------------------


class BookData(msgspec.Struct):
    """``data`` of an ``orderbook.{depth}.{symbol}`` frame."""

    s: str  # symbol, e.g. BTCUSDT
    b: list[FloatLevel]  # bids, best (highest) first in a snapshot
    a: list[FloatLevel]  # asks, best (lowest) first in a snapshot
    u: int  # update id: +1 per message of the topic; u=1 after a service restart
    seq: int = 0  # cross sequence (matching engine version)


class WsFrame(msgspec.Struct):
    """Every public spot frame: a book push, or a control reply (ack, pong, error).

    Book pushes carry topic/type/ts/data/cts; replies carry op/success/ret_msg/conn_id.
    Frames of other topics (trades carry a list in ``data``) fail to decode here and take
    the slower ``WsEnvelope`` path.
    """

    topic: str = ""
    type: str = ""
    ts: int = 0  # ms, when the market-data service generated the push
    data: BookData | None = None
    cts: int = 0  # ms, matching engine time
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""
    conn_id: str = ""
    req_id: str = ""


class LooseBookData(msgspec.Struct):
    """``data`` of a book push with untyped levels: read only to say which level broke."""

    s: str = ""
    b: list[object] = []
    a: list[object] = []


class LooseFrame(msgspec.Struct):
    topic: str = ""
    type: str = ""
    data: LooseBookData | None = None


class WsEnvelope(msgspec.Struct):
    """Any public frame with ``data`` left undecoded (the fallback for other topics)."""

    topic: str = ""
    type: str = ""
    data: msgspec.Raw = msgspec.Raw()
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""


# -- REST ------------------------------------------------------------------------------------


class Envelope(msgspec.Struct):
    """The common REST envelope with ``result`` left undecoded."""

    retCode: int
    retMsg: str = ""
    result: msgspec.Raw = msgspec.Raw()
    time: int = 0


class OrderbookResult(msgspec.Struct):
    """``result`` of GET /v5/market/orderbook. ``u`` belongs to the 1000-level WS stream."""

    s: str
    b: list[FloatLevel]
    a: list[FloatLevel]
    ts: int
    u: int
    seq: int = 0
    cts: int = 0


class LotSizeFilter(msgspec.Struct):
    basePrecision: str
    quotePrecision: str = ""
    minOrderQty: str = "0"  # documented as deprecated in favour of minOrderAmt; still sent
    maxOrderQty: str = ""
    minOrderAmt: str = "0"
    maxOrderAmt: str = ""


class PriceFilter(msgspec.Struct):
    tickSize: str


class SpotInstrument(msgspec.Struct):
    symbol: str
    baseCoin: str
    quoteCoin: str
    status: str
    lotSizeFilter: LotSizeFilter
    priceFilter: PriceFilter


class InstrumentsResult(msgspec.Struct):
    category: str
    entries: list[SpotInstrument] = msgspec.field(name="list")
    nextPageCursor: str = ""


class OrderAck(msgspec.Struct):
    """``result`` of POST /v5/order/create and /v5/order/cancel."""

    orderId: str
    orderLinkId: str = ""


class OrderInfo(msgspec.Struct):
    """One order of GET /v5/order/realtime or /v5/order/history."""

    orderId: str
    orderLinkId: str
    symbol: str
    price: str
    qty: str
    side: str  # Buy | Sell
    orderStatus: str
    avgPrice: str = ""
    cumExecQty: str = "0"
    cumExecValue: str = "0"
    cumExecFee: str = "0"  # deprecated for spot: cumFeeDetail
    cumFeeDetail: dict[str, str] | None = None
    leavesQty: str = "0"
    timeInForce: str = ""
    orderType: str = ""
    rejectReason: str = ""
    cancelType: str = ""
    createdTime: str = "0"
    updatedTime: str = "0"


class OrderList(msgspec.Struct):
    entries: list[OrderInfo] = msgspec.field(name="list")
    nextPageCursor: str = ""
    category: str = ""


class WalletCoin(msgspec.Struct):
    coin: str
    walletBalance: str = "0"
    locked: str = "0"
    equity: str = "0"


class WalletAccount(msgspec.Struct):
    accountType: str
    coin: list[WalletCoin]


class WalletResult(msgspec.Struct):
    entries: list[WalletAccount] = msgspec.field(name="list")


# Decoders, built once. Lax mode: numeric strings decode into float/int fields.
WS_FRAME = msgspec.json.Decoder(WsFrame, strict=False)
WS_ENVELOPE = msgspec.json.Decoder(WsEnvelope, strict=False)
LOOSE_FRAME = msgspec.json.Decoder(LooseFrame)
ENVELOPE = msgspec.json.Decoder(Envelope, strict=False)
ORDERBOOK = msgspec.json.Decoder(OrderbookResult, strict=False)
INSTRUMENTS = msgspec.json.Decoder(InstrumentsResult)
ORDER_ACK = msgspec.json.Decoder(OrderAck)
ORDER_LIST = msgspec.json.Decoder(OrderList)
WALLET = msgspec.json.Decoder(WalletResult)
