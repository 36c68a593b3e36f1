"""Book audits of one shard: when each LIVE book is audited, the request to ingest, the count.

Every ``audit_interval_seconds`` (first time at a random point of the first interval, so
books are not all audited at once) a LIVE book with no audit pending gets an AuditRequest on
``arb:ctl:{venue}``; ingest fetches the REST snapshot within the venue's budget and puts it on
the md stream, where the shard hands it to ``arb_orderbook.audit.BookAuditor`` in order with
the deltas. Each result is counted per venue (metrics, health, ``arb status``); a mismatch is
the shard's to act on (SUSPECT + resync).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from arb_orderbook import AuditResult, BookAuditor, OrderBook
from arb_orderbook.audit import MISMATCH, PASSED, SKIPPED
from arb_runtime.streams import StreamProducer
from arb_structs.codec import CTL
from arb_structs.constants import CTL_MAXLEN, ctl_stream
from arb_structs.control import AuditRequest
from arb_structs.market import BookState

from arb_book import metrics
from arb_book.config import BookSettings

log = logging.getLogger("arb.book.audit")


@dataclass(slots=True)
class AuditCounts:
    """Audits of one venue since the service started."""

    requested: int = 0
    passed: int = 0
    mismatched: int = 0
    skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        skips = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped_by_reason.items()))
        return (
            f"requested {self.requested}, passed {self.passed}, mismatched {self.mismatched}, "
            f"skipped {self.skipped}" + (f" ({skips})" if skips else "")
        )


class AuditScheduler:
    """Which LIVE books are due for an audit; sends the requests; counts the outcomes."""

    def __init__(
        self,
        producer: StreamProducer,
        settings: BookSettings,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.producer = producer
        self.interval = int(settings.audit_interval_seconds * 1e9)
        self.levels = settings.audit_levels
        self.auditor = BookAuditor(
            levels=settings.audit_levels, timeout_ns=int(settings.audit_timeout_seconds * 1e9)
        )
        self.counts: dict[str, AuditCounts] = {}
        self._next: dict[tuple[str, str], int] = {}
        self._rng = rng or random.Random()

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def schedule(self, books: Iterable[OrderBook], now: int) -> int:
        """Ask for the audits that are due; how many were asked for."""
        if not self.enabled:
            return 0
        asked = 0
        for book in books:
            if book.state is not BookState.LIVE or self.auditor.pending(book):
                continue
            key = (book.venue, book.symbol)
            due = self._next.get(key)
            if due is None:  # first sight: spread the books over one interval
                self._next[key] = now + int(self._rng.uniform(0.1, 1.0) * self.interval)
                continue
            if now < due:
                continue
            self._next[key] = now + self.interval
            self.auditor.begin(book, now)
            request = AuditRequest(venue=book.venue, symbol=book.symbol, ts=now,
                                   levels=self.levels)  # fmt: skip
            self.producer.xadd(ctl_stream(book.venue), CTL.encode(request), maxlen=CTL_MAXLEN)
            self._counts(book.venue).requested += 1
            metrics.AUDIT_REQUESTS.labels(book.venue).inc()
            asked += 1
        return asked

    def record(self, venue: str, result: AuditResult, book: OrderBook | None, now: int) -> None:
        """Count an ended audit and note it on its book, if any (its next view shows it)."""
        counts = self._counts(venue)
        if book is not None:
            book.audit = result.outcome
            book.ts_audit = now
        metrics.AUDITS.labels(venue, result.outcome).inc()
        if result.outcome == PASSED:
            counts.passed += 1
        elif result.outcome == MISMATCH:
            counts.mismatched += 1
            log.warning("%s %s: %s", venue, book.symbol if book else "?", result.detail)
        elif result.outcome == SKIPPED:
            counts.skipped += 1
            reasons = counts.skipped_by_reason
            reasons[result.reason] = reasons.get(result.reason, 0) + 1
            metrics.AUDIT_SKIPS.labels(venue, result.reason).inc()
            log.debug("%s %s: audit skipped (%s: %s)", venue, book.symbol if book else "?",
                      result.reason, result.detail)  # fmt: skip

    def _counts(self, venue: str) -> AuditCounts:
        counts = self.counts.get(venue)
        if counts is None:
            counts = self.counts[venue] = AuditCounts()
        return counts
