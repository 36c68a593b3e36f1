"""What the rules look at: results and exposure events as they arrive (consumer groups), and
every ``poll_s`` the kill switch, the executor's breakers, the books' states and the
services' health, all read from Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from arb_runtime.streams import Entry
from arb_runtime.tasks import raise_if_cancelling
from arb_structs import BookView, Health
from arb_structs.codec import BOOK, EXECUTION, EXPOSURE, HEALTH, KILL
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    KILL_KEY,
    PAYLOAD_FIELD,
    book_latest_key,
    executor_risk_key,
    health_key,
)

from arb_alerter import rules
from arb_alerter.config import AlerterSettings
from arb_alerter.dispatch import Dispatcher

log = logging.getLogger("arb.alerter")

BREAKERS_KEY = executor_risk_key("breakers")  # venue -> open until (ns), the executor's state


class Watcher:
    def __init__(self, redis: aioredis.Redis, settings: AlerterSettings,
                 dispatcher: Dispatcher) -> None:  # fmt: skip
        self.redis = redis
        self._r: Any = redis  # bytes replies; redis-py's stubs are narrower
        self.settings = settings
        self.dispatcher = dispatcher
        self.state = rules.StateRules(settings.halted_after_s)
        self.daily = rules.DailyLoss()
        self.loss_limit = settings.loss_limit()

    async def seed_daily_loss(self) -> int:
        """Today's results already in the stream (entry ids are milliseconds), so a restart
        mid-day still knows the day's loss. Returns how many were read."""
        today = dt.datetime.now(dt.UTC).date()
        midnight_ms = int(dt.datetime(today.year, today.month, today.day,
                                      tzinfo=dt.UTC).timestamp() * 1000)  # fmt: skip
        start: str = f"{midnight_ms}-0"
        count = 0
        while True:
            batch = await self._r.xrange(EXECUTIONS_STREAM, min=start, max="+", count=1000)
            for _, fields in batch:
                try:
                    self.daily.add(EXECUTION.decode(fields[PAYLOAD_FIELD]))
                    count += 1
                except Exception:  # a malformed entry: the recorder keeps it, we skip it
                    continue
            if len(batch) < 1000:
                return count
            start = "(" + batch[-1][0].decode()

    async def on_result(self, entry: Entry) -> None:
        try:
            result = EXECUTION.decode(entry.payload or b"")
        except Exception as exc:
            log.error("execution entry %s does not decode: %s", entry.id.decode(), exc)
            return
        self.daily.add(result)
        alert = rules.from_result(result)
        if alert is not None:
            await self.dispatcher.deliver(alert)
        loss = self.daily.alert(self.loss_limit, self.settings.daily_loss_warn_ratio,
                                time.time_ns())  # fmt: skip
        if loss is not None:
            await self.dispatcher.deliver(loss)

    async def on_exposure(self, entry: Entry) -> None:
        try:
            event = EXPOSURE.decode(entry.payload or b"")
        except Exception as exc:
            log.error("exposure entry %s does not decode: %s", entry.id.decode(), exc)
            return
        alert = rules.from_exposure(event)
        if alert is not None:
            await self.dispatcher.deliver(alert)

    async def poll(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.check_state()
                await self.dispatcher.flush_summary()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away or a bad key: say so, look again next time
                raise_if_cancelling()
                log.error("state check failed: %s", exc)
            try:
                await asyncio.wait_for(stopping.wait(), self.settings.poll_s)
            except TimeoutError:
                pass

    async def check_state(self) -> None:
        now = time.time_ns()
        raw_kill = await self._r.get(KILL_KEY)
        alerts = []
        kill = rules.kill_switch(KILL.decode(raw_kill) if raw_kill else None)
        if kill is not None:
            alerts.append(kill)
        breakers: dict[str, int] = {}
        for venue, until in (await self._r.hgetall(BREAKERS_KEY)).items():
            try:
                breakers[venue.decode()] = int(until)
            except ValueError:
                continue
        alerts += rules.breakers(breakers, now)
        alerts += self.state.venues_down(await self._views(), now)
        alerts += self.state.restarts(await self._services())
        for alert in alerts:
            await self.dispatcher.deliver(alert)

    async def _views(self) -> list[BookView]:
        views = []
        async for key in self._r.scan_iter(match=book_latest_key("*"), count=200):
            for raw in (await self._r.hgetall(key)).values():
                try:
                    views.append(BOOK.decode(raw))
                except Exception:
                    continue
        return views

    async def _services(self) -> list[Health]:
        found = []
        async for key in self._r.scan_iter(match=health_key("*", "*"), count=200):
            raw = await self._r.get(key)
            if raw:
                try:
                    found.append(HEALTH.decode(raw))
                except Exception:
                    continue
        return found
