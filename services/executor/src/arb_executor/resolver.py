"""Sagas left open, finished in the background instead of at the next restart.

- An order whose outcome stayed unknown (timeouts, 5xx on the order and on every query) ends
  its saga at once as ``unhedged`` with the position it may have made published as exposure
  (escalated: bounded by the saga's queries, well under a second by default). Every
  ``poll_s`` the unknown orders are queried again; once the venue answers for all of them the
  saga is recovered (queried, hedged or unwound, never re-sent) and its new result, carrying
  only what it adds to the first one, is published; its exposure is closed.
- A saga in the journal whose owner is not alive (no health key: a crashed or stopped
  replica that did not finish it) is taken over by one live replica (a claim key) and
  recovered the same way, so an executor that is stopped mid-saga hands the saga off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import redis.asyncio as aioredis
from arb_structs import ExecutionResult
from arb_structs.codec import HEALTH
from arb_structs.constants import health_key, saga_claim_key
from arb_structs.trading import OrderStatus
from arb_venues.errors import UnknownOrder, VenueError
from redis.exceptions import RedisError

from arb_executor.journal import OpenSaga, RedisJournal
from arb_executor.saga import Saga

log = logging.getLogger("arb.executor")
Publish = Callable[[ExecutionResult], Awaitable[None]]
CLAIM_MS = 60_000


async def owner_alive(redis: aioredis.Redis, owner: str) -> bool:
    """Is executor ``owner`` running? Its health key is there and does not say "down" (a
    clean stop writes "down" with the key's TTL)."""
    if not owner:
        return False
    r: Any = redis
    raw = await r.get(health_key("executor", owner))
    if raw is None:
        return False
    try:
        return bool(HEALTH.decode(raw).status != "down")
    except msgspec.DecodeError:
        return True


class Resolver:
    def __init__(self, redis: aioredis.Redis, saga: Saga, journal: RedisJournal,
                 publish: Publish, *, instance: str, poll_s: float = 1.0,
                 quiet: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        self.redis = redis
        self.quiet = quiet  # True just after Redis came back: owners write their sagas back
        self.saga = saga
        self.journal = journal
        self.publish = publish
        self.instance = instance
        self.poll_s = poll_s
        self.resolved = 0
        self.taken_over = 0
        self._ticks = 0

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.tick()
            except (RedisError, OSError) as exc:
                log.warning("open sagas not looked at this round: redis unavailable (%s)", exc)
            except Exception:
                log.exception("open-saga round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.poll_s)

    async def tick(self) -> None:
        for open_saga in self.journal.unresolved():
            if await self.answerable(open_saga):
                await self.finish(open_saga, "order outcome resolved by query")
        self._ticks += 1
        if self._ticks % 5 == 1 and not self.quiet():
            await self.take_over()

    async def answerable(self, open_saga: OpenSaga) -> bool:
        """Does the venue answer now for every order whose outcome was unknown?"""
        previous = open_saga.previous
        legs = previous.legs if previous else []
        unknown = [
            leg.intent for leg in legs
            if leg.report is not None and leg.report.status is OrderStatus.UNKNOWN
        ]  # fmt: skip
        for intent in unknown:
            gateway = self.saga.gateways.get(intent.venue)
            if gateway is None:
                return False
            try:
                await gateway.get(intent.symbol, intent.client_order_id)
            except UnknownOrder:
                continue
            except VenueError:
                return False
        return True

    async def finish(self, open_saga: OpenSaga, reason: str) -> ExecutionResult:
        opp = open_saga.opportunity
        result = await self.saga.recover(opp, open_saga.intents, open_saga.previous, reason)
        await self.publish(result)
        if opp.id not in self.journal.live:
            self.resolved += 1
            log.warning("%s: open saga finished: %s", opp.id, result.status.value)
        return result

    async def take_over(self) -> int:
        """Recover the open sagas of replicas that are gone; how many."""
        r: Any = self.redis
        count = 0
        for open_saga in await self.journal.open_sagas():
            owner_name = open_saga.owner
            if owner_name == self.instance or open_saga.opportunity.id in self.journal.live:
                continue
            if await owner_alive(self.redis, owner_name):
                continue
            missing = [i.venue for i in open_saga.intents.values()
                       if i.venue not in self.saga.gateways]  # fmt: skip
            if missing:
                continue
            if not await r.set(saga_claim_key(open_saga.opportunity.id), self.instance, nx=True,
                               px=CLAIM_MS):  # fmt: skip
                continue
            log.warning("%s: open saga of %s (not running) taken over", open_saga.opportunity.id,
                        owner_name or "an unknown executor")  # fmt: skip
            self.journal.take(open_saga)
            await self.finish(open_saga, f"taken over from {owner_name or 'a stopped executor'}")
            self.taken_over += 1
            count += 1
        return count
