"""Gate APIv4 spot wire structs, with Gate's own field names.

Levels decode straight into the constrained floats of ``arb_venues.common.levels``
(``strict=False`` turns Gate's "0.00010396" strings into floats in msgspec's C decoder), so
an impossible level fails the decode itself; the parser then says which level broke which
rule. Gate has no book checksum, so the exact number text is not kept on the hot path.

Docs (APIv4, https://www.gate.io/docs/developers/apiv4/ws/en/ and
https://www.gate.io/docs/developers/apiv4/en/; mirror rosssaunders/coincise
``docs/gateio/spot_websocket_api.md``, ``authentication.md``):
- every WS frame is ``{"time", "channel", "event", "result"}`` (``error`` on a failure);
- ``spot.order_book_update`` updates: ``t`` (ms), ``e`` "depthUpdate", ``E`` (s), ``s`` the
  pair (BTC_USDT), ``U``/``u`` first and last order book update id, ``b``/``a`` absolute
  sizes, "0" deletes;
- GET /api/v4/spot/order_book?with_id=true: ``id`` (the update id the snapshot is at),
  ``current``/``update`` (ms), ``asks`` ascending, ``bids`` descending;
- GET /api/v4/spot/currency_pairs, /spot/orders, /spot/accounts: the fields used below;
- every REST error is ``{"label": "INVALID_SIGNATURE", "message": "..."}``.
"""

from __future__ import annotations

import msgspec

from arb_venues.common.levels import WireLevel

# -- public market data ----------------------------------------------------------------------


class BookUpdate(msgspec.Struct, frozen=True):
    """``result`` of a ``spot.order_book_update`` update: sizes for update ids U..u."""

    s: str  # the pair, BTC_USDT
    U: int  # first update id of the event
    u: int  # last update id of the event
    b: list[WireLevel] = []
    a: list[WireLevel] = []
    t: int = 0  # ms
    e: str = "depthUpdate"
    E: int = 0  # s


class UpdateFrame(msgspec.Struct, frozen=True):
    """The one frame the feed subscribes: channel spot.order_book_update, event update."""

    channel: str
    event: str
    result: BookUpdate
    time: int = 0


class FrameError(msgspec.Struct, frozen=True):
    code: int = 0
    message: str = ""


class Envelope(msgspec.Struct, frozen=True):
    """Any other frame (subscribe acks, spot.pong, other channels), looked at only enough to
    classify it (the slow path)."""

    channel: str = ""
    event: str = ""
    time: int = 0
    result: msgspec.Raw = msgspec.Raw()
    error: FrameError | None = None


class LooseUpdate(msgspec.Struct, frozen=True):
    """An update with untyped levels: read only to say which level a refused frame broke."""

    s: str = ""
    b: list[object] = []
    a: list[object] = []


class LooseUpdateFrame(msgspec.Struct, frozen=True):
    result: LooseUpdate = LooseUpdate()


class OrderBook(msgspec.Struct, frozen=True):
    """GET /api/v4/spot/order_book?with_id=true."""

    id: int
    asks: list[WireLevel]
    bids: list[WireLevel]
    current: int = 0  # ms
    update: int = 0  # ms


class LooseOrderBook(msgspec.Struct, frozen=True):
    asks: list[object] = []
    bids: list[object] = []


# -- reference data --------------------------------------------------------------------------


class CurrencyPair(msgspec.Struct, frozen=True):
    """One row of GET /api/v4/spot/currency_pairs."""

    id: str
    base: str
    quote: str
    precision: int  # price decimals
    amount_precision: int  # size decimals
    min_base_amount: str | None = None
    min_quote_amount: str | None = None
    trade_status: str = "tradable"  # untradable | buyable | sellable | tradable
    fee: str = ""


# -- private REST ----------------------------------------------------------------------------


class ErrorBody(msgspec.Struct, frozen=True):
    label: str
    message: str = ""


class Order(msgspec.Struct, frozen=True):
    """A spot order (POST /spot/orders, GET and DELETE /spot/orders/{order_id}, the lists)."""

    id: str
    currency_pair: str
    side: str  # buy | sell
    amount: str
    price: str
    status: str  # open | closed | cancelled
    text: str = ""
    type: str = "limit"
    time_in_force: str = "gtc"  # gtc | ioc | poc | fok
    left: str = "0"
    filled_amount: str | None = None  # newer answers; else amount - left
    filled_total: str = "0"  # quote value of the fills
    avg_deal_price: str | None = None
    fee: str = "0"
    fee_currency: str = ""
    finish_as: str = ""  # open | filled | cancelled | ioc | stp | ...
    create_time_ms: int = 0


class SpotAccount(msgspec.Struct, frozen=True):
    """One row of GET /api/v4/spot/accounts."""

    currency: str
    available: str
    locked: str


# Decoders, built once. strict=False: numeric strings decode into float/int fields.
update_frame_decoder = msgspec.json.Decoder(UpdateFrame, strict=False)
envelope_decoder = msgspec.json.Decoder(Envelope)
loose_update_decoder = msgspec.json.Decoder(LooseUpdateFrame)
order_book_decoder = msgspec.json.Decoder(OrderBook, strict=False)
loose_book_decoder = msgspec.json.Decoder(LooseOrderBook)
pairs_decoder = msgspec.json.Decoder(list[CurrencyPair])
error_decoder = msgspec.json.Decoder(ErrorBody)
order_decoder = msgspec.json.Decoder(Order)
orders_decoder = msgspec.json.Decoder(list[Order])
accounts_decoder = msgspec.json.Decoder(list[SpotAccount])
