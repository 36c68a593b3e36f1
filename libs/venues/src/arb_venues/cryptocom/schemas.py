"""Crypto.com Exchange v1 wire structs, with Crypto.com's own field names.

Every message, REST or WS, is the same envelope (docs "Response Format",
https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#response-format):
``{"id", "method", "code", "message", "result"}``; ``code`` 0 is success. Numbers are JSON
strings (``"50126.000000"``): the decoders run in lax mode (``strict=False``), so prices and
sizes decode straight into the bounded float levels of ``arb_venues.common.levels``.

Market data (``book.{instrument_name}.{depth}``, docs "book.{instrument_name}.{depth}"):
``{"id": -1, "method": "subscribe", "code": 0, "result": {"instrument_name", "subscription",
"channel": "book" | "book.update", "depth", "data": [...]}}``; a level is
``[price, quantity, number of orders]``; a snapshot's data holds ``bids``/``asks`` with
``u`` (its update sequence), ``t``/``tt`` (ms); an update's holds ``update: {bids, asks}``
with ``u`` and ``pu`` (the previous update's ``u``). The server's heartbeat is
``{"id", "method": "public/heartbeat", "code": 0}``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from arb_venues.common.levels import Price, Size

# [price, quantity, number of orders]; quantity 0 removes the level in an update.
BookLevel = tuple[Price, Size, Annotated[float, msgspec.Meta(ge=0)]]


class BookSide(msgspec.Struct, frozen=True):
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []


class BookData(msgspec.Struct, frozen=True):
    """One element of ``result.data`` of a ``book`` or ``book.update`` push (or get-book)."""

    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    update: BookSide | None = None
    t: int = 0  # ms, when the message was published
    tt: int = 0  # ms, the book's last update
    u: int | None = None  # this message's update sequence
    pu: int | None = None  # the previous update's sequence (updates only)
    cs: int | None = None  # checksum field (its algorithm is not documented: not verified)


class BookResult(msgspec.Struct, frozen=True):
    channel: str = ""
    instrument_name: str = ""
    subscription: str = ""
    depth: int = 0
    data: list[BookData] = []


class Message(msgspec.Struct, frozen=True):
    """Every WS frame: a subscription push, an ack, an error or the server's heartbeat."""

    id: int | str = 0
    method: str = ""
    code: int | str = 0
    message: str = ""
    result: BookResult | None = None


class Envelope(msgspec.Struct, frozen=True):
    """Any message with ``result`` left undecoded (the slow path, and REST answers)."""

    id: int | str = 0
    method: str = ""
    code: int | str = 0
    message: str = ""
    result: msgspec.Raw = msgspec.Raw()


class LooseBookData(msgspec.Struct, frozen=True):
    bids: list[object] = []
    asks: list[object] = []
    update: dict[str, list[object]] | None = None


class LooseResult(msgspec.Struct, frozen=True):
    channel: str = ""
    instrument_name: str = ""
    data: list[LooseBookData] = []


class LooseMessage(msgspec.Struct, frozen=True):
    result: LooseResult | None = None


# -- reference data --------------------------------------------------------------------------


class InstrumentInfo(msgspec.Struct, frozen=True):
    """One row of public/get-instruments (the fields used; spot rows are ``CCY_PAIR``)."""

    symbol: str
    inst_type: str = ""
    base_ccy: str = ""
    quote_ccy: str = ""
    quote_decimals: int | str = 0
    quantity_decimals: int | str = 0
    price_tick_size: str = ""
    qty_tick_size: str = ""
    tradable: bool = True


class InstrumentsResult(msgspec.Struct, frozen=True):
    data: list[InstrumentInfo] = []


# -- private REST ----------------------------------------------------------------------------


class OrderAck(msgspec.Struct, frozen=True):
    """``result`` of private/create-order and private/cancel-order."""

    order_id: str | int = ""
    client_oid: str = ""


class OrderDetail(msgspec.Struct, frozen=True):
    """An order of private/get-order-detail, get-open-orders and get-order-history."""

    order_id: str | int
    instrument_name: str
    side: str  # BUY | SELL
    status: str  # NEW | PENDING | ACTIVE | REJECTED | CANCELED | FILLED | EXPIRED
    client_oid: str = ""
    order_type: str = ""
    time_in_force: str = ""
    quantity: str = "0"
    limit_price: str = "0"
    avg_price: str = "0"
    cumulative_quantity: str = "0"
    cumulative_value: str = "0"
    cumulative_fee: str = "0"
    fee_instrument_name: str = ""
    reason: str | int = ""
    create_time: int | str = 0
    update_time: int | str = 0


class OrderList(msgspec.Struct, frozen=True):
    data: list[OrderDetail] = []


class PositionBalance(msgspec.Struct, frozen=True):
    instrument_name: str
    quantity: str = "0"
    reserved_qty: str = "0"


class AccountBalance(msgspec.Struct, frozen=True):
    position_balances: list[PositionBalance] = []


class BalanceResult(msgspec.Struct, frozen=True):
    data: list[AccountBalance] = []


MESSAGE = msgspec.json.Decoder(Message, strict=False)
ENVELOPE = msgspec.json.Decoder(Envelope, strict=False)
LOOSE = msgspec.json.Decoder(LooseMessage)
BOOK_RESULT = msgspec.json.Decoder(BookResult, strict=False)
INSTRUMENTS = msgspec.json.Decoder(InstrumentsResult, strict=False)
ORDER_ACK = msgspec.json.Decoder(OrderAck, strict=False)
ORDER_DETAIL = msgspec.json.Decoder(OrderDetail, strict=False)
ORDER_LIST = msgspec.json.Decoder(OrderList, strict=False)
BALANCE = msgspec.json.Decoder(BalanceResult, strict=False)
