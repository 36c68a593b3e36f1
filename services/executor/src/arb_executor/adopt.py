"""Adoption: orders found at the venues with the engine's client id and no record anywhere.

They are what a saga left when its journal was lost with Redis and its executor with it
(kill -9 of both, say): the orders of a saga share a saga group in their client ids
(arb_venues.common.clientids), so the orders found are put back together by group and
symbol, across venues:

- a flat group (its fills net to nothing) is a saga that ran to its end: its ids are
  recorded as known, nothing is sent and no result is published (its result was published
  when it ended; the trade history has it);
- a group with a net position is a saga cut short: it is journaled as a saga of its own
  (opportunity ``group:<group>:<hash of its orders>``, every found order an ``adopted-<n>``
  intent) and closed by the saga's rules, hedge then unwind within the slippage bound, with
  roles ``adopt-hedge`` / ``adopt-unwind`` (client ids in the same group, the same for the
  same orders: a crash and a second adoption find them instead of sending twice). Its result
  (status ``reconciled``, or ``unhedged``) goes to ``arb:executions`` with the PnL of all its
  orders, and what stays open is published as exposure.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from arb_structs import ExecutionResult, Opportunity, OrderIntent, OrderReport
from arb_structs.trading import ExecutionStatus, LegResult, Side
from arb_venues.common.clientids import group_opportunity_id, saga_group

from arb_executor import metrics
from arb_executor.grid import text
from arb_executor.saga import Saga

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)
Publish = Callable[[ExecutionResult], Awaitable[None]]


@dataclass(frozen=True)
class Found:
    venue: str
    report: OrderReport

    @property
    def filled(self) -> Decimal:
        return Decimal(self.report.filled_size or "0")

    @property
    def signed(self) -> Decimal:
        return self.filled if self.report.side is Side.BUY else -self.filled


def by_group(found: Sequence[Found]) -> dict[tuple[str, str], list[Found]]:
    groups: dict[tuple[str, str], list[Found]] = {}
    for item in found:
        group = saga_group(item.report.client_order_id)
        if group is not None:
            groups.setdefault((group, item.report.symbol), []).append(item)
    return groups


def synthetic(group: str, symbol: str, members: Sequence[Found], net: Decimal) -> Opportunity:
    """The opportunity an adopted group is closed under: its buy side on the venue of its
    largest buy, its sell side on that of its largest sell (the other when one is missing),
    each at that order's limit price."""
    digest = hashlib.sha256(
        "|".join(sorted(m.report.client_order_id for m in members)).encode()
    ).hexdigest()[:8]
    buys = sorted((m for m in members if m.report.side is Side.BUY), key=lambda m: m.filled)
    sells = sorted((m for m in members if m.report.side is Side.SELL), key=lambda m: m.filled)
    buy = buys[-1] if buys else sells[-1]
    sell = sells[-1] if sells else buys[-1]
    now = time.time_ns()
    return Opportunity(
        id=group_opportunity_id(group, digest), symbol=symbol, buy_venue=buy.venue,
        sell_venue=sell.venue, size=text(abs(net)), buy_price=buy.report.price,
        sell_price=sell.report.price, buy_vwap=0.0, sell_vwap=0.0, gross_profit=0.0,
        net_profit=0.0, edge_bps=0.0, buy_seq=0, sell_seq=0, expires_ns=now, ts_event_buy=0,
        ts_event_sell=0, ts_recv=0, ts_book=0, ts_detect=now,
    )  # fmt: skip


class Adopter:
    def __init__(self, saga: Saga, publish: Publish) -> None:
        self.saga = saga
        self.publish = publish
        self.adopted = 0  # orders adopted by this process
        self.flat_groups = 0

    async def adopt(
        self, group: str, symbol: str, members: Sequence[Found]
    ) -> ExecutionResult | None:
        """Record a group found without a journal; close its net position if it has one."""
        saga, journal = self.saga, self.saga.journal
        net = sum((m.signed for m in members), ZERO)
        opp = synthetic(group, symbol, members, net)
        intents = {
            f"adopted-{i}": OrderIntent(venue=m.venue, symbol=symbol, side=m.report.side,
                                        price=m.report.price, size=m.report.size,
                                        client_order_id=m.report.client_order_id)
            for i, m in enumerate(members)
        }  # fmt: skip
        await journal.begin(opp, intents)  # journaled first: a crash resumes, never re-sends
        ids = ", ".join(f"{m.venue}:{m.report.client_order_id}" for m in members)
        if not net or saga.is_dust(opp, net):
            self.flat_groups += 1
            log.info("saga group %s (%s): %d orders found with no record, flat; recorded",
                     group, symbol, len(members))  # fmt: skip
            result = saga.closing_result(opp, [], ZERO, False, ts_received=time.time_ns(),
                                         status=ExecutionStatus.RECONCILED,
                                         reason="flat group recorded")  # fmt: skip
            await journal.finish(result, resolved=True)
            return None
        log.error("saga group %s (%s): orders found at the venues with no record (%s), "
                  "%s %s open; adopting them and closing it", group, symbol, ids, text(net),
                  symbol)  # fmt: skip
        legs = [LegResult(role=role, intent=intent,
                          report=next(m.report for m in members
                                      if m.report.client_order_id == intent.client_order_id))
                for role, intent in intents.items()]  # fmt: skip
        left, unknown = await saga.close(opp, legs, prefix="adopt-")
        dust = bool(left) and not unknown and saga.is_dust(opp, left)
        why = f"adopted {len(members)} orders found without a record ({ids})"
        if unknown:
            status, why = ExecutionStatus.UNHEDGED, f"{why}; a hedge's outcome is unknown"
        elif left and not dust:
            status, why = ExecutionStatus.UNHEDGED, f"{why}; {text(left)} left open"
        else:
            status = ExecutionStatus.RECONCILED
        result = await saga.result_of(opp, legs, left, status=status, reason=why,
                                      ts_received=time.time_ns(), expected=0.0)  # fmt: skip
        now = time.time_ns()
        saga.risk.traded(opp, now, Decimal(result.realised_pnl))
        saga.record_exposure(opp, legs, result, left, unknown, dust)
        if status is ExecutionStatus.UNHEDGED:
            saga.risk.unhedged(opp, now, left)
        await self.publish(result)
        await journal.finish(result, resolved=not unknown)
        for m in members:
            metrics.ADOPTED_ORDERS.labels(m.venue).inc()
        self.adopted += len(members)
        return result
