"""What the pipeline and its floor share: CPU from /proc, stream-time windows, backlog growth.

Both are measured the same way, so their numbers compare: wall-clock nanoseconds from
``time.time_ns()`` in every process (one clock on one machine), the same window (entries whose
Redis id falls between the window's start and end), and CPU per process read from /proc at the
window's edges, divided by the messages that entered the first stream in the window.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arb_cli.scoring import percentile
from arb_structs.constants import book_checkpoint_key, md_stream


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a live process (Linux /proc), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, every core and every process
    (other work on the box included), from /proc/stat; None where there is none."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def busy_share(start: tuple[float, float] | None, end: tuple[float, float] | None) -> float | None:
    """The machine's busy share between two ``machine_cpu`` readings (1.0: every core busy)."""
    if start is None or end is None or end[1] <= start[1]:
        return None
    return round((end[0] - start[0]) / (end[1] - start[1]), 3)


def process_ids(supervisor: Any, simulator_pid: int, redis_pid: int | None) -> dict[str, int]:
    """Every process of a measurement by name: the supervised children, the simulator (the
    load generator) and Redis."""
    pids = {c.name: c.proc.pid for c in supervisor.children if c.proc is not None}
    pids["simulator"] = simulator_pid
    if redis_pid:
        pids["redis"] = redis_pid
    return pids


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float | None]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_used(
    start: Mapping[str, float | None], end: Mapping[str, float | None]
) -> dict[str, float]:
    """CPU seconds each process used between two snapshots (those alive at both)."""
    return {name: after - before for name, after in end.items()
            if after is not None and (before := start.get(name)) is not None}  # fmt: skip


def cpu_per_message(
    pids: Mapping[str, int],
    start: Mapping[str, float | None],
    elapsed_s: float,
    messages: int,
    end: Mapping[str, float | None] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Each process's share of a core over the window and its CPU µs per message (``end``:
    the window's closing snapshot, read now if not given)."""
    used = cpu_used(start, end if end is not None else cpu_snapshot(pids))
    out: dict[str, dict[str, float | None]] = {}
    for name, seconds in used.items():
        per_msg = round(seconds * 1e6 / messages, 1) if messages else None
        out[name] = {"cpu_share": round(seconds / elapsed_s, 3), "us_per_msg": per_msg}
    return out


def stream_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


async def entries_between(
    redis: Any, stream: str, start_ms: int, end_ms: int
) -> list[dict[bytes, bytes]]:
    """Fields of the entries added between two wall-clock times, read in chunks."""
    out: list[dict[bytes, bytes]] = []
    low: str = f"{start_ms}-0"
    while True:
        chunk = await redis.xrange(stream, min=low, max=f"{end_ms}-18446744073709551615",
                                   count=10_000)  # fmt: skip
        out += [fields for _, fields in chunk]
        if len(chunk) < 10_000:
            return out
        last = chunk[-1][0].decode()
        ms, seq = last.split("-")
        low = f"{ms}-{int(seq) + 1}"


async def book_lag_ms(redis: Any, venue: str) -> int | None:
    """How far the book service's checkpoint trails the newest md entry of ``venue``, in
    stream time (ms); None before it checkpointed."""
    checkpoint = await redis.get(book_checkpoint_key(venue))
    if not checkpoint or not await redis.exists(md_stream(venue)):
        return None
    info = await redis.xinfo_stream(md_stream(venue))
    return max(0, stream_ms(info["last-generated-id"]) - stream_ms(checkpoint))


def growing(samples: list[int | None]) -> bool:
    """A backlog grows when the lag at the end of the window is well above the lag at its
    start and above what one batch can explain."""
    known = [s for s in samples if s is not None]
    if len(known) < 4:
        return True  # the consumer never reported a position: it is not keeping up at all
    third = max(1, len(known) // 3)
    head = sum(known[:third]) / third
    tail = sum(known[-third:]) / third
    return tail > 250 and tail > head + 100


def latency(values_ms: list[float]) -> dict[str, Any]:
    """n, p50, p99 and p99.9 of latencies in milliseconds (nearest rank)."""
    return {
        "n": len(values_ms),
        "p50_ms": percentile(values_ms, 0.5),
        "p99_ms": percentile(values_ms, 0.99),
        "p999_ms": percentile(values_ms, 0.999),
    }


def histogram_buckets(metrics_text: str, name: str) -> dict[float, float]:
    """A Prometheus histogram's cumulative bucket counts from a /metrics page: upper bound
    (seconds; inf for +Inf) -> how many observations were at most that."""
    out: dict[float, float] = {}
    prefix = f'{name}_bucket{{le="'
    for line in metrics_text.splitlines():
        if line.startswith(prefix):
            bound, _, count = line[len(prefix) :].partition('"} ')
            out[float("inf") if bound == "+Inf" else float(bound)] = float(count)
    return out


def histogram_latency(
    before: Mapping[float, float], after: Mapping[float, float]
) -> dict[str, Any]:
    """What a histogram observed between two readings of it: how many, and the bucket (its
    upper bound, ms) holding the median and the 99th percentile. A bound, not a value: the
    histogram keeps no more."""
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    n = counts.get(float("inf"), 0.0)

    def bound_of(q: float) -> float | None:
        if not n:
            return None
        for bound, count in counts.items():
            if count >= q * n:
                return None if bound == float("inf") else round(bound * 1000, 3)
        return None

    return {"n": int(n), "p50_at_most_ms": bound_of(0.5), "p99_at_most_ms": bound_of(0.99),
            "buckets_ms": [round(b * 1000, 3) for b in counts if b != float("inf")]}  # fmt: skip
