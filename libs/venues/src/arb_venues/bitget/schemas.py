"""Bitget v2 spot wire structs, with Bitget's own field names. Decoders are built once, here.

Docs (https://www.bitget.com/api-doc/):
- spot/websocket/public/Depth-Channel: a push is ``{"action": "snapshot"|"update", "arg":
  {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}, "data": [{"asks": [[px, sz]],
  "bids": [...], "checksum": int, "seq": int, "ts": "ms"}], "ts": ms}``, every number a JSON
  string; acks are ``{"event": "subscribe", "arg": {...}}``, errors ``{"event": "error",
  "code": 30001, "msg": "..."}``.
- spot/market/Get-Orderbook: ``{"code": "00000", "msg": "success", "requestTime": ms,
  "data": {"asks": [[px, sz]], "bids": [...], "ts": "ms"}}`` (no sequence number).
- spot/public/Get-Symbols, spot/trade/Place-Order, Get-Order-Info, Cancel-Order,
  Get-History-Orders, Get-Unfilled-Orders, spot/account/Get-Account-Assets: the rows below.

As for OKX, the hot path decodes the level strings straight into checked floats
(``arb_venues.common.levels`` Price/Size, msgspec ``strict=False``); the exact text the
checksum needs is decoded beside them.
"""

from __future__ import annotations

import msgspec

from arb_venues.common.levels import Price, Size


class FloatLevel(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """``[price, amount]``; a longer array keeps decoding."""

    px: Price
    sz: Size


TextLevel = tuple[str, ...]


class Arg(msgspec.Struct, frozen=True):
    instType: str = ""
    channel: str = ""
    instId: str = ""


class Envelope(msgspec.Struct, frozen=True):
    """Any public WS frame: a push (action + arg + data) or an event (subscribe / error)."""

    event: str | None = None
    arg: Arg | None = None
    action: str | None = None
    data: msgspec.Raw = msgspec.Raw()
    code: str | int | None = None
    msg: str | None = None
    ts: int | None = None


class BookData(msgspec.Struct, frozen=True):
    """One entry of ``data`` on books / books1 / books5 / books15, levels as floats."""

    asks: list[FloatLevel]
    bids: list[FloatLevel]
    ts: str = "0"
    checksum: int | None = None
    seq: int | None = None


class LooseBook(msgspec.Struct, frozen=True):
    """The same entry with untyped levels: read only to say which level a refused frame broke."""

    asks: list[object] = []
    bids: list[object] = []


class BookText(msgspec.Struct, frozen=True):
    """The same entry with the exact level text the checksum is computed from."""

    asks: list[TextLevel]
    bids: list[TextLevel]


class RestEnvelope(msgspec.Struct, frozen=True):
    """Every Bitget REST answer: ``{"code": "00000", "msg": "success", "data": ...}``."""

    code: str = "00000"
    msg: str = ""
    requestTime: int = 0
    data: msgspec.Raw = msgspec.Raw()


class RestBook(msgspec.Struct, frozen=True):
    """``data`` of GET /api/v2/spot/market/orderbook."""

    asks: list[TextLevel]
    bids: list[TextLevel]
    ts: str = "0"


class RestSymbol(msgspec.Struct, frozen=True):
    """One row of GET /api/v2/spot/public/symbols."""

    symbol: str
    baseCoin: str = ""
    quoteCoin: str = ""
    minTradeAmount: str = "0"
    minTradeUSDT: str = "0"
    pricePrecision: str = "8"
    quantityPrecision: str = "8"
    status: str = "online"


class OrderAck(msgspec.Struct, frozen=True):
    """``data`` of place-order / cancel-order."""

    orderId: str = ""
    clientOid: str = ""


class OrderInfo(msgspec.Struct, frozen=True):
    """One row of GET /api/v2/spot/trade/orderInfo, history-orders, unfilled-orders."""

    symbol: str
    orderId: str = ""
    clientOid: str = ""
    price: str = "0"
    size: str = "0"
    orderType: str = "limit"
    side: str = "buy"
    status: str = "live"
    priceAvg: str = "0"
    baseVolume: str = "0"
    quoteVolume: str = "0"
    feeDetail: str = ""
    force: str = ""
    cTime: str = "0"
    uTime: str = "0"


class CoinFee(msgspec.Struct, frozen=True):
    """One coin's entry of an order's ``feeDetail`` (a JSON text): ``totalFee`` is negative
    when charged."""

    feeCoinCode: str = ""
    totalFee: str | float = "0"
    deduction: bool = False


class Asset(msgspec.Struct, frozen=True):
    """One row of GET /api/v2/spot/account/assets."""

    coin: str
    available: str = "0"
    frozen: str = "0"
    locked: str = "0"
    uTime: str = "0"


def present(raw: msgspec.Raw) -> bool:
    """A ``data`` field that was sent and is not null."""
    return len(raw) > 0 and bytes(raw) != b"null"


ENVELOPE = msgspec.json.Decoder(Envelope)
BOOK_DATA = msgspec.json.Decoder(list[BookData], strict=False)
BOOK_TEXT = msgspec.json.Decoder(list[BookText])
LOOSE_BOOKS = msgspec.json.Decoder(list[LooseBook])
REST_ENVELOPE = msgspec.json.Decoder(RestEnvelope)
REST_BOOK = msgspec.json.Decoder(RestBook)
REST_SYMBOLS = msgspec.json.Decoder(list[RestSymbol])
ORDER_ACK = msgspec.json.Decoder(OrderAck)
ORDER_INFOS = msgspec.json.Decoder(list[OrderInfo])
FEE_DETAIL = msgspec.json.Decoder(dict[str, object])
COIN_FEE = msgspec.json.Decoder(CoinFee)
ASSETS = msgspec.json.Decoder(list[Asset])
