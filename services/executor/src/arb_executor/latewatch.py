"""The late-order watch: orders concluded "never placed" that land after all.

A request that got no answer and that the venue did not know after the queries may still be
in flight and be accepted inside the venue's request validity window. The saga writes such
an order to the watch store (watchstore.py) with its deadline (send time + window + margin).
This task re-queries every watched order by client id each ``poll_s``:

- unknown to the venue and past its deadline: dropped from the watch (it can no longer land);
- unknown before the deadline, or not answerable (timeout, 5xx): kept;
- found: stopped if still open (IOC), then reconciled. Nothing filled: dropped. A fill is
  exposure the saga never saw (it hedged as if the order did not exist): it is hedged, then
  unwound, with the saga's policy (roles ``late-<role>-hedge`` / ``late-<role>-unwind``, so
  their client ids are new), and an ExecutionResult for the same opportunity goes to
  ``arb:executions`` with status ``reconciled`` (closed, or dust) or ``unhedged`` (the pair is
  blocked and the exposure counted, as for a saga). Risk state is updated and saved.

Crash safety: the watched entry is removed only after the result is published. The
reconciliation's hedge intents are written into the entry before they are sent, so a
restarted executor queries them instead of sending them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

import msgspec
from arb_structs import ExecutionResult, OrderIntent, OrderReport
from arb_structs.trading import ExecutionStatus, LegResult, OrderStatus, WatchedOrder
from arb_venues.errors import UnknownOrder, VenueError

from arb_executor import metrics
from arb_executor.gateway import OrderGateway, split_symbol
from arb_executor.grid import text
from arb_executor.pnl import filled
from arb_executor.saga import Saga
from arb_executor.watchstore import WatchStore

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)
FINAL = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)

Publish = Callable[[ExecutionResult], Awaitable[None]]


class LateOrderWatcher:
    def __init__(
        self,
        saga: Saga,
        store: WatchStore,
        publish: Publish,
        *,
        poll_s: float = 0.25,
        after_reconcile: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.saga = saga
        self.store = store
        self.publish = publish
        self.poll_s = poll_s
        self.after_reconcile = after_reconcile  # e.g. save the risk state
        self.reconciled = 0
        self.dropped = 0

    @property
    def gateways(self) -> Mapping[str, OrderGateway]:
        return self.saga.gateways

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.tick()
            except Exception:  # the watch must outlive one bad round (Redis blip, bug)
                log.exception("late-order watch round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.poll_s)

    async def tick(self) -> int:
        """Check every watched order once; how many are still watched."""
        watched = await self.store.all()
        metrics.LATE_WATCHED.set(len(watched))
        left = 0
        for order in watched:
            if not await self.check(order):
                left += 1
        return left

    async def check(self, order: WatchedOrder) -> bool:
        """Query one watched order; True when it left the watch."""
        intent = order.intent
        gateway = self.gateways.get(intent.venue)
        if gateway is None:
            log.error("watched order %s on %s: no gateway for the venue; kept",
                      intent.client_order_id, intent.venue)  # fmt: skip
            return False
        now = time.time_ns()
        try:
            report = await gateway.get(intent.symbol, intent.client_order_id)
        except UnknownOrder:
            if now < order.deadline_ns:
                return False
            await self.store.remove(intent.client_order_id)
            self.dropped += 1
            metrics.LATE_ORDERS.labels(intent.venue, "dropped").inc()
            return True
        except VenueError as exc:  # state not learnable now: keep it, even past the deadline
            log.warning("watched order %s on %s: query failed (%s); kept",
                        intent.client_order_id, intent.venue, exc)  # fmt: skip
            return False
        report = await self.saga.stop(intent, report)
        if not filled(LegResult(role=order.role, intent=intent, report=report)):
            if report.status not in FINAL:
                return False  # still open and not cancellable yet: look again
            await self.store.remove(intent.client_order_id)
            metrics.LATE_ORDERS.labels(intent.venue, "landed_unfilled").inc()
            log.warning("%s: %s order %s landed late but filled nothing (%s %s)",
                        order.opportunity.id, intent.venue, intent.client_order_id,
                        report.status.value, report.reason)  # fmt: skip
            return True
        result = await self.reconcile(order, report)
        await self.publish(result)
        if self.after_reconcile is not None:
            await self.after_reconcile()
        await self.store.remove(intent.client_order_id)
        self.reconciled += 1
        metrics.LATE_ORDERS.labels(intent.venue, result.status.value).inc()
        return True

    async def reconcile(self, order: WatchedOrder, report: OrderReport) -> ExecutionResult:
        """Close the exposure a late fill created; the result of doing so."""
        opp, saga = order.opportunity, self.saga
        log.error("%s: %s %s order %s concluded never placed appeared late, filled %s; "
                  "reconciling", opp.id, order.intent.venue, order.role,
                  order.intent.client_order_id, report.filled_size)  # fmt: skip
        cause = "appeared after the saga concluded it was never placed"
        legs = [LegResult(role=order.role, intent=order.intent, report=report, error=cause)]
        for role, intent in order.hedges.items():  # sent before a restart: query, never resend
            legs.append(await saga.query(role, intent))
        current = order

        async def record(role: str, intent: OrderIntent) -> None:
            nonlocal current
            current = msgspec.structs.replace(current, hedges={**current.hedges, role: intent})
            await self.store.put(current)
            saga.journal.note(intent)  # known to the reconciliation: never adopted

        net, unknown = await saga.close(opp, legs, prefix=f"late-{order.role}-", record=record)
        dust = bool(net) and not unknown and saga.is_dust(opp, net)
        base, _ = split_symbol(opp.symbol)
        late = f"late {order.role} order on {order.intent.venue} filled {report.filled_size}"
        if unknown:
            status, reason = ExecutionStatus.UNHEDGED, f"{late}; a hedge's outcome is unknown"
        elif net and not dust:
            status, reason = ExecutionStatus.UNHEDGED, f"{late}; {text(net)} {base} left open"
        elif dust:
            status = ExecutionStatus.RECONCILED
            reason = f"{late}; {text(net)} {base} dust left: below the lot/minimum size"
        else:
            status, reason = ExecutionStatus.RECONCILED, f"{late}; hedged"
        result = await saga.result_of(opp, legs, net, status=status, reason=reason,
                                      ts_received=order.ts_watched, expected=0.0)  # fmt: skip
        now = time.time_ns()
        saga.risk.traded(opp, now, Decimal(result.realised_pnl))
        saga.record_exposure(opp, legs, result, net, unknown, dust, tag=f":late-{order.role}")
        if status is ExecutionStatus.UNHEDGED:
            saga.risk.unhedged(opp, now, net)
        await saga.watch_legs(opp, legs[1:])  # a hedge that may itself land late
        return result
