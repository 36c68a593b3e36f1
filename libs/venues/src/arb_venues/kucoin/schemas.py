"""KuCoin spot wire structs, with KuCoin's own field names.

Public WS (https://www.kucoin.com/docs-new/websocket-api/base-info/introduction): every frame
is JSON text with a ``type``: ``welcome`` (the connection is usable), ``ack`` (a subscribe
with ``response: true`` was taken), ``pong`` (the answer to our ``ping``), ``error``
(``code`` and ``data``: 401 "token is invalid", 404 topic not found, 509 limits...) and
``message`` (a push, ``topic`` + ``subject`` + ``data``).

``/market/level2:{symbol}`` pushes ``subject: trade.l2update`` with
``data: {sequenceStart, sequenceEnd, symbol, time, changes: {asks, bids}}``; every change is
``["price", "size", "sequence"]`` as text (https://www.kucoin.com/docs-new/3470068w0). A change
whose price is "0" carries no level ("If the price is 0, ignore the messages and update the
sequence"): levels are decoded with price >= 0 and the parser drops those.

REST answers are ``{"code": "200000", "data": ...}``; any other code is a refusal, with
``msg`` (https://www.kucoin.com/docs-new/error-code/websocket, "Gateway error code"). The
order book snapshot ``data`` is ``{time, sequence (text), bids, asks}`` with
``["price", "size"]`` levels, best first.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from arb_venues.common.levels import MAX_PRICE, Size, SnapshotLevel

# A change's price: 0 is allowed on the wire (a sequence-only change the parser drops).
ChangePrice = Annotated[float, msgspec.Meta(ge=0.0, lt=MAX_PRICE)]
Change = tuple[ChangePrice, Size, str]

# -- public market data ----------------------------------------------------------------------


class Changes(msgspec.Struct, frozen=True, gc=False):
    asks: list[Change] = []
    bids: list[Change] = []


class L2Update(msgspec.Struct, frozen=True):
    symbol: str
    sequenceStart: int
    sequenceEnd: int
    changes: Changes = Changes()
    time: int = 0  # ms; absent in the 2021 recording


class Push(msgspec.Struct, frozen=True):
    """A ``message`` frame of the level2 topic (the hot path)."""

    type: str
    subject: str
    topic: str
    data: L2Update


class FrameData(msgspec.Struct, frozen=True, gc=False):
    """``data`` of any push, read as an L2Update whose three required fields may be missing
    (UNSET): a ticker's ``data`` reads too. Each field takes exactly what L2Update's takes."""

    symbol: str | UnsetType = UNSET
    sequenceStart: int | UnsetType = UNSET
    sequenceEnd: int | UnsetType = UNSET
    changes: Changes = Changes()
    time: int = 0


class Frame(msgspec.Struct, frozen=True, gc=False):
    """Every frame in one read (the hot path). Each field takes exactly what Push's takes, or
    is missing (UNSET), so a frame with nothing UNSET that Push needs reads as the same Push;
    and one that reads here with no ``id`` or ``code`` reads as an Envelope too (its fields
    take more). ``id`` and ``code`` are only looked at for being there. The parser answers
    what this read settles and gives every other frame to the reads below (parse_ws_strict).
    One difference: JSON text that repeats the key ``data`` is read as its last ``data``
    here, while Push refuses an earlier ``data`` that misses a field."""

    type: str | UnsetType = UNSET
    subject: str | UnsetType = UNSET
    topic: str | UnsetType = UNSET
    data: FrameData = FrameData()
    id: Any = UNSET
    code: Any = UNSET


class Envelope(msgspec.Struct, frozen=True):
    """Every frame, looked at only enough to classify it (the slow path)."""

    type: str | None = None
    id: str | int | None = None
    subject: str | None = None
    topic: str | None = None
    code: str | int | None = None
    data: msgspec.Raw = msgspec.Raw()


class LooseL2Update(msgspec.Struct, frozen=True):
    symbol: str = ""
    changes: dict[str, list[object]] = {}


class LoosePush(msgspec.Struct, frozen=True):
    data: LooseL2Update = LooseL2Update()


class Book(msgspec.Struct, frozen=True):
    """``data`` of GET /api/v1/market/orderbook/level2_{20,100} and /api/v3/.../level2."""

    sequence: str
    bids: list[SnapshotLevel] = []  # no size 0 either (parse_rest tells check_snapshot)
    asks: list[SnapshotLevel] = []
    time: int = 0


class BookAnswer(msgspec.Struct, frozen=True):
    code: str
    data: Book | None = None
    msg: str = ""


class LooseBook(msgspec.Struct, frozen=True):
    bids: list[object] = []
    asks: list[object] = []


class LooseBookAnswer(msgspec.Struct, frozen=True):
    data: LooseBook = LooseBook()


class InstanceServer(msgspec.Struct, frozen=True):
    endpoint: str
    protocol: str = "websocket"
    encrypt: bool = True
    pingInterval: int = 18_000  # ms
    pingTimeout: int = 10_000  # ms


class Bullet(msgspec.Struct, frozen=True):
    token: str
    instanceServers: list[InstanceServer]


class BulletAnswer(msgspec.Struct, frozen=True):
    code: str
    data: Bullet | None = None
    msg: str = ""


class Symbol(msgspec.Struct, frozen=True):
    """A row of GET /api/v2/symbols."""

    symbol: str
    baseCurrency: str
    quoteCurrency: str
    baseIncrement: str
    priceIncrement: str
    baseMinSize: str = "0"
    minFunds: str | None = None
    enableTrading: bool = True
    market: str = ""


class SymbolsAnswer(msgspec.Struct, frozen=True):
    code: str
    data: list[Symbol] = []
    msg: str = ""


# -- private REST ----------------------------------------------------------------------------


class Status(msgspec.Struct, frozen=True):
    """The envelope of every REST answer: ``code`` "200000" is success."""

    code: str | int | None = None
    msg: str = ""


class Placed(msgspec.Struct, frozen=True):
    orderId: str
    clientOid: str = ""


class PlaceAnswer(msgspec.Struct, frozen=True):
    code: str
    data: Placed | None = None


class Order(msgspec.Struct, frozen=True):
    """An order as GET /api/v1/order/client-order/{clientOid} and GET /api/v1/orders give it."""

    id: str
    symbol: str
    side: str
    price: str
    size: str
    dealSize: str = "0"
    dealFunds: str = "0"
    fee: str = "0"
    feeCurrency: str = ""
    timeInForce: str = "GTC"
    type: str = "limit"
    clientOid: str = ""
    isActive: bool = False
    cancelExist: bool = False
    createdAt: int = 0  # ms


class OrderAnswer(msgspec.Struct, frozen=True):
    code: str
    data: Order | None = None


class OrdersPage(msgspec.Struct, frozen=True):
    currentPage: int = 1
    pageSize: int = 50
    totalNum: int = 0
    totalPage: int = 0
    items: list[Order] = []


class OrdersAnswer(msgspec.Struct, frozen=True):
    code: str
    data: OrdersPage = OrdersPage()


class Account(msgspec.Struct, frozen=True):
    """A row of GET /api/v1/accounts: ``available`` is free, ``holds`` locked."""

    currency: str
    type: str
    balance: str = "0"
    available: str = "0"
    holds: str = "0"
    id: str = ""


class AccountsAnswer(msgspec.Struct, frozen=True):
    code: str
    data: list[Account] = []


# Decoders, built once. strict=False: numeric strings decode into float fields.
push_decoder = msgspec.json.Decoder(Push, strict=False)
frame_decoder = msgspec.json.Decoder(Frame, strict=False)
envelope_decoder = msgspec.json.Decoder(Envelope)
loose_push_decoder = msgspec.json.Decoder(LoosePush)
book_decoder = msgspec.json.Decoder(BookAnswer, strict=False)
loose_book_decoder = msgspec.json.Decoder(LooseBookAnswer)
bullet_decoder = msgspec.json.Decoder(BulletAnswer)
symbols_decoder = msgspec.json.Decoder(SymbolsAnswer)
status_decoder = msgspec.json.Decoder(Status)
place_decoder = msgspec.json.Decoder(PlaceAnswer)
order_decoder = msgspec.json.Decoder(OrderAnswer)
orders_decoder = msgspec.json.Decoder(OrdersAnswer)
accounts_decoder = msgspec.json.Decoder(AccountsAnswer)
