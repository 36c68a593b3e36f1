"""Where a process's memory goes over time: tracemalloc snapshots, diffed, on request.

Set ``ARB_TRACEMALLOC_DUMP`` to a folder and a process that calls ``start_from_env`` traces
its allocations (``ARB_TRACEMALLOC_FRAMES`` frames each, default 8; tracing slows the
process, so it is for a diagnosis run such as ``arb soak`` of a few minutes, never for
production). After ``ARB_TRACEMALLOC_WARMUP_S`` (default 30 s) it takes a first snapshot; every
``ARB_TRACEMALLOC_EVERY_S`` (default 60 s) it writes ``<folder>/<name>-<pid>.txt``: the
allocation sites that grew most since the first snapshot, biggest first, with their traceback.
A site that keeps growing from one dump to the next is what holds memory without bound.
"""

from __future__ import annotations

import linecache
import os
import threading
import time
import tracemalloc
from pathlib import Path

TOP = 25


def start_from_env(name: str) -> bool:
    """Start tracing when ``ARB_TRACEMALLOC_DUMP`` is set; whether it started."""
    folder = os.environ.get("ARB_TRACEMALLOC_DUMP", "")
    if not folder:
        return False
    frames = int(os.environ.get("ARB_TRACEMALLOC_FRAMES", "8"))
    warm_up = float(os.environ.get("ARB_TRACEMALLOC_WARMUP_S", "30"))
    every = float(os.environ.get("ARB_TRACEMALLOC_EVERY_S", "60"))
    path = Path(folder) / f"{name}-{os.getpid()}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(frames)
    thread = threading.Thread(
        target=_dump_forever, args=(path, warm_up, every), name="memtrace", daemon=True
    )
    thread.start()
    return True


def _snapshot() -> tracemalloc.Snapshot:
    """What the process holds, without what tracing and these dumps allocate themselves."""
    return tracemalloc.take_snapshot().filter_traces([
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, linecache.__file__),
        tracemalloc.Filter(False, __file__),
    ])  # fmt: skip


def _dump_forever(path: Path, warm_up: float, every: float) -> None:
    time.sleep(warm_up)
    first = _snapshot()
    started = time.monotonic()
    while True:
        time.sleep(every)
        now = _snapshot()
        stats = now.compare_to(first, "traceback")
        del now
        lines = [f"after {time.monotonic() - started:.0f}s since the first snapshot; "
                 f"traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB"]  # fmt: skip
        for stat in stats[:TOP]:
            lines.append(f"{stat.size_diff / 1024:+.1f} KiB ({stat.count_diff:+d} blocks)")
            lines.extend(f"    {line}" for line in stat.traceback.format())
        path.write_text("\n".join(lines) + "\n")
