"""MEXC spot wire types: the protobuf messages of the v3 WS market streams, and msgspec
structs with MEXC's own field names for the JSON form of those messages and the REST bodies.

Protobuf (https://www.mexc.com/api-docs/spot-v3/websocket-market-streams, "Protocol Buffers
Integration"): every market-data push is a binary ``PushDataV3ApiWrapper`` (the definitions
are published at https://github.com/mexcdevelop/websocket-proto, PushDataV3ApiWrapper.proto
and the Public*.proto it imports). The messages are declared here, in code, from those
definitions (same field names, numbers and types; no generated code, no ``protoc``), and the
``protobuf`` package decodes them:

    PushDataV3ApiWrapper     channel = 1 (string); oneof body { ... publicIncreaseDepths
                             = 302, publicLimitDepths = 303, publicAggreDepths = 313 ... };
                             symbol = 3, symbolId = 4 (string); createTime = 5, sendTime = 6
                             (int64, ms)
    PublicAggreDepthsV3Api   asks = 1, bids = 2 (repeated PublicAggreDepthV3ApiItem);
                             eventType = 3, fromVersion = 4, toVersion = 5 (string);
                             lastOrderCreateTime = 6 (int64)
    PublicAggreDepthV3ApiItem  price = 1, quantity = 2 (string)
    PublicLimitDepthsV3Api / PublicIncreaseDepthsV3Api  asks = 1, bids = 2, eventType = 3,
                             version = 4 (string) (+ lastOrderCreateTime = 5 on limit)

The other bodies of the oneof (deals, tickers, klines, private streams) are not declared: the
decoder keeps them as unknown fields and such a push has no book body.

A pushed frame becomes text before the parser and the wire tap see it (``proto3_json``): the
proto3 JSON mapping of the message (field names in lowerCamelCase, fields at their default
left out), with int64 fields written as JSON numbers. Recordings therefore hold text, and the
docs' JSON renderings of pushes read the same way.
"""

from __future__ import annotations

from typing import Any

import msgspec
from google.protobuf import descriptor_pb2, message, message_factory
from google.protobuf.descriptor import FieldDescriptor

from arb_venues.common.levels import Price, Size, WireLevel

# -- protobuf: the push messages, from MEXC's .proto definitions ----------------------------

_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_INT64 = descriptor_pb2.FieldDescriptorProto.TYPE_INT64
_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
_OPTIONAL = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
_REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
PACKAGE = "mexc.spot.v3"

# message name -> its fields (name, number, type, repeated, message type name, in the oneof)
_Field = tuple[str, int, int, bool, str, bool]
_ITEM = (("price", 1, _STRING, False, "", False), ("quantity", 2, _STRING, False, "", False))
MESSAGES: dict[str, tuple[_Field, ...]] = {
    "PublicAggreDepthV3ApiItem": _ITEM,
    "PublicLimitDepthV3ApiItem": _ITEM,
    "PublicIncreaseDepthV3ApiItem": _ITEM,
    "PublicAggreDepthsV3Api": (
        ("asks", 1, _MESSAGE, True, "PublicAggreDepthV3ApiItem", False),
        ("bids", 2, _MESSAGE, True, "PublicAggreDepthV3ApiItem", False),
        ("eventType", 3, _STRING, False, "", False),
        ("fromVersion", 4, _STRING, False, "", False),
        ("toVersion", 5, _STRING, False, "", False),
        ("lastOrderCreateTime", 6, _INT64, False, "", False),
    ),
    "PublicLimitDepthsV3Api": (
        ("asks", 1, _MESSAGE, True, "PublicLimitDepthV3ApiItem", False),
        ("bids", 2, _MESSAGE, True, "PublicLimitDepthV3ApiItem", False),
        ("eventType", 3, _STRING, False, "", False),
        ("version", 4, _STRING, False, "", False),
        ("lastOrderCreateTime", 5, _INT64, False, "", False),
    ),
    "PublicIncreaseDepthsV3Api": (
        ("asks", 1, _MESSAGE, True, "PublicIncreaseDepthV3ApiItem", False),
        ("bids", 2, _MESSAGE, True, "PublicIncreaseDepthV3ApiItem", False),
        ("eventType", 3, _STRING, False, "", False),
        ("version", 4, _STRING, False, "", False),
    ),
    "PushDataV3ApiWrapper": (
        ("channel", 1, _STRING, False, "", False),
        ("publicIncreaseDepths", 302, _MESSAGE, False, "PublicIncreaseDepthsV3Api", True),
        ("publicLimitDepths", 303, _MESSAGE, False, "PublicLimitDepthsV3Api", True),
        ("publicAggreDepths", 313, _MESSAGE, False, "PublicAggreDepthsV3Api", True),
        ("symbol", 3, _STRING, False, "", False),
        ("symbolId", 4, _STRING, False, "", False),
        ("createTime", 5, _INT64, False, "", False),
        ("sendTime", 6, _INT64, False, "", False),
    ),
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="arb_venues/mexc/push.proto", package=PACKAGE, syntax="proto3"
    )
    for name, fields in MESSAGES.items():
        declared = proto.message_type.add(name=name)
        if any(in_oneof for *_, in_oneof in fields):
            declared.oneof_decl.add(name="body")
        for field, number, kind, repeated, type_name, in_oneof in fields:
            added = declared.field.add(
                name=field, number=number, type=kind, label=_REPEATED if repeated else _OPTIONAL
            )
            if type_name:
                added.type_name = f".{PACKAGE}.{type_name}"
            if in_oneof:
                added.oneof_index = 0
    return proto


_CLASSES = message_factory.GetMessages([_file_descriptor()])
PushDataV3ApiWrapper: Any = _CLASSES[f"{PACKAGE}.PushDataV3ApiWrapper"]
PublicAggreDepthsV3Api: Any = _CLASSES[f"{PACKAGE}.PublicAggreDepthsV3Api"]
PublicLimitDepthsV3Api: Any = _CLASSES[f"{PACKAGE}.PublicLimitDepthsV3Api"]
DecodeError = message.DecodeError


def proto3_dict(msg: message.Message) -> dict[str, object]:
    """The proto3 JSON mapping of ``msg`` as a dict: set fields only, by their json names
    (lowerCamelCase), nested messages as dicts; int64 stays a number."""
    out: dict[str, object] = {}
    for field, value in msg.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                out[field.json_name] = [proto3_dict(item) for item in value]
            else:
                out[field.json_name] = proto3_dict(value)
        else:
            out[field.json_name] = value
    return out


def push_dict(push: Any) -> dict[str, object]:
    """``proto3_dict`` of a PushDataV3ApiWrapper, with the hot body (``publicAggreDepths``)
    read field by field: the same dict, several times faster than the generic walk."""
    if push.WhichOneof("body") != "publicAggreDepths":
        return proto3_dict(push)
    body = push.publicAggreDepths
    depth: dict[str, object] = {}
    if body.asks:
        depth["asks"] = [{"price": i.price, "quantity": i.quantity} for i in body.asks]
    if body.bids:
        depth["bids"] = [{"price": i.price, "quantity": i.quantity} for i in body.bids]
    for name in ("eventType", "fromVersion", "toVersion"):
        value = getattr(body, name)
        if value:
            depth[name] = value
    if body.lastOrderCreateTime:
        depth["lastOrderCreateTime"] = body.lastOrderCreateTime
    out: dict[str, object] = {"channel": push.channel}
    for name in ("symbol", "symbolId", "createTime", "sendTime"):
        value = getattr(push, name)
        if value:
            out[name] = value
    out["publicAggreDepths"] = depth
    return out


# -- the JSON form of a push (what the parser reads) -----------------------------------------


class DepthItem(msgspec.Struct, frozen=True):
    """One level of a depth body; size 0 deletes the level (in an incremental body)."""

    price: Price
    quantity: Size


class AggreDepths(msgspec.Struct, frozen=True):
    """``publicAggreDepths``: absolute quantities of the levels changed in versions
    ``fromVersion..toVersion`` (strings on the wire, read as integers)."""

    asks: list[DepthItem] = []
    bids: list[DepthItem] = []
    eventType: str = ""
    fromVersion: int = -1
    toVersion: int = -1


class Push(msgspec.Struct, frozen=True):
    """A ``PushDataV3ApiWrapper`` with an aggregated depth body (the fast path)."""

    channel: str
    publicAggreDepths: AggreDepths
    symbol: str = ""
    sendTime: int = 0
    createTime: int = 0


class Envelope(msgspec.Struct, frozen=True):
    """Any other text frame, looked at only enough to classify it: a push of another kind, or
    a reply ``{"id", "code", "msg"}`` to SUBSCRIPTION / UNSUBSCRIPTION / PING."""

    channel: str | None = None
    symbol: str = ""
    publicAggreDepths: msgspec.Raw = msgspec.Raw()
    id: int | None = None
    code: int | None = None
    msg: str | None = None


class LooseDepthItem(msgspec.Struct, frozen=True):
    price: object = None
    quantity: object = None


class LooseAggreDepths(msgspec.Struct, frozen=True):
    asks: list[LooseDepthItem] = []
    bids: list[LooseDepthItem] = []


class LoosePush(msgspec.Struct, frozen=True):
    """A push with untyped levels: read only to say which level a refused frame broke."""

    channel: str = ""
    symbol: str = ""
    publicAggreDepths: LooseAggreDepths = LooseAggreDepths()


class DepthSnapshot(msgspec.Struct, frozen=True):
    """GET /api/v3/depth: ``lastUpdateId`` is the version of the depth stream it shows."""

    lastUpdateId: int
    bids: list[WireLevel]
    asks: list[WireLevel]


class LooseDepthSnapshot(msgspec.Struct, frozen=True):
    bids: list[object] = []
    asks: list[object] = []


# -- reference data --------------------------------------------------------------------------


class SymbolInfo(msgspec.Struct, frozen=True):
    """One ``symbols`` entry of GET /api/v3/exchangeInfo (the fields used; others ignored).

    ``quotePrecision`` / ``quoteAssetPrecision``: decimals of the price; ``baseAssetPrecision``
    decimals of the quantity; ``baseSizePrecision`` the minimum quantity, ``quoteAmountPrecision``
    the minimum order amount (quote). ``status``: "1" online, "2" paused, "3" offline (older
    answers: "ENABLED")."""

    symbol: str
    baseAsset: str
    quoteAsset: str
    status: str = "1"
    baseAssetPrecision: int = 8
    quotePrecision: int | None = None
    quoteAssetPrecision: int = 8
    baseSizePrecision: str = "0"
    quoteAmountPrecision: str = "0"
    isSpotTradingAllowed: bool = True
    orderTypes: list[str] = []


class ExchangeInfo(msgspec.Struct, frozen=True):
    symbols: list[SymbolInfo]
    serverTime: int = 0


# -- private REST ------------------------------------------------------------------------------


class NewOrder(msgspec.Struct, frozen=True):
    """POST /api/v3/order's answer: the order is accepted; its outcome is not in it."""

    symbol: str
    orderId: str
    price: str = "0"
    origQty: str = "0"
    type: str = ""
    side: str = ""
    transactTime: int = 0


class Order(msgspec.Struct, frozen=True):
    """GET /api/v3/order, DELETE /api/v3/order, GET /api/v3/allOrders rows. ``orderId`` is a
    string on MEXC ("C02__4686..."); the docs' examples also show numbers."""

    symbol: str
    orderId: str | int
    side: str
    status: str
    price: str = "0"
    origQty: str = "0"
    executedQty: str = "0"
    cummulativeQuoteQty: str = "0"
    clientOrderId: str | None = None
    origClientOrderId: str | None = None
    type: str = ""
    timeInForce: str | None = None
    time: int = 0
    updateTime: int | None = None


class AccountTrade(msgspec.Struct, frozen=True):
    """GET /api/v3/myTrades row: one fill with its commission."""

    symbol: str
    id: str | int
    orderId: str | int
    price: str
    qty: str
    quoteQty: str
    commission: str
    commissionAsset: str
    time: int
    clientOrderId: str | None = None


class AssetBalance(msgspec.Struct, frozen=True):
    asset: str
    free: str
    locked: str


class Account(msgspec.Struct, frozen=True):
    balances: list[AssetBalance]
    canTrade: bool = True


class Error(msgspec.Struct, frozen=True):
    """An error body ``{"code": <int>, "msg": "..."}``."""

    code: int
    msg: str = ""


push_decoder = msgspec.json.Decoder(Push, strict=False)
envelope_decoder = msgspec.json.Decoder(Envelope)
loose_push_decoder = msgspec.json.Decoder(LoosePush)
depth_decoder = msgspec.json.Decoder(DepthSnapshot, strict=False)
loose_depth_decoder = msgspec.json.Decoder(LooseDepthSnapshot)
exchange_info_decoder = msgspec.json.Decoder(ExchangeInfo)
new_order_decoder = msgspec.json.Decoder(NewOrder)
order_decoder = msgspec.json.Decoder(Order)
orders_decoder = msgspec.json.Decoder(list[Order])
trades_decoder = msgspec.json.Decoder(list[AccountTrade])
account_decoder = msgspec.json.Decoder(Account)
error_decoder = msgspec.json.Decoder(Error)
