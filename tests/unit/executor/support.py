"""Builders shared by the executor tests: opportunities, books, a scripted gateway."""

from __future__ import annotations

import time
from decimal import Decimal

from arb_executor.gateway import PaperGateway
from arb_structs import BalanceSnapshot, BookView, Opportunity, OrderIntent, OrderReport
from arb_structs.market import BookState, Level
from arb_structs.trading import OrderStatus
from arb_venues.errors import OrderRejected, RequestTimeout, UnknownOrder
from redis.exceptions import ConnectionError as RedisConnectionError


def opportunity(
    opp_id: str = "opp-1", *, size: str = "0.5", buy_price: str = "100.00",
    sell_price: str = "101.00", expires_in_s: float = 60.0, buy_venue: str = "binance",
    sell_venue: str = "okx", buy_fee: float = 0.001, sell_fee: float = 0.001,
) -> Opportunity:  # fmt: skip
    """An opportunity as the detector emits it, priced at 10 bps taker fees by default."""
    now = time.time_ns()
    return Opportunity(
        id=opp_id, symbol="BTC-USDT", buy_venue=buy_venue, sell_venue=sell_venue, size=size,
        buy_price=buy_price, sell_price=sell_price, buy_vwap=float(buy_price),
        sell_vwap=float(sell_price), gross_profit=0.5, net_profit=0.3995, edge_bps=79.9,
        buy_seq=1, sell_seq=1, expires_ns=now + int(expires_in_s * 1e9), ts_event_buy=now,
        ts_event_sell=now, ts_recv=now, ts_book=now, ts_detect=now, quote="USDT",
        buy_fee=buy_fee, sell_fee=sell_fee,
    )  # fmt: skip


def view(venue: str, bids: list[Level], asks: list[Level]) -> BookView:
    return BookView(venue=venue, symbol="BTC-USDT", state=BookState.LIVE, seq=1, bids=bids,
                    asks=asks, ts_event=0, ts_recv=0, ts_book=0)  # fmt: skip


class Books:
    """An in-memory book source."""

    def __init__(self, *views: BookView) -> None:
        self.views = {(v.venue, v.symbol): v for v in views}

    async def __call__(self, venue: str, symbol: str) -> BookView | None:
        return self.views.get((venue, symbol))


def paper(venue: str, books: Books, **balances: str) -> PaperGateway:
    return PaperGateway(venue, books, balances={k: Decimal(v) for k, v in balances.items()})


SIGNED_URL = "https://venue.test/api/v3/order?symbol=BTCUSDT&signature=5ec12e7"


class RedisAwayBooks(Books):
    """The book source the executor reads in Redis, with Redis gone for the venues in
    ``away``: a read raises as redis-py does when the server has closed the connection."""

    def __init__(self, *views: BookView) -> None:
        super().__init__(*views)
        self.away: set[str] = set()

    async def __call__(self, venue: str, symbol: str) -> BookView | None:
        if venue in self.away:
            raise RedisConnectionError("Connection closed by server.")
        return await super().__call__(venue, symbol)


class ScriptedGateway:
    """A venue whose place() answers by script: "fill" (normal), "lost" (the order lands, the
    answer times out), "dropped" (times out and never lands), "held" (times out; the request
    is held until ``land(client_order_id)`` makes the order appear, filled), "reject" (the
    venue refuses it), "bug" (the order lands, then the gateway's own code raises an error
    that is no venue's answer). get() can be made to time out."""

    def __init__(self, venue: str, script: list[str], *, get_times_out: bool = False,
                 window_s: float = 0.0) -> None:  # fmt: skip
        self.venue = venue
        self.request_window_s = window_s
        self.script = list(script)
        self.get_times_out = get_times_out
        self.orders: dict[str, OrderReport] = {}
        self.place_calls: list[str] = []
        self.get_calls: list[str] = []
        self.held: dict[str, OrderIntent] = {}

    def land(self, client_order_id: str) -> None:
        """The held request reaches the matching engine now and fills."""
        self.orders[client_order_id] = self._filled(self.held.pop(client_order_id))

    def free(self, asset: str) -> Decimal:
        return Decimal(1_000_000)

    async def snapshot(self) -> BalanceSnapshot:
        return BalanceSnapshot(venue=self.venue, balances={}, ts=0)

    def _filled(self, intent: OrderIntent) -> OrderReport:
        return OrderReport(venue=self.venue, symbol=intent.symbol, side=intent.side,
                           client_order_id=intent.client_order_id, status=OrderStatus.FILLED,
                           price=intent.price, size=intent.size, filled_size=intent.size,
                           avg_price=intent.price, fee="0", fee_asset="USDT")  # fmt: skip

    async def place(self, intent: OrderIntent) -> OrderReport:
        self.place_calls.append(intent.client_order_id)
        action = self.script.pop(0) if self.script else "fill"
        if action == "dropped":
            raise RequestTimeout(self.venue, "no answer in 5s")
        if action == "held":
            self.held[intent.client_order_id] = intent
            raise RequestTimeout(self.venue, "no answer in 5s")
        if action == "reject":
            raise OrderRejected(self.venue, "insufficient balance")
        report = self._filled(intent)
        self.orders[intent.client_order_id] = report
        if action == "lost":
            raise RequestTimeout(self.venue, "no answer in 5s")
        if action == "bug":
            # e.g. an answer the code did not expect, whose text holds the signed request
            raise RuntimeError(f"no orderId in the answer to {SIGNED_URL}")
        return report

    async def get(self, symbol: str, client_order_id: str) -> OrderReport:
        self.get_calls.append(client_order_id)
        if self.get_times_out:
            raise RequestTimeout(self.venue, "no answer in 5s")
        try:
            return self.orders[client_order_id]
        except KeyError:
            raise UnknownOrder(self.venue, f"no order {client_order_id}") from None

    async def cancel(self, symbol: str, client_order_id: str) -> OrderReport:
        return await self.get(symbol, client_order_id)
