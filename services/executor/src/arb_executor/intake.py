"""One opportunity from the stream to a published ExecutionResult.

Per message: decode; one round trip with ``SET executor_seen_key(id) NX PX ttl`` (at most
once per id), ``EXISTS KILL_KEY`` (read for every message) and the shared risk state (the
day's PnL, breakers, pair blocks: riskstore.py; open exposure: exposure.py); refuse expired
ones, those on a degraded venue, and what the risk checks refuse; run the saga; publish the
result and the balances of both venues, and wait until they are written (the entry is acked
after that). A saga that met a fault asks the reconciliation to run now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import redis.asyncio as aioredis
from arb_runtime.streams import Entry, StreamProducer
from arb_structs import ExecutionResult, Opportunity
from arb_structs.codec import BALANCES, EXECUTION, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_MAXLEN,
    EXECUTIONS_STREAM,
    EXPOSURE_OPEN_KEY,
    KILL_KEY,
    balances_key,
    executor_seen_key,
)
from arb_structs.trading import ExecutionStatus

from arb_executor import metrics
from arb_executor.exposure import ExposureBook, decode_registry
from arb_executor.gateway import OrderGateway
from arb_executor.risk import RiskState
from arb_executor.riskstore import RiskStore
from arb_executor.saga import Saga

log = logging.getLogger("arb.executor")


class Intake:
    def __init__(
        self,
        redis: aioredis.Redis,
        producer: StreamProducer,
        saga: Saga,
        risk: RiskState,
        gateways: Mapping[str, OrderGateway],
        *,
        seen_ttl_ms: int,
        mode: str,
        store: RiskStore | None = None,
        exposure: ExposureBook | None = None,
        on_fault: Callable[[], None] | None = None,
        on_published: Callable[[bytes], None] | None = None,
        instance: str = "",
    ) -> None:
        self.redis = redis
        self.producer = producer
        self.saga = saga
        self.risk = risk
        self.gateways = gateways
        self.seen_ttl_ms = seen_ttl_ms
        self.mode = mode
        self.store = store
        self.exposure = exposure
        self.on_fault = on_fault  # e.g. reconcile now
        self.on_published = on_published  # each result's payload (the journal keeps them)
        self.instance = instance
        self.handled = 0
        self.duplicates = 0

    async def handle(self, entry: Entry) -> None:
        ts_received = time.time_ns()
        if entry.payload is None:
            return
        try:
            opp = OPPORTUNITY.decode(entry.payload)
        except Exception as exc:  # bad input: counted, logged, acked (never retried)
            metrics.MALFORMED.inc()
            log.error("opportunity entry %s does not decode: %s", entry.id.decode(), exc)
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(executor_seen_key(opp.id), entry.id, nx=True, px=self.seen_ttl_ms)
        pipe.exists(KILL_KEY)
        if self.store is not None:
            RiskStore.queue_reads(pipe, ts_received)
            pipe.hgetall(EXPOSURE_OPEN_KEY)
        replies = await pipe.execute()
        first, killed = replies[0], replies[1]
        if not first:
            self.duplicates += 1
            metrics.DUPLICATES.inc()
            return
        if self.store is not None:
            self.store.apply(self.risk, ts_received, replies[2:5])
            if self.exposure is not None:
                self.exposure.replace(decode_registry(replies[5]))
                self.exposure.apply(self.risk)
        self.handled += 1
        result = self.refusal(opp, ts_received, bool(killed))
        if result is None:
            result = await self.saga.execute(opp, ts_received)
            if result.ts_orders_sent:
                metrics.SEND_LATENCY.observe((result.ts_orders_sent - ts_received) / 1e9)
            await self.publish_balances(opp)
            if self.on_fault is not None and any(leg.error for leg in result.legs):
                self.on_fault()
        await self.publish(result)

    def refusal(self, opp: Opportunity, now: int, killed: bool) -> ExecutionResult | None:
        if opp.expires_ns < now:
            return self._no_trade(opp, ExecutionStatus.EXPIRED, "expired", now)
        missing = [v for v in (opp.buy_venue, opp.sell_venue) if v not in self.gateways]
        if missing:
            return self._no_trade(opp, ExecutionStatus.REFUSED, "no_gateway", now)
        if any(
            getattr(self.gateways[v], "degraded", False) for v in (opp.buy_venue, opp.sell_venue)
        ):
            return self._no_trade(opp, ExecutionStatus.REFUSED, "venue_degraded", now)
        gateways = self.gateways
        reason = self.risk.check(opp, now, lambda v, a: gateways[v].free(a), killed)
        if reason:
            return self._no_trade(opp, ExecutionStatus.REFUSED, reason, now)
        return None

    def _no_trade(self, opp: Opportunity, status: ExecutionStatus, reason: str,
                  now: int) -> ExecutionResult:  # fmt: skip
        metrics.REFUSALS.labels(opp.symbol, reason).inc()
        return ExecutionResult(opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
                               sell_venue=opp.sell_venue, status=status, mode=self.mode,
                               expected_pnl=opp.net_profit, reason=reason,
                               ts_detect=opp.ts_detect, ts_received=now,
                               ts_done=time.time_ns(), executor=self.instance)  # fmt: skip

    async def publish(self, result: ExecutionResult) -> None:
        metrics.OPPORTUNITIES.labels(result.symbol, result.status.value).inc()
        if result.status is ExecutionStatus.UNHEDGED:
            metrics.UNHEDGED.labels(result.symbol).inc()
            log.error("%s: UNHEDGED %s %s (%s)", result.opportunity_id, result.symbol,
                      result.unhedged_size, result.reason)  # fmt: skip
        metrics.DAILY_PNL.set(float(self.risk.daily_pnl))
        metrics.DAILY_LOSS.set(float(self.risk.loss()))
        payload = EXECUTION.encode(result)
        self.producer.xadd(EXECUTIONS_STREAM, payload, maxlen=EXECUTIONS_MAXLEN)
        if self.on_published is not None:
            self.on_published(payload)
        await self.producer.flush()

    async def publish_balances(self, opp: Opportunity) -> None:
        await self.publish_venue_balances(opp.buy_venue, opp.sell_venue)

    async def publish_venue_balances(self, *venues: str) -> None:
        for venue in set(venues):
            try:
                snap = await self.gateways[venue].snapshot()
            except Exception as exc:  # balances are advisory; the trade result is not
                log.warning("%s: balances not available: %s", venue, exc)
                continue
            self.producer.set(balances_key(venue), BALANCES.encode(snap))
