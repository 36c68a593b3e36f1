"""From an alert to every sink: de-duplicated, rate-limited, each sink tried a few times
(honouring a Retry-After), all sinks at once so a slow one does not hold the others."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from arb_alerter import metrics
from arb_alerter.alerts import Alert
from arb_alerter.errors import SinkError
from arb_alerter.policy import Deduplicator, RateLimiter
from arb_alerter.sinks import Sink

log = logging.getLogger("arb.alerter")

RETRY_PAUSE_S = 0.5
RETRY_AFTER_CAP_S = 30.0


class Dispatcher:
    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        dedup_s: float,
        per_minute: int,
        attempts: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sinks = list(sinks)
        self.dedup = Deduplicator(dedup_s)
        self.limiter = RateLimiter(per_minute)
        self.attempts = attempts
        self.clock = clock
        self.sent = 0
        self.failed = 0
        self.last_error = ""

    async def deliver(self, alert: Alert) -> bool:
        """Send ``alert`` unless it is a duplicate or over the rate; True when it went out."""
        metrics.ALERTS.labels(alert.rule).inc()
        now = self.clock()
        if not self.dedup.first(alert.key, now):
            metrics.SUPPRESSED.labels("duplicate").inc()
            return False
        if not self.limiter.take(now):
            metrics.SUPPRESSED.labels("rate_limit").inc()
            log.warning("alert %s not sent: over %d a minute", alert.key, self.limiter.per_minute)
            return False
        await self.send_all(alert)
        return True

    async def flush_summary(self) -> None:
        """Say how many alerts the rate limit held back, once it allows one more."""
        summary = self.limiter.summary(self.clock())
        if summary is not None:
            await self.send_all(summary)

    async def send_all(self, alert: Alert) -> dict[str, str]:
        """Every sink at once; sink name -> "" (delivered) or the last error."""
        outcomes = await asyncio.gather(*(self._send(sink, alert) for sink in self.sinks))
        return {sink.name: outcome for sink, outcome in zip(self.sinks, outcomes, strict=True)}

    async def _send(self, sink: Sink, alert: Alert) -> str:
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                await sink.send(alert)
            except SinkError as exc:
                error = str(exc)
                if not exc.retryable or attempt == self.attempts:
                    break
                pause = min(RETRY_AFTER_CAP_S, exc.retry_after_s or RETRY_PAUSE_S * attempt)
                await asyncio.sleep(pause)
                continue
            self.sent += sink.name != "log"
            metrics.DELIVERIES.labels(sink.name, "delivered").inc()
            return ""
        self.failed += 1
        self.last_error = error
        metrics.DELIVERIES.labels(sink.name, "failed").inc()
        log.error("alert %s not delivered to %s: %s", alert.key, sink.name, error,
                  extra={"sink": sink.name, "alert_rule": alert.rule})  # fmt: skip
        return error
