"""One stream entry into the database, however long the database takes to come back.

The handler returns only once the entry's rows are committed; then the consumer group
acknowledges it. While the database is away the handler keeps the entry and retries with a
capped, jittered exponential pause: the consumer reads nothing more, the entries wait in the
stream (back-pressure, not loss). If the service is stopped meanwhile, the entry is left
pending in the group and is written after the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from arb_history.database import Database
from arb_history.errors import DatabaseUnavailable
from arb_history.migrations import migrate, schema_version
from arb_history.writer import HistoryWriter
from arb_runtime.backoff import Backoff, wait_or_stop
from arb_runtime.metrics import HealthState
from arb_runtime.streams import Entry

from arb_recorder import health, metrics
from arb_recorder.errors import RecorderStopping

log = logging.getLogger("arb.recorder")


class Recording:
    def __init__(
        self,
        db: Database,
        health_state: HealthState,
        stopping: asyncio.Event,
        *,
        retry_initial_s: float,
        retry_max_s: float,
    ) -> None:
        self.db = db
        self.writer = HistoryWriter(db)
        self.health = health_state
        self.stopping = stopping
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s

    async def prepare(self) -> None:
        """Connect and migrate, waiting for the database as long as it takes."""
        await self._until_done("migrate", self._migrate)

    async def _migrate(self) -> None:
        applied = await migrate(self.db)
        version = await schema_version(self.db)
        if applied:
            log.info("database %s: schema migrated to version %d", self.db.shown, version,
                     extra={"applied": applied})  # fmt: skip
        health.database_up(self.health, self.db.shown, version)

    async def handle(self, entry: Entry) -> None:
        stream, entry_id = entry.stream, entry.id.decode()

        async def write() -> None:
            started = time.perf_counter()
            outcome = await self.writer.write(stream, entry_id, entry.payload)
            metrics.WRITE_LATENCY.observe(time.perf_counter() - started)
            metrics.ENTRIES.labels(stream, outcome).inc()
            if outcome == "malformed":
                log.error("%s entry %s does not decode; kept in malformed_entries", stream,
                          entry_id, extra={"stream": stream, "entry_id": entry_id})  # fmt: skip

        await self._until_done(f"{stream} {entry_id}", write)
        health.counts(self.health, self.writer.counts)

    async def _until_done(self, what: str, action: Callable[[], Awaitable[None]]) -> None:
        retry = Backoff(self.retry_initial_s, self.retry_max_s).attempts()
        down_since: float | None = None
        while True:
            try:
                await action()
            except DatabaseUnavailable as exc:
                metrics.DATABASE_ERRORS.inc()
                health.database_down(self.health, exc)
                now = time.monotonic()
                if down_since is None:
                    down_since = now
                pause = retry.next_delay()
                log.error("database unavailable (%s): %s held back, retrying in %.1fs", exc,
                          what, pause, extra={"waiting_s": round(now - down_since, 1)})  # fmt: skip
                if await wait_or_stop(self.stopping, pause):
                    raise RecorderStopping(
                        f"stopping with {what} not written (database unavailable: {exc}); it "
                        "stays pending and is written after the next start"
                    ) from None
                metrics.WAITING.inc(pause)
                continue
            if down_since is not None:
                log.warning("database back after %.1fs; writing again",
                            time.monotonic() - down_since)  # fmt: skip
                if self.health.status != "ok":
                    health.database_up(self.health, self.db.shown, await schema_version(self.db))
            return
