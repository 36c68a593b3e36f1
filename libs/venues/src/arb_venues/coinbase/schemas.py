"""Coinbase wire structs, with Coinbase's own field names. Decoders are built once, here.

Two market-data protocols share one frame struct, told apart by their keys:
- Advanced Trade (current): ``{"channel": "l2_data", "sequence_num": N, "events": [...]}``
  https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/websocket/level2
- the legacy Coinbase Exchange feed (the 2021 recording): ``{"type": "snapshot"|"l2update"}``
  https://docs.cdp.coinbase.com/exchange/websocket-feed

Prices and sizes arrive as JSON strings; the decoders run with ``strict=False`` so msgspec
turns "68900.00" into a float natively (no Python float() per level), into the shared
constrained ``Price``/``Size`` (``arb_venues.common.levels``): "Infinity", "NaN", a negative
or zero price, a negative size fail the decode itself. Coinbase sends no book checksum, so
the exact text is not needed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from arb_venues.common.levels import Price, Size, WireLevel

# -- WebSocket ------------------------------------------------------------------------------


class L2Update(msgspec.Struct, frozen=True):
    """One level of an Advanced Trade ``l2_data`` event; new_quantity is absolute, "0" removes."""

    side: str  # "bid" | "offer"
    price_level: Price
    new_quantity: Size
    event_time: str = ""


class Event(msgspec.Struct, frozen=True):
    """An event of any Advanced Trade channel; only l2_data fills ``updates``."""

    type: str = ""  # l2_data: "snapshot" | "update"
    product_id: str = ""
    updates: list[L2Update] = []


class Frame(msgspec.Struct, frozen=True):
    """Any market-data frame of either protocol (unknown keys are ignored)."""

    # Advanced Trade envelope
    channel: str = ""  # "l2_data", "heartbeats", "subscriptions", ...
    timestamp: str = ""
    sequence_num: int = -1  # per connection, across every channel
    events: list[Event] = []
    # legacy Coinbase Exchange feed, and Advanced Trade's {"type": "error", "message": ...}
    type: str = ""  # "snapshot", "l2update", "ticker", "match", "subscriptions", "error"
    product_id: str = ""
    bids: list[WireLevel] = []
    asks: list[WireLevel] = []
    changes: list[tuple[str, Price, Size]] = []  # ["buy"|"sell", price, size]
    time: str = ""
    message: str = ""
    reason: str = ""


FRAME_DECODER = msgspec.json.Decoder(Frame, strict=False)


class LooseEvent(msgspec.Struct, frozen=True):
    type: str = ""
    product_id: str = ""
    updates: list[object] = []


class LooseFrame(msgspec.Struct, frozen=True):
    """Any frame with untyped levels: read only to say which level a refused frame broke."""

    channel: str = ""
    events: list[LooseEvent] = []
    type: str = ""
    product_id: str = ""
    bids: list[object] = []
    asks: list[object] = []
    changes: list[object] = []


LOOSE_FRAME_DECODER = msgspec.json.Decoder(LooseFrame)

# -- public REST ----------------------------------------------------------------------------


class BookLevel(msgspec.Struct, frozen=True):
    price: Price
    size: Size


class PriceBook(msgspec.Struct, frozen=True):
    product_id: str
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    time: str = ""


class ProductBook(msgspec.Struct, frozen=True):
    """GET /api/v3/brokerage/market/product_book?product_id=...&limit=..."""

    pricebook: PriceBook


PRODUCT_BOOK_DECODER = msgspec.json.Decoder(ProductBook, strict=False)


class Product(msgspec.Struct, frozen=True):
    """One entry of GET /api/v3/brokerage/market/products (decimal quantities are text)."""

    product_id: str
    base_increment: str = ""
    quote_increment: str = ""
    price_increment: str = ""
    base_min_size: str = "0"
    quote_min_size: str = "0"
    base_currency_id: str = ""
    quote_currency_id: str = ""
    status: str = ""
    product_type: str = ""
    trading_disabled: bool = False
    is_disabled: bool = False
    cancel_only: bool = False
    view_only: bool = False
    alias: str = ""


class Products(msgspec.Struct, frozen=True):
    products: list[Product] = []
    num_products: int = 0


PRODUCTS_DECODER = msgspec.json.Decoder(Products)

# -- private REST ---------------------------------------------------------------------------


class SorLimitIoc(msgspec.Struct, frozen=True, omit_defaults=True):
    base_size: str
    limit_price: str


class OrderConfiguration(msgspec.Struct, frozen=True, omit_defaults=True):
    sor_limit_ioc: SorLimitIoc | None = None


class CreateOrderRequest(msgspec.Struct, frozen=True):
    """POST /api/v3/brokerage/orders"""

    client_order_id: str
    product_id: str
    side: str  # "BUY" | "SELL"
    order_configuration: OrderConfiguration


class SuccessResponse(msgspec.Struct, frozen=True):
    order_id: str = ""
    product_id: str = ""
    side: str = ""
    client_order_id: str = ""


class ErrorResponse(msgspec.Struct, frozen=True):
    error: str = ""
    message: str = ""
    error_details: str = ""
    preview_failure_reason: str = ""
    new_order_failure_reason: str = ""


class CreateOrderResponse(msgspec.Struct, frozen=True):
    success: bool
    success_response: SuccessResponse | None = None
    error_response: ErrorResponse | None = None
    failure_reason: str = ""
    order_id: str = ""


class Order(msgspec.Struct, frozen=True):
    """The order object of GET /orders/historical/{order_id} and the batch listing."""

    order_id: str
    product_id: str = ""
    side: str = ""
    client_order_id: str = ""
    status: str = ""  # PENDING OPEN FILLED CANCELLED EXPIRED FAILED QUEUED CANCEL_QUEUED ...
    time_in_force: str = ""
    order_configuration: OrderConfiguration | None = None
    filled_size: str = "0"
    average_filled_price: str = "0"
    total_fees: str = "0"
    number_of_fills: str = "0"
    filled_value: str = "0"
    reject_reason: str = ""
    reject_message: str = ""
    cancel_message: str = ""
    created_time: str = ""
    last_fill_time: str | None = None


class GetOrderResponse(msgspec.Struct, frozen=True):
    order: Order


class ListOrdersResponse(msgspec.Struct, frozen=True):
    orders: list[Order] = []
    has_next: bool = False
    cursor: str = ""


class CancelResult(msgspec.Struct, frozen=True):
    success: bool
    failure_reason: str = ""
    order_id: str = ""


class CancelOrdersRequest(msgspec.Struct, frozen=True):
    order_ids: list[str]


class CancelOrdersResponse(msgspec.Struct, frozen=True):
    results: list[CancelResult] = []


class Amount(msgspec.Struct, frozen=True):
    value: str
    currency: str


class Account(msgspec.Struct, frozen=True):
    uuid: str
    currency: str
    available_balance: Amount
    hold: Amount | None = None
    name: str = ""
    active: bool = True


class ListAccountsResponse(msgspec.Struct, frozen=True):
    accounts: list[Account] = []
    has_next: bool = False
    cursor: str = ""
    size: int = 0


class ApiError(msgspec.Struct, frozen=True):
    """Coinbase's REST error body (grpc-gateway style): {"error", "error_details", "message"}."""

    error: str = ""
    message: str = ""
    error_details: str = ""


# -- times: RFC 3339 UTC with microseconds and a "Z" ("2021-05-31T09:59:59.123456Z") --


def rfc3339_ns(text: str) -> int:
    """ns of Coinbase's RFC 3339 UTC time ("2021-05-31T09:59:59.123456Z"); 0 if unreadable."""
    if not text:
        return 0
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    except ValueError:
        return 0
    digits = "".join(c for c in fraction if c.isdigit())[:9].ljust(9, "0")
    return int(moment.timestamp()) * 1_000_000_000 + int(digits)


def rfc3339(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{(ts_ns // 1000) % 1_000_000:06d}Z"
