"""Trading: opportunities (detector -> executor), orders, fills, execution results, balances.

Anything sent to a venue (prices, sizes) is exact decimal text already on the instrument's
tick and lot grid. Floats appear only as estimates (VWAPs, expected profit).
"""

from __future__ import annotations

import enum

import msgspec

from arb_structs.ids import ClientOrderId, VenueOrderId


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(enum.StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"  # IOC remainder cancelled counts here, with filled_size > 0 possible
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # outcome not known yet (timeout); must be reconciled


class ExecutionStatus(enum.StrEnum):
    FILLED = "filled"  # both legs filled equally
    PARTIAL = "partial"  # both legs filled the same smaller size
    HEDGED = "hedged"  # legs differed; the difference was hedged or unwound within bounds
    NOT_FILLED = "not_filled"  # neither leg filled
    UNHEDGED = "unhedged"  # exposure left open: breaker tripped, shown to the user
    REFUSED = "refused"  # a risk check refused it before any order
    EXPIRED = "expired"  # arrived after its expiry
    FAILED = "failed"  # errors before any fill
    RECONCILED = "reconciled"  # an order concluded never placed appeared later; closed


class Opportunity(msgspec.Struct, frozen=True, kw_only=True, tag="opportunity"):
    id: str  # deterministic: same books, same pair -> same id
    symbol: str
    buy_venue: str
    sell_venue: str
    size: str  # base quantity, on both venues' lot grids
    buy_price: str  # worst ask walked on buy_venue: the IOC limit
    sell_price: str  # worst bid walked on sell_venue: the IOC limit
    buy_vwap: float
    sell_vwap: float
    gross_profit: float  # quote currency, before fees
    net_profit: float  # after both taker fees
    edge_bps: float  # net profit / buy notional * 1e4
    buy_seq: int
    sell_seq: int
    expires_ns: int
    ts_event_buy: int
    ts_event_sell: int
    ts_recv: int  # the later of the two books' ingest receive times
    ts_book: int  # the later of the two views' publish times
    ts_detect: int
    quote: str = ""
    # When the detector read the batch holding the newer view: ts_read - ts_book is the second
    # Redis hop, ts_detect - ts_read the detector's own work.
    ts_read: int = 0
    buy_fee: float = 0.0  # taker fee fractions used
    sell_fee: float = 0.0


class OrderIntent(msgspec.Struct, frozen=True, kw_only=True, tag="intent"):
    venue: str
    symbol: str
    side: Side
    price: str
    size: str
    client_order_id: ClientOrderId
    time_in_force: str = "IOC"
    order_type: str = "limit"


class OrderReport(msgspec.Struct, frozen=True, kw_only=True, tag="order"):
    """The venue's view of one order, normalised."""

    venue: str
    symbol: str
    side: Side
    client_order_id: ClientOrderId
    status: OrderStatus
    price: str
    size: str
    filled_size: str = "0"
    avg_price: str = "0"
    fee: str = "0"
    fee_asset: str = ""
    venue_order_id: VenueOrderId = VenueOrderId("")
    reason: str = ""
    ts_sent: int = 0
    ts_ack: int = 0
    # Exact quote amount of the fills (sum of price x size) when the venue says it ("": not
    # given; filled_size x avg_price then, which a rounded average makes inexact).
    quote_filled: str = ""
    ts_created: int = 0  # the venue's creation time of the order (ns; 0 = not given)


class Fill(msgspec.Struct, frozen=True, kw_only=True, tag="fill"):
    venue: str
    symbol: str
    side: Side
    price: str
    size: str
    fee: str
    fee_asset: str
    client_order_id: ClientOrderId
    trade_id: str = ""
    ts: int = 0


class LegResult(msgspec.Struct, frozen=True, kw_only=True, tag="leg"):
    role: str  # "buy" | "sell" | "hedge" | "unwind"
    intent: OrderIntent
    report: OrderReport | None = None
    error: str = ""
    # ns deadline until which an order the venue did not know may still land (its request
    # validity window); 0 = nothing to watch. Such legs are watched (WatchedOrder).
    watch_until_ns: int = 0


class ExecutionResult(msgspec.Struct, frozen=True, kw_only=True, tag="execution"):
    opportunity_id: str
    symbol: str
    buy_venue: str
    sell_venue: str
    status: ExecutionStatus
    mode: str  # "paper" | "live"
    legs: list[LegResult] = []
    expected_pnl: float = 0.0
    realised_pnl: str = "0"  # exact, quote currency, after fees
    fees_quote: str = "0"
    unhedged_size: str = "0"  # base quantity left open (signed: + long, - short)
    reason: str = ""
    ts_detect: int = 0
    ts_received: int = 0  # executor read it
    ts_orders_sent: int = 0  # both legs on the wire
    ts_acks: int = 0  # both legs acknowledged
    ts_done: int = 0
    # The open part (unhedged_size) is exposure, not profit: it is marked to market apart from
    # realised_pnl, which counts closed quantity only.
    unrealised_pnl: str = "0"  # open quantity marked at mark_price, quote currency
    mark_price: str = "0"  # price the open quantity was marked at ("0": nothing open)
    executor: str = ""  # instance that ran the saga


class WatchedOrder(msgspec.Struct, frozen=True, kw_only=True, tag="watched"):
    """An order the saga concluded was never placed, watched until its request can no longer
    land (``deadline_ns``). ``hedges`` holds the intents a reconciliation has sent (journaled
    before sending, so a restart queries them instead of sending them again)."""

    opportunity: Opportunity
    role: str
    intent: OrderIntent
    deadline_ns: int
    ts_watched: int = 0
    hedges: dict[str, OrderIntent] = {}


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    free: str
    locked: str = "0"


class BalanceSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag="balances"):
    venue: str
    balances: dict[str, Balance]
    ts: int


class ExposureKind(enum.StrEnum):
    UNHEDGED = "unhedged"  # a saga left a position open and reported it in its result
    UNEXPLAINED = "unexplained"  # reconciliation found at a venue what no record explains
    CLOSED = "closed"  # trades closed it (hedge, unwind, a later reconciliation)
    ACKNOWLEDGED = "acknowledged"  # an operator cleared it on purpose (arb exposure close)


class ExposureEvent(msgspec.Struct, frozen=True, kw_only=True, tag="exposure"):
    """One change of an open exposure, per venue and asset. ``id`` is stable over the life of
    one exposure (every event of it carries the same id); ``size`` is what is still open after
    this event (signed base quantity: + long, - short; "0" once closed or acknowledged)."""

    id: str
    venue: str
    asset: str
    kind: ExposureKind
    size: str
    quote_value: str = "0"  # size marked to market, quote currency
    mark_price: str = "0"
    opportunity_id: str = ""  # the saga behind it, when there is one
    reason: str = ""
    actor: str = ""  # the operator or service instance that caused this event
    ts: int = 0
    entry_price: str = "0"  # average price the open size was taken at (quote per base)
    unrealised_pnl: str = "0"  # size marked at mark_price against entry_price, quote
    since: int = 0  # ns the exposure opened (the same on every event of one id)
