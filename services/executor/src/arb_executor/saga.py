"""The two-leg saga: journal, both IOC legs at once, reconcile ambiguity, hedge or unwind.

1. Journal the intents (durable) before anything is sent; if Redis does not take them,
   nothing is sent (the result says so). Every later journal write is write-behind: a hedge
   never waits for Redis (journal.py).
2. Place both legs concurrently. A RequestTimeout/VenueUnavailable from place means the
   outcome is unknown: the order is queried by client id (never re-sent). An order the venue
   still does not know after the queries is cancelled by id (so it cannot fill later) and
   counted as not placed. An order whose outcome stays unknown leaves the saga open.
3. If the legs filled different sizes, the difference is hedged with an IOC on the
   under-filled leg's venue within max slippage, then whatever remains is unwound on the
   over-filled venue within max slippage; what is left is unhedged exposure.
4. The result (fills, fees, realised PnL on matched quantity, the open part marked to
   market: pnl.py) is journaled and returned; an open part is published as exposure.

Late orders: a request the venue does not know after the queries may still be in flight and
land inside the venue's request validity window (``request_window_s``). Before hedging, the
saga waits out that window when it is short (at most ``late_wait_s``, default min(window,
2 s)) and queries once more; an order still unknown with its window open is written to the
watch store (``watch_until_ns`` on the leg) and reconciled by latewatch.py if it appears.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from arb_runtime.redact import redact
from arb_structs import (
    ExecutionResult,
    Instrument,
    Opportunity,
    OrderIntent,
    OrderReport,
)
from arb_structs.trading import ExecutionStatus, LegResult, OrderStatus, Side, WatchedOrder
from arb_venues.errors import (
    RateLimited,
    RequestTimeout,
    UnknownOrder,
    VenueError,
    VenueUnavailable,
)
from redis.exceptions import RedisError

from arb_executor import orderlog
from arb_executor.clientids import client_order_id
from arb_executor.exposure import ExposureBook
from arb_executor.gateway import BookSource, OrderGateway, split_symbol
from arb_executor.grid import bound_price, lot_size, text
from arb_executor.journal import Journal
from arb_executor.pnl import Pnl, exit_price, filled, settle
from arb_executor.risk import RiskState
from arb_executor.watchstore import WatchStore

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)
AMBIGUOUS = (RequestTimeout, VenueUnavailable)
ROLES = ("buy", "sell", "hedge", "unwind")
# Both IOC legs answered with nothing filled and no error: by the time they reached the venues
# the prices they were limited to were gone (the market moved, or another taker was first).
NOT_FILLED_REASON = "neither leg filled at its limit price: the venues' prices had moved"
Record = Callable[[str, OrderIntent], Awaitable[None]]  # (role, intent) journaled before sending


@dataclass(frozen=True)
class SagaPolicy:
    mode: str = "paper"
    max_slippage_bps: Decimal = Decimal(20)
    query_attempts: int = 3
    query_delay_s: float = 0.2
    late_wait_s: float | None = None  # max wait for a maybe-in-flight order; None: min(window, 2)
    late_margin_s: float = 1.0  # added to a venue's window: clock skew, in-venue queueing


class Saga:
    def __init__(
        self,
        gateways: Mapping[str, OrderGateway],
        journal: Journal,
        risk: RiskState,
        policy: SagaPolicy | None = None,
        watch: WatchStore | None = None,
        *,
        exposure: ExposureBook | None = None,
        marks: BookSource | None = None,
        instance: str = "",
    ) -> None:
        self.gateways = gateways
        self.journal = journal
        self.risk = risk
        self.policy = policy or SagaPolicy()
        self.watch = watch
        self.exposure = exposure
        self.marks = marks  # latest book views: the open part of a result is marked there
        self.instance = instance

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
        try:
            await self.journal.begin(opp, intents)
        except (RedisError, OSError) as exc:  # not journaled: nothing may be sent
            log.error("%s: journal write failed (%s); no order sent", opp.id, exc)
            self.journal.abandon(opp.id)  # the write may have got through: take it back
            return self.closing_result(
                opp, [], ZERO, False, ts_received=ts_received,
                status=ExecutionStatus.FAILED, reason=f"journal write failed ({exc}); "
                "nothing was sent: check Redis",
            )  # fmt: skip
        ts_before = time.time_ns()
        buy, sell = await asyncio.gather(
            self._place("buy", intents["buy"], opp.id), self._place("sell", intents["sell"], opp.id)
        )
        ts_after = time.time_ns()
        reports = [leg.report for leg in (buy, sell) if leg.report is not None]
        ts_sent = max((r.ts_sent for r in reports), default=0) or ts_before
        ts_acks = max((r.ts_ack for r in reports), default=0) or ts_after
        legs = [buy, sell]
        return await self._settle(opp, legs, ts_received, ts_sent, ts_acks)

    async def recover(self, opp: Opportunity, intents: dict[str, OrderIntent],
                      previous: ExecutionResult | None = None,
                      reason: str = "recovered after restart") -> ExecutionResult:  # fmt: skip
        """Finish a journaled saga (after a restart, or one whose outcome was unknown): query
        every journaled order by client id, never re-place one, then hedge/unwind what is
        open. ``previous``: a result already published for it; this one then carries only
        what it adds (realised PnL and fees), so the trade history never counts a fill twice."""
        ts = time.time_ns()
        roles = [r for r in ROLES if r in intents] + sorted(set(intents) - set(ROLES))
        legs = [await self.query(role, intents[role]) for role in roles]
        return await self._settle(opp, legs, ts, 0, 0, recovered=True, previous=previous,
                                  reason=reason)  # fmt: skip

    # -- orders ---------------------------------------------------------------------------

    async def _place(self, role: str, intent: OrderIntent, opportunity_id: str = ""
                     ) -> LegResult:  # fmt: skip
        gateway = self.gateways[intent.venue]
        ts_sent = time.time_ns()
        orderlog.sent(opportunity_id, role, intent)
        try:
            report = await gateway.place(intent)
        except AMBIGUOUS as exc:
            cause = str(exc)
        except VenueError as exc:  # the venue said no (or rate limited): nothing was placed
            self.risk.order_error(intent.venue, time.time_ns())
            if isinstance(exc, RateLimited):
                self.risk.rate_limited(intent.venue, time.time_ns(), exc.retry_after_s)
            orderlog.answer(opportunity_id, role, intent, None, str(exc))
            return LegResult(role=role, intent=intent, error=str(exc))
        except Exception as exc:  # not a venue's answer (a gateway's bug): outcome unknown too
            # Raised on, it would stop the saga half way: journaled ``sending``, its other leg
            # perhaps filled, and the redelivery of its opportunity dropped as a duplicate.
            log.exception("%s %s: placing raised %s; the order is queried as outcome unknown",
                          opportunity_id, role, type(exc).__name__)  # fmt: skip
            cause = redact(f"{type(exc).__name__}: {exc}")  # it is published with the result
        else:
            self.risk.order_ok(intent.venue)
            orderlog.answer(opportunity_id, role, intent, report)
            return LegResult(role=role, intent=intent, report=report)
        self.risk.order_error(intent.venue, time.time_ns())
        orderlog.answer(opportunity_id, role, intent, None, f"outcome unknown: {cause}")
        leg = await self.query(role, intent, cause=cause, ts_sent=ts_sent)
        orderlog.answer(opportunity_id, role, intent, leg.report, leg.error)
        return leg

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
        previous: ExecutionResult | None = None,
        reason: str = "recovered after restart",
    ) -> ExecutionResult:
        net, unknown = await self.close(opp, legs)
        dust = bool(net) and not unknown and self.is_dust(opp, net)
        status, why = self._status(opp, legs, net, unknown, dust)
        if recovered and not (unknown or dust):
            why = "; ".join(filter(None, (reason, why)))
        result = await self.result_of(opp, legs, net, status=status, reason=why,
                                      ts_received=ts_received, ts_sent=ts_sent,
                                      ts_acks=ts_acks, previous=previous)  # fmt: skip
        now = time.time_ns()
        if any(leg.report is not None for leg in legs):
            self.risk.traded(opp, now, Decimal(result.realised_pnl))
        self.record_exposure(opp, legs, result, net, unknown, dust)
        if result.status is ExecutionStatus.UNHEDGED:
            self.risk.unhedged(opp, now, net or self._unknown_size(legs))
        await self.watch_legs(opp, legs)  # before the saga is closed: a crash keeps it open
        await self.journal.finish(result, resolved=not unknown)
        return result

    def _status(self, opp: Opportunity, legs: list[LegResult], net: Decimal, unknown: bool,
                dust: bool) -> tuple[ExecutionStatus, str]:  # fmt: skip
        base, _ = split_symbol(opp.symbol)
        bought = sum((filled(leg) for leg in legs[:2] if leg.role == "buy"), ZERO)
        sold = sum((filled(leg) for leg in legs[:2] if leg.role == "sell"), ZERO)
        if unknown:
            return ExecutionStatus.UNHEDGED, "order outcome unknown; saga left open"
        if dust:
            return ExecutionStatus.HEDGED, (f"{text(net)} {base} dust left: below the "
                                            "lot/minimum size on both venues")  # fmt: skip
        if net:
            return ExecutionStatus.UNHEDGED, ""
        if len(legs) > 2 and any(filled(leg) for leg in legs[2:]):
            return ExecutionStatus.HEDGED, ""
        if bought and bought == sold:
            size = Decimal(opp.size)
            return (ExecutionStatus.FILLED if bought == size else ExecutionStatus.PARTIAL), ""
        if any(leg.error for leg in legs) and not any(filled(leg) for leg in legs):
            return ExecutionStatus.FAILED, "; ".join(leg.error for leg in legs if leg.error)
        return ExecutionStatus.NOT_FILLED, NOT_FILLED_REASON

    @staticmethod
    def _unknown_size(legs: list[LegResult]) -> Decimal:
        """The position an order of unknown outcome may have made (signed, its full size)."""
        for leg in legs:
            if leg.report is not None and leg.report.status is OrderStatus.UNKNOWN:
                size = Decimal(leg.intent.size)
                return size if leg.intent.side is Side.BUY else -size
        return ZERO

    @staticmethod
    def _unknown_price(legs: list[LegResult]) -> Decimal:
        for leg in legs:
            if leg.report is not None and leg.report.status is OrderStatus.UNKNOWN:
                return Decimal(leg.intent.price)
        return ZERO

    def record_exposure(self, opp: Opportunity, legs: list[LegResult],
                        result: ExecutionResult, net: Decimal, unknown: bool, dust: bool,
                        tag: str = "") -> None:  # fmt: skip
        """Publish what this result leaves open, or close what an earlier result left open
        (``tag``: one of several exposures of an opportunity, closed only by its own)."""
        if self.exposure is None:
            return
        base, _ = split_symbol(opp.symbol)
        if result.status is ExecutionStatus.UNHEDGED:
            size = net or self._unknown_size(legs)
            venue = self.position_venue(opp, legs, size)
            why = result.reason or f"{text(size)} {base} left open after hedge and unwind"
            entry = settle(opp.symbol, legs).entry if net else self._unknown_price(legs)
            self.exposure.unhedged(opportunity_id=opp.id, venue=venue, asset=base, size=size,
                                   entry=entry, mark=Decimal(result.mark_price) or None,
                                   reason=why, tag=tag)  # fmt: skip
        elif not unknown and not tag:
            self.exposure.close_for(opp.id, f"closed: {result.status.value} {result.reason}")

    @staticmethod
    def position_venue(opp: Opportunity, legs: list[LegResult], net: Decimal) -> str:
        """Where an open position sits: the venue of the legs on its side (long: buys)."""
        side = Side.BUY if net > 0 else Side.SELL
        amounts: dict[str, Decimal] = {}
        for leg in legs:
            if leg.intent.side is side:
                amounts[leg.intent.venue] = amounts.get(leg.intent.venue, ZERO) + filled(leg)
        if amounts and max(amounts.values()):
            return max(amounts, key=lambda v: amounts[v])
        return opp.buy_venue if net > 0 else opp.sell_venue

    async def mark(self, venue: str, symbol: str, net: Decimal) -> Decimal | None:
        """The price the open part could be closed at now, from the latest book view (a
        short bounded read: marking never holds a result back)."""
        if self.marks is None or not net:
            return None
        try:
            async with asyncio.timeout(0.25):
                view = await self.marks(venue, symbol)
        except (TimeoutError, RedisError, OSError):
            return None
        return exit_price(view, net)

    async def result_of(self, opp: Opportunity, legs: list[LegResult], net: Decimal, *,
                        status: ExecutionStatus, reason: str, ts_received: int,
                        ts_sent: int = 0, ts_acks: int = 0,
                        previous: ExecutionResult | None = None,
                        expected: float | None = None) -> ExecutionResult:  # fmt: skip
        """The result of ``legs`` (PnL, fees, the open part marked to market)."""
        pnl = settle(opp.symbol, legs)
        mark = await self.mark(self.position_venue(opp, legs, net), opp.symbol, net)
        return self.closing_result(opp, legs, net, False, ts_received=ts_received,
                                   status=status, reason=reason, ts_sent=ts_sent,
                                   ts_acks=ts_acks, pnl=pnl, mark=mark, previous=previous,
                                   expected=expected)  # fmt: skip

    def closing_result(self, opp: Opportunity, legs: list[LegResult], net: Decimal,
                       unknown: bool, *, ts_received: int, status: ExecutionStatus,
                       reason: str, ts_sent: int = 0, ts_acks: int = 0, pnl: Pnl | None = None,
                       mark: Decimal | None = None, previous: ExecutionResult | None = None,
                       expected: float | None = None) -> ExecutionResult:  # fmt: skip
        pnl = pnl or settle(opp.symbol, legs)
        if expected is None:
            expected = opp.net_profit if previous is None else 0.0
        realised, fees = pnl.realised, pnl.fees
        if previous is not None:  # this result adds to one already published
            realised -= Decimal(previous.realised_pnl)
            fees -= Decimal(previous.fees_quote)
        return ExecutionResult(
            opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
            sell_venue=opp.sell_venue, status=status, mode=self.policy.mode, legs=legs,
            expected_pnl=expected,
            realised_pnl=text(realised), fees_quote=text(fees), unhedged_size=text(net),
            reason=reason, ts_detect=opp.ts_detect, ts_received=ts_received,
            ts_orders_sent=ts_sent, ts_acks=ts_acks, ts_done=time.time_ns(),
            unrealised_pnl=text(pnl.unrealised(mark)), mark_price=text(mark) if mark else "0",
            executor=self.instance,
        )  # fmt: skip

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
                tick = instrument.tick_size if instrument is not None else None
                price = bound_price(leg_price, bps, side is Side.BUY, tick)
                size = lot_size(abs(net), instrument, Decimal(price))
                if not size:  # below the venue's lot / minimum / min notional: cannot be sent
                    continue
                intent = self._intent(opp, role, venue, side, price, text(size))
                if record is not None:
                    await record(role, intent)
                else:
                    await self.journal.add(opp.id, role, intent)
                legs.append(await self._place(role, intent, opp.id))
                net = self._net(legs)
                unknown = (
                    legs[-1].report is not None and legs[-1].report.status is OrderStatus.UNKNOWN
                )
                if unknown:
                    break
        return net, unknown

    def is_dust(self, opp: Opportunity, net: Decimal) -> bool:
        """A leftover no order can close: below the lot, minimum size or minimum notional on
        both venues. It is reported (unhedged_size keeps it) but does not block the pair as
        exposure would."""
        sides = ((opp.buy_venue, opp.buy_price), (opp.sell_venue, opp.sell_price))
        grids = [(self._instrument(venue, opp.symbol), Decimal(price)) for venue, price in sides]
        return all(g is not None and not lot_size(abs(net), g, price) for g, price in grids)

    def _instrument(self, venue: str, symbol: str) -> Instrument | None:
        """The venue's reference data (tick, lot) when its gateway knows it (live mode)."""
        lookup = getattr(self.gateways[venue], "instrument", None)
        return lookup(symbol) if lookup is not None else None
