"""The live state every browser sees, and pushing it.

Two loops: ``tail`` reads opportunities, executions and exposure events as they are added
(one ordered reader, from where the backfill stopped, so nothing is counted twice) and pushes
each to the browsers at once; ``tick`` reads books, health, the kill switch and stream rates
every ``refresh_s`` and pushes the whole state with one new point per chart.

Messages (JSON, ``type`` first): ``hello`` (everything, on connect), ``state`` (each tick),
``opportunity`` and ``execution`` (as they happen).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from arb_runtime.streaminfo import entries_added
from arb_runtime.streams import Entry, StreamReader
from arb_runtime.tasks import raise_if_cancelling
from arb_runtime.uptime import summarise as summarise_uptime
from arb_structs import BookView, Health
from arb_structs.codec import BOOK, EXECUTION, EXPOSURE, HEALTH, KILL, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    KILL_KEY,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    book_latest_key,
    health_key,
    md_stream,
)
from arb_venues import VENUE_NAMES

from arb_dashboard import metrics, views
from arb_dashboard.config import DashboardSettings

log = logging.getLogger("arb.dashboard")

STREAMS = (OPPORTUNITIES_STREAM, EXECUTIONS_STREAM, EXPOSURE_STREAM)
SEND_TIMEOUT_S = 2.0


class LiveState:
    def __init__(self, redis: aioredis.Redis, settings: DashboardSettings) -> None:
        self.redis = redis
        self._r: Any = redis  # bytes replies
        self.settings = settings
        self.clients: set[web.WebSocketResponse] = set()
        self.opportunities: deque[dict[str, Any]] = deque(maxlen=settings.recent)
        self.executions: deque[dict[str, Any]] = deque(maxlen=settings.recent)
        self.pnl_points: deque[tuple[int, float]] = deque(maxlen=settings.points)
        self.exposure_points: deque[tuple[int, float]] = deque(maxlen=settings.points)
        self.realised = Decimal(0)
        self.counts = {"opportunities": 0, "executions": 0, "unhedged": 0}
        self.exposure = views.OpenExposure()
        self.restarts = views.Restarts()
        self.reader = StreamReader(redis, {stream: "$" for stream in STREAMS})
        self.state: dict[str, Any] = {}
        self._added: dict[str, tuple[float, int]] = {}

    # -- the streams -------------------------------------------------------------------

    async def backfill(self) -> None:
        """What happened before this start: the PnL curve from the retained results, the open
        exposure from the exposure events, the latest opportunities; then tail from there."""
        await self.reader.resolve_tail()
        positions = self.reader.positions
        for stream in STREAMS:
            last = positions[stream]
            if last in ("0-0", b"0-0"):
                continue
            if stream == OPPORTUNITIES_STREAM:
                recent = self.settings.recent
                raw = list(reversed(await self._r.xrevrange(stream, max=last, count=recent)))
            else:
                count = self.settings.backfill if stream == EXECUTIONS_STREAM else None
                raw = await self._r.xrevrange(stream, max=last, count=count)
                raw.reverse()
            for entry_id, fields in raw:
                self.apply(Entry(stream, entry_id, fields.get(PAYLOAD_FIELD)))

    def apply(self, entry: Entry) -> tuple[str, dict[str, Any]] | None:
        """Fold one stream entry into the state; what to push for it (or None)."""
        if entry.payload is None:
            return None
        try:
            if entry.stream == OPPORTUNITIES_STREAM:
                item = views.opportunity_item(OPPORTUNITY.decode(entry.payload))
                self.opportunities.append(item)
                self.counts["opportunities"] += 1
                return "opportunity", item
            if entry.stream == EXECUTIONS_STREAM:
                result = EXECUTION.decode(entry.payload)
                self.realised += Decimal(result.realised_pnl)
                self.exposure.result(result)
                item = views.execution_item(result)
                self.executions.append(item)
                self.counts["executions"] += 1
                self.counts["unhedged"] += result.status.value == "unhedged"
                self.pnl_points.append((item["ts_ms"], float(self.realised)))
                return "execution", item
            if entry.stream == EXPOSURE_STREAM:
                self.exposure.event(EXPOSURE.decode(entry.payload))
        except Exception as exc:  # one bad entry must not stop the page
            log.warning("%s entry %s not shown: %s", entry.stream, entry.id.decode(), exc)
        return None

    async def tail(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                entries = await self.reader.read(count=500, block_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelling()
                log.error("reading the streams failed (%s); retrying", exc)
                await asyncio.sleep(1.0)
                continue
            for entry in entries:
                pushed = self.apply(entry)
                if pushed is not None:
                    kind, item = pushed
                    await self.push({"type": kind, "item": item})

    # -- the state ---------------------------------------------------------------------

    async def tick(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                self.state = await self.read_state()
                await self.push({"type": "state", **self.state})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelling()
                log.error("reading the state failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.settings.refresh_s)

    async def read_state(self) -> dict[str, Any]:
        now = time.time_ns()
        views_by_venue: dict[str, list[BookView]] = {}
        for venue in VENUE_NAMES:
            for raw in (await self._r.hgetall(book_latest_key(venue))).values():
                with contextlib.suppress(Exception):
                    views_by_venue.setdefault(venue, []).append(BOOK.decode(raw))
        services: list[Health] = []
        async for key in self._r.scan_iter(match=health_key("*", "*"), count=200):
            raw = await self._r.get(key)
            if raw:
                with contextlib.suppress(Exception):
                    services.append(HEALTH.decode(raw))
        watched = [v for v in VENUE_NAMES if v in views_by_venue or await self._r.exists(
            md_stream(v))]  # fmt: skip
        rates = {venue: await self._rate(venue) for venue in watched}
        raw_kill = await self._r.get(KILL_KEY)
        exposure_total = self.exposure.total()
        point_ms = now // 1_000_000
        self.exposure_points.append((point_ms, float(exposure_total)))
        return {
            "ts_ms": point_ms,
            "venues": views.venue_rows(watched, views_by_venue, rates, services, now),
            "prices": views.best_prices(v for vs in views_by_venue.values() for v in vs),
            "services": views.service_rows(services, self.restarts, now),
            "uptime": summarise_uptime((h.service, h.detail) for h in services),
            "kill": views.kill_state(KILL.decode(raw_kill) if raw_kill else None),
            "pnl": {"realised": format(self.realised, "f"), **self.counts},
            "exposure": {
                "total": format(exposure_total, "f"),
                "open": self.exposure.open_items(),
            },
            "point": {
                "ts_ms": point_ms,
                "pnl": float(self.realised),
                "exposure": float(exposure_total),
            },
        }

    async def _rate(self, venue: str) -> float:
        added = await entries_added(self.redis, md_stream(venue))
        now = time.monotonic()
        before = self._added.get(venue)
        self._added[venue] = (now, added)
        if before is None or now <= before[0]:
            return 0.0
        return max(0.0, (added - before[1]) / (now - before[0]))

    def hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "state": self.state,
            "opportunities": list(self.opportunities),
            "executions": list(self.executions),
            "series": {"pnl": list(self.pnl_points), "exposure": list(self.exposure_points)},
            "kill_button": self.settings.kill_token is not None,
        }

    # -- the browsers ------------------------------------------------------------------

    async def push(self, message: dict[str, Any]) -> None:
        if not self.clients:
            return
        text = json.dumps(message, separators=(",", ":"), default=str)
        metrics.PUSHES.labels(message["type"]).inc()
        clients = list(self.clients)
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(ws.send_str(text), SEND_TIMEOUT_S) for ws in clients),
            return_exceptions=True,
        )
        for ws, outcome in zip(clients, outcomes, strict=True):
            if isinstance(outcome, BaseException):  # gone or too slow: it reconnects
                self.clients.discard(ws)
                with contextlib.suppress(Exception):
                    await ws.close()
        metrics.CLIENTS.set(len(self.clients))
