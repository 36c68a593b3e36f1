"""HTX (Huobi) spot wire structs, with HTX's own field names.

Market data (https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data): every WS
frame is gzip-compressed JSON; numbers are JSON numbers (``[9.121E-7, 92730.24]``), decoded
straight into the constrained float levels of ``arb_venues.common.levels`` (a price that is
not finite and > 0, or a size that is not finite and >= 0, fails the decode itself).

- a push: ``{"ch": "market.btcusdt.<channel>", "ts": <ms>, "tick": {...}}``; the tick of
  ``depth.step0`` holds the whole book with ``version`` and ``ts``; the tick of ``mbp.<n>``
  an incremental update with ``seqNum``/``prevSeqNum`` (size 0 deletes a level);
- a request's answer: ``{"id": ..., "rep": <topic>, "status": "ok", "data": {...}}`` (the
  ``req`` of ``mbp.<n>`` answers the full book with ``seqNum``);
- acks ``{"id", "status": "ok", "subbed": <topic>, "ts"}``, errors ``{"status": "error",
  "err-code", "err-msg"}``, and the server's heartbeat ``{"ping": <ms>}``.

REST answers are ``{"status": "ok"|"error", "data": ..., "err-code", "err-msg"}`` with HTTP
200 either way (https://huobiapi.github.io/docs/spot/v1/en/#response-format).
"""

from __future__ import annotations

import msgspec

from arb_venues.common.levels import WireLevel

# -- public market data ----------------------------------------------------------------------


class Tick(msgspec.Struct, frozen=True):
    """The ``tick`` of a depth or mbp push (the fields of both; others are ignored)."""

    bids: list[WireLevel] = []
    asks: list[WireLevel] = []
    version: int | None = None  # depth.step<n>: the book's version
    seqNum: int | None = None  # mbp: this message's sequence number
    prevSeqNum: int | None = None  # mbp: the previous message's sequence number
    ts: int = 0  # depth: the book's time, ms


class Push(msgspec.Struct, frozen=True):
    """Any subscription push: ``ch`` says which channel, so what ``tick`` holds."""

    ch: str
    ts: int = 0
    tick: Tick = Tick()


class Envelope(msgspec.Struct, frozen=True, rename={"err_code": "err-code", "err_msg": "err-msg"}):
    """Every other frame, looked at only enough to classify it (the slow path)."""

    ping: int | None = None
    id: int | str | None = None
    status: str | None = None
    subbed: str | None = None
    unsubbed: str | None = None
    rep: str | None = None
    ch: str | None = None
    err_code: str | int | None = None
    err_msg: str | None = None
    data: msgspec.Raw = msgspec.Raw()


class Refresh(msgspec.Struct, frozen=True):
    """The ``data`` of a ``req`` answer: the mbp book with ``seqNum`` (or a depth book with
    ``version``)."""

    bids: list[WireLevel] = []
    asks: list[WireLevel] = []
    seqNum: int | None = None
    version: int | None = None
    ts: int = 0


class LooseBook(msgspec.Struct, frozen=True):
    """A tick or refresh with untyped levels: read only to say which level a refused frame
    broke."""

    bids: list[object] = []
    asks: list[object] = []


class LoosePush(msgspec.Struct, frozen=True):
    ch: str = ""
    tick: LooseBook = LooseBook()


class LooseRep(msgspec.Struct, frozen=True):
    rep: str = ""
    data: LooseBook = LooseBook()


class DepthBody(msgspec.Struct, frozen=True):
    """GET /market/depth: ``{"ch", "status", "ts", "tick": {bids, asks, version, ts}}``."""

    status: str
    tick: Tick = Tick()
    ch: str = ""
    ts: int = 0


class LooseDepthBody(msgspec.Struct, frozen=True):
    tick: LooseBook = LooseBook()


# -- reference data --------------------------------------------------------------------------


class SymbolInfo(msgspec.Struct, frozen=True, rename="kebab"):
    """One row of GET /v1/common/symbols (only the fields used; numbers as HTX sends them)."""

    base_currency: str
    quote_currency: str
    symbol: str
    price_precision: int
    amount_precision: int
    state: str = "online"
    value_precision: int = 8
    min_order_amt: float | str | None = None
    limit_order_min_order_amt: float | str | None = None
    min_order_value: float | str | None = None
    api_trading: str = "enabled"


class SymbolsBody(msgspec.Struct, frozen=True):
    status: str
    data: list[SymbolInfo] = []


# -- private REST ----------------------------------------------------------------------------


class StatusBody(
    msgspec.Struct, frozen=True, rename={"err_code": "err-code", "err_msg": "err-msg"}
):
    """The envelope of every REST answer (what errors.py reads)."""

    status: str = ""
    err_code: str | int | None = None
    err_msg: str | None = None


class Account(msgspec.Struct, frozen=True):
    id: int
    type: str
    state: str = "working"
    subtype: str = ""


class AccountsBody(msgspec.Struct, frozen=True):
    status: str
    data: list[Account] = []


class BalanceRow(msgspec.Struct, frozen=True):
    currency: str
    type: str  # trade (free) | frozen (locked) | others
    balance: str


class BalanceData(msgspec.Struct, frozen=True):
    id: int
    type: str = "spot"
    state: str = "working"
    rows: list[BalanceRow] = msgspec.field(default_factory=list, name="list")


class BalanceBody(msgspec.Struct, frozen=True):
    status: str
    data: BalanceData | None = None


class PlaceBody(msgspec.Struct, frozen=True):
    """POST /v1/order/orders/place: ``{"status": "ok", "data": "<order id>"}``."""

    status: str
    data: str | int | None = None


class Order(msgspec.Struct, frozen=True, rename="kebab"):
    """An order as GET /v1/order/orders/getClientOrder and GET /v1/order/orders give it.

    HTX spells the fill totals ``field-*`` on these endpoints and ``filled-*`` on others
    (openOrders); both are read."""

    id: int
    symbol: str
    type: str  # buy-ioc, sell-ioc, buy-limit, ...
    amount: str
    price: str
    state: str  # created | submitted | partial-filled | filled | partial-canceled | canceled
    created_at: int = 0
    client_order_id: str = ""
    account_id: int = 0
    field_amount: str | None = None
    field_cash_amount: str | None = None
    field_fees: str | None = None
    filled_amount: str | None = None
    filled_cash_amount: str | None = None
    filled_fees: str | None = None
    finished_at: int = 0
    canceled_at: int = 0
    source: str = ""


class OrderBody(msgspec.Struct, frozen=True):
    status: str
    data: Order | None = None


class OrdersBody(msgspec.Struct, frozen=True):
    status: str
    data: list[Order] = []


# Decoders, built once. strict=False: numeric strings decode into float fields too.
push_decoder = msgspec.json.Decoder(Push, strict=False)
envelope_decoder = msgspec.json.Decoder(Envelope)
refresh_decoder = msgspec.json.Decoder(Refresh, strict=False)
loose_push_decoder = msgspec.json.Decoder(LoosePush)
loose_rep_decoder = msgspec.json.Decoder(LooseRep)
loose_book_decoder = msgspec.json.Decoder(LooseBook)
depth_decoder = msgspec.json.Decoder(DepthBody, strict=False)
loose_depth_decoder = msgspec.json.Decoder(LooseDepthBody)
symbols_decoder = msgspec.json.Decoder(SymbolsBody)
status_decoder = msgspec.json.Decoder(StatusBody)
accounts_decoder = msgspec.json.Decoder(AccountsBody)
balance_decoder = msgspec.json.Decoder(BalanceBody)
place_decoder = msgspec.json.Decoder(PlaceBody)
order_decoder = msgspec.json.Decoder(OrderBody)
orders_decoder = msgspec.json.Decoder(OrdersBody)
