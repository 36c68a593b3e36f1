"""Book service health: ready once connected and reading; details for `arb status`."""

from __future__ import annotations

import json

from arb_runtime.metrics import HealthState
from arb_structs.market import BookState

from arb_book.shard import BookShard


def reading(health: HealthState, shard: BookShard) -> None:
    """After a successful read: ready, with what the shard holds."""
    health.set_ready(True)
    health.status = "ok"
    books = list(shard.books)
    health.set_detail("books", len(books))
    health.set_detail("live_books", sum(b.state is BookState.LIVE for b in books))
    health.set_detail("entries", shard.entries)
    health.set_detail("batches", shard.batches)
    health.set_detail("malformed", shard.malformed)
    health.set_detail("resync_requests", shard.resyncer.sent)
    for venue, counts in shard.audits.counts.items():
        health.set_detail(f"audits_{venue}", counts.describe())
    for venue in shard.settings.venues:
        uptime = shard.uptime.describe(venue)
        if uptime:  # JSON text: details are strings, and arb status reads it back
            health.set_detail(f"uptime_{venue}", json.dumps(uptime, separators=(",", ":")))


def read_failed(health: HealthState, error: BaseException) -> None:
    health.set_ready(False)
    health.status = "degraded"
    health.set_detail("last_error", error)
