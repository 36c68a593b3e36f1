"""Book engine benchmark: level updates/s and µs per message, best bid/ask read after each.

``run(fixtures_dir, seconds)`` decodes the shared recordings once with the venue parsers
(``arb_venues.recorded``), then ``measure`` replays those BookSnapshot / BookDelta events
through a fresh ``BookSet`` again and again for about ``seconds`` in all, reading the best bid
and ask after every message. With no recordings it runs a synthetic random-walk session.

    python -m arb_bench.book_engine [fixtures_dir] [seconds]
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arb_orderbook.bookset import BookSet
from arb_orderbook.checksums import ChecksumSpec
from arb_structs.market import BookDelta, BookSnapshot, Level
from arb_venues import checksums
from arb_venues.recorded import recorded_book_events

Event = BookSnapshot | BookDelta


def synthetic(messages: int = 20_000, levels: int = 200, seed: int = 7) -> list[Event]:
    """A random walk around a mid price: one snapshot, then deltas of 1-10 level changes."""
    rng = random.Random(seed)
    tick = 0.01
    mid = 10_000
    bids = [((mid - i) * tick, rng.uniform(0.1, 5)) for i in range(1, levels + 1)]
    asks = [((mid + i) * tick, rng.uniform(0.1, 5)) for i in range(1, levels + 1)]
    events: list[Event] = [
        BookSnapshot(venue="synthetic", symbol="BTC-USDT", seq=1, bids=bids, asks=asks,
                     ts_event=1, ts_recv=1)
    ]  # fmt: skip
    for seq in range(2, messages + 2):
        mid += rng.choice((-1, 0, 0, 1))
        changes_b: list[Level] = []
        changes_a: list[Level] = []
        for _ in range(rng.randint(1, 10)):
            offset = int(rng.expovariate(0.2)) + 1
            size = 0.0 if rng.random() < 0.3 else round(rng.uniform(0.1, 5), 3)
            if rng.random() < 0.5:
                changes_b.append(((mid - offset) * tick, size))
            else:
                changes_a.append(((mid + offset) * tick, size))
        # Keep the walk uncrossed: clear the other side at the new touch.
        changes_b.append((mid * tick, 0.0))
        changes_a.append((mid * tick, 0.0))
        events.append(
            BookDelta(venue="synthetic", symbol="BTC-USDT", prev_seq=seq - 1, seq=seq,
                      bids=changes_b, asks=changes_a, ts_event=seq, ts_recv=seq)
        )  # fmt: skip
    return events


def _runs(events: list[Event]) -> list[tuple[bool, list[Event]]]:
    """Consecutive events split into runs of deltas and runs of snapshots."""
    runs: list[tuple[bool, list[Event]]] = []
    for event in events:
        is_delta = type(event) is BookDelta
        if runs and runs[-1][0] == is_delta:
            runs[-1][1].append(event)
        else:
            runs.append((is_delta, [event]))
    return runs


def _measure(
    events: list[Event], seconds: float, checksums: Mapping[str, ChecksumSpec]
) -> dict[str, Any]:
    """Replay ``events`` through fresh BookSets until ``seconds`` have passed (>= 1 pass).

    Delta runs and snapshot runs are timed apart (one clock read per run, not per message),
    so the delta-only rate is reported too: a snapshot's levels are far cheaper to load.
    """
    runs = _runs(events)
    delta_messages = sum(len(run) for is_delta, run in runs if is_delta)
    passes = levels_all = levels_delta = 0
    elapsed = elapsed_delta = 0.0
    counts: dict[str, int] = {}
    perf = time.perf_counter
    while passes == 0 or elapsed < seconds:
        books = BookSet(checksums=checksums)
        book_of = books.book
        for is_delta, run in runs:
            levels = 0
            start = perf()
            for event in run:
                book = book_of(event.venue, event.symbol)
                result = book.apply(event)
                levels += result.levels
                book.best_bid()
                book.best_ask()
            spent = perf() - start
            elapsed += spent
            levels_all += levels
            if is_delta:
                elapsed_delta += spent
                levels_delta += levels
        passes += 1
        if passes == 1:
            for book in books:
                counts[book.state.value] = counts.get(book.state.value, 0) + 1
            counts.update(_checks(events, checksums))
    messages = len(events) * passes
    return {
        "messages": len(events),
        "level_updates_per_pass": levels_all // passes,
        "passes": passes,
        "seconds": round(elapsed, 4),
        "level_updates_per_second": round(levels_all / elapsed) if elapsed else None,
        "messages_per_second": round(messages / elapsed) if elapsed else None,
        "microseconds_per_message": round(elapsed / messages * 1e6, 3),
        "delta_level_updates_per_second": round(levels_delta / elapsed_delta)
        if elapsed_delta
        else None,
        "delta_microseconds_per_message": round(elapsed_delta / (delta_messages * passes) * 1e6, 3)
        if delta_messages
        else None,
        "books_final_state": counts,  # plus sanity counts of one pass and its level mix
    }


def _checks(events: list[Event], checksums: Mapping[str, ChecksumSpec]) -> dict[str, int]:
    """One counted pass (outside the timing): gaps and checksums, to show the run was sane."""
    books = BookSet(checksums=checksums)
    for event in events:
        books.apply(event)
    out = {"gaps": 0, "checksums_ok": 0, "checksum_failures": 0, "dropped_stale": 0}
    out["snapshot_levels"] = sum(
        len(e.bids) + len(e.asks) for e in events if isinstance(e, BookSnapshot)
    )
    out["delta_levels"] = sum(len(e.bids) + len(e.asks) for e in events if isinstance(e, BookDelta))
    for counts in books.counts.values():
        out["gaps"] += counts.gaps
        out["checksums_ok"] += counts.checksums_ok
        out["checksum_failures"] += counts.checksum_failures
        out["dropped_stale"] += counts.dropped_stale
    return out


def measure(
    datasets: Mapping[str, Sequence[Event]] | None,
    seconds: float = 2.0,
    checksums: Mapping[str, ChecksumSpec] | None = None,
) -> dict[str, Any]:
    """Benchmark the engine on ``datasets`` (name -> events); synthetic when there are none.
    ``checksums``: the venues' checksums the books verify (``arb_venues.checksums()``).

    ``mode`` in the result is "recorded" for given datasets, "synthetic" otherwise.
    """
    data: dict[str, list[Event]] = {k: list(v) for k, v in (datasets or {}).items() if v}
    mode = "recorded" if data else "synthetic"
    if not data:
        data["synthetic"] = synthetic()
    share = seconds / len(data)
    registry = dict(checksums or {})
    results = {name: _measure(events, share, registry) for name, events in data.items()}
    levels = sum(r["level_updates_per_pass"] * r["passes"] for r in results.values())
    messages = sum(r["messages"] * r["passes"] for r in results.values())
    elapsed = sum(r["seconds"] for r in results.values())
    delta_rates = [r["delta_level_updates_per_second"] for r in results.values()]
    return {
        "mode": mode,
        "read_best_after_each_message": True,
        "datasets": results,
        "level_updates_per_second": round(levels / elapsed) if elapsed else None,
        "microseconds_per_message": round(elapsed / messages * 1e6, 3) if messages else None,
        "slowest_delta_level_updates_per_second": min((r for r in delta_rates if r), default=None),
    }


def run(fixtures_dir: Path | None, seconds: float = 2.0) -> dict[str, Any]:
    """``measure`` on the recorded sessions found in ``fixtures_dir`` (every venue with a
    ``VenueSpec.recording``), or on a synthetic session without them, the books verifying each
    venue's checksum. Decoding happens once, before timing."""
    datasets = (
        recorded_book_events(fixtures_dir)
        if fixtures_dir is not None and fixtures_dir.is_dir()
        else {}
    )
    return measure(datasets, seconds, checksums())


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(run(folder, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0), indent=2))
