"""Kraken spot wire structs, with Kraken's own field names.

WS v2 (https://docs.kraken.com/api/docs/websocket-v2/book): JSON objects; ``price``/``qty``
are JSON numbers, kept as ``msgspec.Raw`` so the exact text survives for the CRC32 checksum
(https://docs.kraken.com/api/docs/guides/spot-ws-book-v2).
WS v1 (https://docs.kraken.com/api/docs/websocket-v1/book): arrays
``[channelID, {"as"|"bs"|"a"|"b": [[price, volume, timestamp(, "r")]], "c": checksum}, ...,
channelName, pair]``; every decimal is a quoted string.
REST (https://docs.kraken.com/api/docs/rest-api/): ``{"error": [...], "result": {...}}``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from arb_venues.common.levels import Price, Size

# Seconds since the epoch on a v1 level ("1534614248.123678"); a later time is no time.
Stamp = Annotated[float, msgspec.Meta(ge=0.0, lt=1e11)]

# -- WS v2 --------------------------------------------------------------------------------------


class V2Envelope(msgspec.Struct, frozen=True):
    """Every v2 frame: a channel push (channel/type/data) or a method reply (method/success)."""

    channel: str = ""
    type: str = ""
    data: msgspec.Raw = msgspec.Raw()  # empty when absent
    method: str = ""
    success: bool | None = None
    error: str | None = None


class V2Level(msgspec.Struct, frozen=True):
    price: msgspec.Raw
    qty: msgspec.Raw


class V2Book(msgspec.Struct, frozen=True):
    symbol: str
    bids: list[V2Level] = []
    asks: list[V2Level] = []
    checksum: int | None = None
    timestamp: str = ""


class V2NumberLevel(msgspec.Struct, frozen=True, gc=False):
    """The same level read as checked floats: JSON numbers only (strict: a quoted number is
    refused), price finite and > 0, qty finite and >= 0."""

    price: Price
    qty: Size


class V2NumberBook(msgspec.Struct, frozen=True):
    """The same book entry with its levels as checked floats (the hot path's second read)."""

    bids: list[V2NumberLevel] = []
    asks: list[V2NumberLevel] = []


class V2BookFrame(msgspec.Struct, frozen=True):
    """The hot path's first read of a whole frame: a ``book`` push with its entries (any
    other frame either fails this read or is not a book push: it goes the envelope way)."""

    channel: str = ""
    type: str = ""
    data: list[V2Book] = []
    method: str = ""


class V2NumberFrame(msgspec.Struct, frozen=True):
    """The hot path's second read of the same frame: its book entries as checked floats."""

    data: list[V2NumberBook] = []


# -- WS v1 --------------------------------------------------------------------------------------


class V1Event(msgspec.Struct, frozen=True):
    """Object frames: heartbeat, pong, systemStatus, subscriptionStatus."""

    event: str
    status: str = ""
    pair: str = ""
    errorMessage: str = ""  # Kraken's field name


class V1BookData(msgspec.Struct, frozen=True):
    """One book object of a v1 array frame. Snapshot: as/bs; update: a and/or b (+ c)."""

    snapshot_asks: list[list[str]] | None = msgspec.field(default=None, name="as")
    snapshot_bids: list[list[str]] | None = msgspec.field(default=None, name="bs")
    a: list[list[str]] | None = None
    b: list[list[str]] | None = None
    c: str | None = None


class V1NumberLevel(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """``[price, volume, timestamp(, "r")]`` read as checked floats from their decimal text
    (msgspec's lax string-to-float: the JSON number grammar; the republish mark is ignored)."""

    price: Price
    volume: Size
    stamp: Stamp = 0.0


class V1NumberData(msgspec.Struct, frozen=True):
    """One book object of a v1 frame with checked-float levels (the hot path's second read)."""

    snapshot_asks: list[V1NumberLevel] | None = msgspec.field(default=None, name="as")
    snapshot_bids: list[V1NumberLevel] | None = msgspec.field(default=None, name="bs")
    a: list[V1NumberLevel] | None = None
    b: list[V1NumberLevel] | None = None


# -- REST ---------------------------------------------------------------------------------------


class DepthBook(msgspec.Struct, frozen=True):
    """/0/public/Depth: levels are [price, volume, timestamp] with decimal strings."""

    asks: list[tuple[str, str, int]]
    bids: list[tuple[str, str, int]]


class DepthResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: dict[str, DepthBook] = {}


class AssetPair(msgspec.Struct, frozen=True):
    """/0/public/AssetPairs entry (fields we use). Fees are percent tiers [[volume, pct]]."""

    altname: str
    base: str
    quote: str
    wsname: str = ""
    pair_decimals: int = 8
    lot_decimals: int = 8
    cost_decimals: int = 8
    ordermin: str = "0"
    costmin: str = "0"
    tick_size: str = ""
    status: str = "online"
    fees: list[tuple[float, float]] = []
    fees_maker: list[tuple[float, float]] = []


class AssetPairsResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: dict[str, AssetPair] = {}


class ErrorEnvelope(msgspec.Struct, frozen=True):
    """Any REST body: only the error list is read to map failures."""

    error: list[str] = []


class OrderDescription(msgspec.Struct, frozen=True):
    pair: str = ""
    type: str = ""  # buy | sell
    ordertype: str = ""
    price: str = "0"
    order: str = ""


class OrderInfo(msgspec.Struct, frozen=True):
    """An order as QueryOrders / OpenOrders / ClosedOrders return it."""

    status: str  # pending | open | closed | canceled | expired
    vol: str
    vol_exec: str = "0"
    cost: str = "0"
    fee: str = "0"
    price: str = "0"  # average execution price
    descr: OrderDescription = OrderDescription()
    cl_ord_id: str | None = None
    opentm: float = 0.0
    closetm: float = 0.0
    reason: str | None = None


class AddOrderResult(msgspec.Struct, frozen=True):
    txid: list[str] = []
    descr: dict[str, str] = {}


class AddOrderResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: AddOrderResult | None = None


class QueryOrdersResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: dict[str, OrderInfo] = {}


class OpenOrdersResult(msgspec.Struct, frozen=True):
    open: dict[str, OrderInfo] = {}


class OpenOrdersResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: OpenOrdersResult = OpenOrdersResult()


class ClosedOrdersResult(msgspec.Struct, frozen=True):
    closed: dict[str, OrderInfo] = {}
    count: int = 0


class ClosedOrdersResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: ClosedOrdersResult = ClosedOrdersResult()


class CancelOrderResult(msgspec.Struct, frozen=True):
    count: int = 0
    pending: bool | None = None


class CancelOrderResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: CancelOrderResult = CancelOrderResult()


class BalanceResponse(msgspec.Struct, frozen=True):
    error: list[str] = []
    result: dict[str, str] = {}


# Decoders built once (hot path: no per-frame construction).
V2_ENVELOPE = msgspec.json.Decoder(V2Envelope)
V2_BOOKS = msgspec.json.Decoder(list[V2Book])
V1_EVENT = msgspec.json.Decoder(V1Event)
V1_PARTS = msgspec.json.Decoder(list[msgspec.Raw])
V1_BOOK_DATA = msgspec.json.Decoder(V1BookData)
# The hot path: a whole book frame in one read as text, one as checked floats; any frame
# these refuse (trades, tickers, a bad level) goes the part-by-part way above.
V2_NUMBER_BOOKS = msgspec.json.Decoder(list[V2NumberBook])
V2_BOOK_FRAME = msgspec.json.Decoder(V2BookFrame)
V2_NUMBER_FRAME = msgspec.json.Decoder(V2NumberFrame)
V1_BOOK_FRAME = msgspec.json.Decoder(list[int | str | V1BookData])
V1_NUMBER_FRAME = msgspec.json.Decoder(list[int | str | V1NumberData], strict=False)
DEPTH = msgspec.json.Decoder(DepthResponse)
ASSET_PAIRS = msgspec.json.Decoder(AssetPairsResponse)
ERRORS = msgspec.json.Decoder(ErrorEnvelope)
ADD_ORDER = msgspec.json.Decoder(AddOrderResponse)
QUERY_ORDERS = msgspec.json.Decoder(QueryOrdersResponse)
OPEN_ORDERS = msgspec.json.Decoder(OpenOrdersResponse)
CLOSED_ORDERS = msgspec.json.Decoder(ClosedOrdersResponse)
CANCEL_ORDER = msgspec.json.Decoder(CancelOrderResponse)
BALANCE = msgspec.json.Decoder(BalanceResponse)
