"""The two-leg saga: journal, both IOC legs at once, reconcile ambiguity, hedge or unwind.

1. Journal the intents (durable) before anything is sent.
2. Place both legs concurrently. A RequestTimeout/VenueUnavailable from place means the
   outcome is unknown: the order is queried by client id (never re-sent). An order the venue
   still does not know after the queries is cancelled by id (so it cannot fill later) and
   counted as not placed. An order whose outcome stays unknown leaves the saga open.
3. If the legs filled different sizes, the difference is hedged with an IOC on the
   under-filled leg's venue within max slippage, then whatever remains is unwound on the
   over-filled venue within max slippage; what is left is unhedged exposure.
4. The result (fills, fees, realised PnL) is journaled and returned.

Late orders: a request the venue does not know after the queries may still be in flight and
land inside the venue's request validity window (``request_window_s``). Before hedging, the
saga waits out that window when it is short (at most ``late_wait_s``, default min(window,
2 s)) and queries once more; an order still unknown with its window open is written to the
watch store (``watch_until_ns`` on the leg) and reconciled by latewatch.py if it appears.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from arb_structs import ExecutionResult, Instrument, Opportunity, OrderIntent, OrderReport
from arb_structs.trading import ExecutionStatus, LegResult, OrderStatus, Side, WatchedOrder
from arb_venues.errors import (
    RateLimited,
    RequestTimeout,
    UnknownOrder,
    VenueError,
    VenueUnavailable,
)

from arb_executor.clientids import client_order_id
from arb_executor.gateway import OrderGateway, split_symbol
from arb_executor.grid import bound_price, lot_size, text
from arb_executor.journal import Journal
from arb_executor.risk import RiskState
from arb_executor.watchstore import WatchStore

ZERO = Decimal(0)
AMBIGUOUS = (RequestTimeout, VenueUnavailable)
ROLES = ("buy", "sell", "hedge", "unwind")
Record = Callable[[str, OrderIntent], Awaitable[None]]  # (role, intent) journaled before sending


@dataclass(frozen=True)
class SagaPolicy:
    mode: str = "paper"
    max_slippage_bps: Decimal = Decimal(20)
    query_attempts: int = 3
    query_delay_s: float = 0.2
    late_wait_s: float | None = None  # max wait for a maybe-in-flight order; None: min(window, 2)
    late_margin_s: float = 1.0  # added to a venue's window: clock skew, in-venue queueing


def filled(leg: LegResult) -> Decimal:
    return Decimal(leg.report.filled_size) if leg.report is not None else ZERO


def cash_and_fees(symbol: str, legs: list[LegResult]) -> tuple[Decimal, Decimal]:
    """Quote cash the fills moved (+ received) and their fees in quote."""
    base, quote = split_symbol(symbol)
    cash = fees = ZERO
    for leg in legs:
        report = leg.report
        size = filled(leg)
        if report is None or not size:
            continue
        price = Decimal(report.avg_price)
        cash += -size * price if leg.intent.side is Side.BUY else size * price
        fee = Decimal(report.fee or "0")
        if report.fee_asset in ("", quote):
            fees += fee
        elif report.fee_asset == base:
            fees += fee * price
    return cash, fees


class Saga:
    def __init__(
        self,
        gateways: Mapping[str, OrderGateway],
        journal: Journal,
        risk: RiskState,
        policy: SagaPolicy | None = None,
        watch: WatchStore | None = None,
    ) -> None:
        self.gateways = gateways
        self.journal = journal
        self.risk = risk
        self.policy = policy or SagaPolicy()
        self.watch = watch

    def intents(self, opp: Opportunity) -> dict[str, OrderIntent]:
        return {
            "buy": self._intent(opp, "buy", opp.buy_venue, Side.BUY, opp.buy_price, opp.size),
            "sell": self._intent(opp, "sell", opp.sell_venue, Side.SELL, opp.sell_price, opp.size),
        }

    @staticmethod
    def _intent(opp: Opportunity, role: str, venue: str, side: Side, price: str,
                size: str) -> OrderIntent:  # fmt: skip
        return OrderIntent(venue=venue, symbol=opp.symbol, side=side, price=price, size=size,
                           client_order_id=client_order_id(venue, opp.id, role))  # fmt: skip

    async def execute(self, opp: Opportunity, ts_received: int) -> ExecutionResult:
        intents = self.intents(opp)
        await self.journal.begin(opp, intents)
        ts_before = time.time_ns()
        buy, sell = await asyncio.gather(
            self._place("buy", intents["buy"]), self._place("sell", intents["sell"])
        )
        ts_after = time.time_ns()
        reports = [leg.report for leg in (buy, sell) if leg.report is not None]
        ts_sent = max((r.ts_sent for r in reports), default=0) or ts_before
        ts_acks = max((r.ts_ack for r in reports), default=0) or ts_after
        legs = [buy, sell]
        return await self._settle(opp, legs, ts_received, ts_sent, ts_acks)

    async def recover(self, opp: Opportunity, intents: dict[str, OrderIntent]) -> ExecutionResult:
        """Finish a journaled saga after a restart: query every journaled order by client id,
        never re-place one, then hedge/unwind what is open."""
        ts = time.time_ns()
        legs = [await self.query(role, intents[role]) for role in ROLES if role in intents]
        return await self._settle(opp, legs, ts, 0, 0, recovered=True)

    # -- orders ---------------------------------------------------------------------------

    async def _place(self, role: str, intent: OrderIntent) -> LegResult:
        gateway = self.gateways[intent.venue]
        ts_sent = time.time_ns()
        try:
            report = await gateway.place(intent)
        except AMBIGUOUS as exc:
            self.risk.order_error(intent.venue, time.time_ns())
            return await self.query(role, intent, cause=str(exc), ts_sent=ts_sent)
        except VenueError as exc:  # the venue said no (or rate limited): nothing was placed
            self.risk.order_error(intent.venue, time.time_ns())
            if isinstance(exc, RateLimited):
                self.risk.rate_limited(intent.venue, time.time_ns(), exc.retry_after_s)
            return LegResult(role=role, intent=intent, error=str(exc))
        self.risk.order_ok(intent.venue)
        return LegResult(role=role, intent=intent, report=report)

    async def query(self, role: str, intent: OrderIntent, cause: str = "",
                     ts_sent: int = 0) -> LegResult:  # fmt: skip
        """The order's outcome by client id; never re-sends it. ``ts_sent`` = 0: the send
        time is not known (recovery), so the request may have been sent just now."""
        gateway = self.gateways[intent.venue]
        unknown_to_venue = True
        last = cause
        for attempt in range(self.policy.query_attempts):
            if attempt and self.policy.query_delay_s:
                await asyncio.sleep(self.policy.query_delay_s)
            try:
                report = await gateway.get(intent.symbol, intent.client_order_id)
            except UnknownOrder as exc:
                last = str(exc)
                continue
            except VenueError as exc:
                unknown_to_venue = False
                last = str(exc)
                continue
            report = await self.stop(intent, report)
            return LegResult(role=role, intent=intent, report=report, error=cause)
        if unknown_to_venue:
            try:  # it never arrived, or arrives late: a cancel makes sure it cannot fill
                report = await gateway.cancel(intent.symbol, intent.client_order_id)
                return LegResult(role=role, intent=intent, report=report, error=cause)
            except VenueError:
                pass
            return await self._maybe_late(role, intent, cause, last, ts_sent)
        unknown = OrderReport(venue=intent.venue, symbol=intent.symbol, side=intent.side,
                              client_order_id=intent.client_order_id,
                              status=OrderStatus.UNKNOWN, price=intent.price, size=intent.size,
                              reason=last)  # fmt: skip
        return LegResult(role=role, intent=intent, report=unknown, error=f"outcome unknown: {last}")

    async def stop(self, intent: OrderIntent, report: OrderReport) -> OrderReport:
        """An IOC should be final; cancel one the venue still shows open."""
        if report.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            try:
                return await self.gateways[intent.venue].cancel(
                    intent.symbol, intent.client_order_id
                )
            except VenueError:
                pass
        return report

    def late_deadline(self, venue: str, ts_sent: int) -> int:
        """ns after which an order sent at ``ts_sent`` can no longer land; 0 = never lands."""
        window = self.gateways[venue].request_window_s
        if window <= 0:
            return 0
        return (ts_sent or time.time_ns()) + int((window + self.policy.late_margin_s) * 1e9)

    async def _maybe_late(self, role: str, intent: OrderIntent, cause: str, last: str,
                          ts_sent: int) -> LegResult:  # fmt: skip
        """The venue does not know the order, but its request may still be in flight. Wait
        out a short window and query once more; else leave it to the late-order watch."""
        not_placed = LegResult(role=role, intent=intent, error=f"not placed: {last}")
        deadline = self.late_deadline(intent.venue, ts_sent)
        if not deadline:
            return not_placed
        window = self.gateways[intent.venue].request_window_s
        limit = self.policy.late_wait_s if self.policy.late_wait_s is not None else min(window, 2.0)
        wait = min(limit, (deadline - time.time_ns()) / 1e9)
        if wait > 0:
            await asyncio.sleep(wait)
            try:
                report = await self.gateways[intent.venue].get(intent.symbol,
                                                               intent.client_order_id)  # fmt: skip
            except UnknownOrder:
                if time.time_ns() >= deadline:  # the window is over: it can no longer land
                    return not_placed
            except VenueError as exc:
                last = str(exc)
            else:  # it landed while we waited: no hedge needed for it
                report = await self.stop(intent, report)
                return LegResult(role=role, intent=intent, report=report, error=cause)
        return LegResult(role=role, intent=intent, error=f"not placed: {last}",
                         watch_until_ns=deadline)  # fmt: skip

    async def watch_legs(self, opp: Opportunity, legs: list[LegResult]) -> int:
        """Write the legs that may still land to the watch store; how many."""
        count = 0
        for leg in legs:
            if leg.watch_until_ns and leg.report is None and self.watch is not None:
                await self.watch.put(WatchedOrder(opportunity=opp, role=leg.role,
                                                  intent=leg.intent,
                                                  deadline_ns=leg.watch_until_ns,
                                                  ts_watched=time.time_ns()))  # fmt: skip
                count += 1
        return count

    # -- hedge / unwind and the result ------------------------------------------------------

    def _net(self, legs: list[LegResult]) -> Decimal:
        """Base position the legs left: + long, - short."""
        return sum(
            (filled(leg) if leg.intent.side is Side.BUY else -filled(leg) for leg in legs), ZERO
        )

    async def _settle(
        self,
        opp: Opportunity,
        legs: list[LegResult],
        ts_received: int,
        ts_sent: int,
        ts_acks: int,
        recovered: bool = False,
    ) -> ExecutionResult:
        net, unknown = await self.close(opp, legs)
        dust = bool(net) and not unknown and self.is_dust(opp, net)
        result = self._result(opp, legs, net, unknown, ts_received, ts_sent, ts_acks, recovered,
                              dust)  # fmt: skip
        now = time.time_ns()
        if any(leg.report is not None for leg in legs):
            self.risk.traded(opp, now, Decimal(result.realised_pnl))
        if result.status is ExecutionStatus.UNHEDGED:
            self.risk.unhedged(opp, now, net)
        await self.watch_legs(opp, legs)  # before the saga is closed: a crash keeps it open
        await self.journal.finish(result, resolved=not unknown)
        return result

    async def close(self, opp: Opportunity, legs: list[LegResult], prefix: str = "",
                    record: Record | None = None) -> tuple[Decimal, bool]:  # fmt: skip
        """Hedge, then unwind, the net position ``legs`` left (appending the new legs);
        returns (net left, whether an order's outcome is unknown). Each new intent is
        recorded (default: the saga journal) before it is sent; roles are ``prefix`` +
        hedge/unwind, so their client ids differ from the saga's own."""
        unknown = any(
            leg.report is not None and leg.report.status is OrderStatus.UNKNOWN for leg in legs
        )
        net = self._net(legs)
        if net and not unknown:
            bps = self.policy.max_slippage_bps
            used = {leg.role for leg in legs}
            if net > 0:  # long: sell the rest on the sell venue, else back on the buy venue
                plan = [("hedge", opp.sell_venue, opp.sell_price),
                        ("unwind", opp.buy_venue, opp.buy_price)]  # fmt: skip
            else:  # short: buy the rest on the buy venue, else back on the sell venue
                plan = [("hedge", opp.buy_venue, opp.buy_price),
                        ("unwind", opp.sell_venue, opp.sell_price)]  # fmt: skip
            for kind, venue, leg_price in plan:
                role = prefix + kind
                if not net or role in used:
                    continue
                side = Side.SELL if net > 0 else Side.BUY
                instrument = self._instrument(venue, opp.symbol)
                size = lot_size(abs(net), instrument)
                if not size:  # below the venue's lot / minimum: cannot be sent there
                    continue
                tick = instrument.tick_size if instrument is not None else None
                price = bound_price(leg_price, bps, side is Side.BUY, tick)
                intent = self._intent(opp, role, venue, side, price, text(size))
                if record is not None:
                    await record(role, intent)
                else:
                    await self.journal.add(opp.id, role, intent)
                legs.append(await self._place(role, intent))
                net = self._net(legs)
                unknown = (
                    legs[-1].report is not None and legs[-1].report.status is OrderStatus.UNKNOWN
                )
                if unknown:
                    break
        return net, unknown

    def is_dust(self, opp: Opportunity, net: Decimal) -> bool:
        """A leftover no order can close: below the lot or minimum size on both venues. It is
        reported (unhedged_size keeps it) but does not block the pair as exposure would."""
        venues = (opp.buy_venue, opp.sell_venue)
        grids = [self._instrument(venue, opp.symbol) for venue in venues]
        return all(g is not None and not lot_size(abs(net), g) for g in grids)

    def _instrument(self, venue: str, symbol: str) -> Instrument | None:
        """The venue's reference data (tick, lot) when its gateway knows it (live mode)."""
        lookup = getattr(self.gateways[venue], "instrument", None)
        return lookup(symbol) if lookup is not None else None

    def _result(self, opp: Opportunity, legs: list[LegResult], net: Decimal, unknown: bool,
                ts_received: int, ts_sent: int, ts_acks: int,
                recovered: bool, dust: bool = False) -> ExecutionResult:  # fmt: skip
        base, _ = split_symbol(opp.symbol)
        cash, fees = cash_and_fees(opp.symbol, legs)
        bought = sum((filled(leg) for leg in legs[:2] if leg.role == "buy"), ZERO)
        sold = sum((filled(leg) for leg in legs[:2] if leg.role == "sell"), ZERO)
        reason = "recovered after restart" if recovered else ""
        if unknown:
            status, reason = ExecutionStatus.UNHEDGED, "order outcome unknown; saga left open"
        elif dust:
            status = ExecutionStatus.HEDGED
            reason = f"{text(net)} {base} dust left: below the lot/minimum size on both venues"
        elif net:
            status = ExecutionStatus.UNHEDGED
        elif len(legs) > 2 and any(filled(leg) for leg in legs[2:]):
            status = ExecutionStatus.HEDGED
        elif bought and bought == sold:
            size = Decimal(opp.size)
            status = ExecutionStatus.FILLED if bought == size else ExecutionStatus.PARTIAL
        elif any(leg.error for leg in legs) and not any(filled(leg) for leg in legs):
            status = ExecutionStatus.FAILED
            reason = reason or "; ".join(leg.error for leg in legs if leg.error)
        else:
            status = ExecutionStatus.NOT_FILLED
        return ExecutionResult(
            opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
            sell_venue=opp.sell_venue, status=status, mode=self.policy.mode, legs=legs,
            expected_pnl=opp.net_profit, realised_pnl=text(cash - fees), fees_quote=text(fees),
            unhedged_size=text(net), reason=reason, ts_detect=opp.ts_detect,
            ts_received=ts_received, ts_orders_sent=ts_sent, ts_acks=ts_acks,
            ts_done=time.time_ns(),
        )  # fmt: skip
