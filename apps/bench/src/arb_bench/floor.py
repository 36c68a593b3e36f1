"""The floor: the pipeline's path with no work in it, measured right after the pipeline.

The same simulator (same venues, symbols, rate, injections and market clock: the same load
generator, ``arb_bench.pipeline.simulator_args``) serves the frames; minimal processes
(``arb_bench.floor_relay``) carry each bare frame over the same number of Redis hops as the
engine: one ``ingest`` relay per venue stamps it on receipt and XADDs it, one ``relay`` XREADs
both streams and XADDs on (hop 1: the book service's place; like it, it passes one entry per
input per read on, the newest: the engine's views carry the newest frame's ``ts_recv`` of each
book, so both latencies are those of the newest frame of a read), one ``reader`` XREADs and
stamps (hop 2: the detector's place). The floor conflates per venue stream, the book service
per book (three per venue here): the floor's hop 2 carries at most as many entries as the
engine's.

``ws_to_hop2`` (receipt -> read after two hops) compares with the pipeline's WS frame ->
opportunity; ``ws_to_hop1`` (receipt -> read after one hop) with WS frame -> book view. Same
clock (``time.time_ns()`` in every process), same window (samples read between the window's
start and end), CPU per process from /proc divided by the frames that entered the first hop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arb_cli.engine import start_simulator, stop_simulator
from arb_cli.status import entries_added
from arb_cli.supervisor import Supervisor
from arb_runtime.redis import connect

from arb_bench.measure import cpu_per_message, cpu_snapshot, latency, process_ids

READY_TIMEOUT_S = 30.0
SETTLE_S = 1.0  # as the pipeline waits past its snapshot burst


def md_stream(venue: str) -> str:
    return f"arb:floor:md:{{{venue}}}"


HOP_STREAM = "arb:floor:hop"


def _relay(role: str, *args: str) -> list[str]:
    return ["-m", "arb_bench.floor_relay", role, *args]


async def floor_point(
    url: str,
    redis_pid: int | None,
    rate: int,
    window_s: float,
    log_dir: Path,
    venues: Sequence[str],
    symbols: Sequence[str],
    simulator_args: Sequence[str] = (),
) -> dict[str, Any]:
    redis = await connect(url)
    await redis.flushall()
    supervisor = Supervisor(log_dir)
    sim_proc = None
    samples_path = log_dir / f"floor-{rate}.samples"
    samples_path.unlink(missing_ok=True)
    try:
        sim_proc, urls = start_simulator(venues, symbols, rate / len(venues), url, log_dir,
                                         extra=simulator_args)  # fmt: skip
        where = urls["venues"]
        for venue in venues:
            supervisor.add(f"floor-ingest-{venue}", _relay(
                "ingest", "--redis", url, "--venue", venue, "--symbols", ",".join(symbols),
                "--ws-url", where[venue]["ws"], "--rest-url", where[venue]["rest"],
                "--out", md_stream(venue)), {})  # fmt: skip
        supervisor.add("floor-relay", _relay(
            "relay", "--redis", url, "--in", ",".join(md_stream(v) for v in venues),
            "--out", HOP_STREAM), {})  # fmt: skip
        supervisor.add(
            "floor-reader",
            _relay("reader", "--redis", url, "--in", HOP_STREAM, "--samples", str(samples_path)),
            {},
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while await entries_added(redis, HOP_STREAM) == 0 or not all(
            [await entries_added(redis, md_stream(v)) for v in venues]
        ):
            if time.monotonic() > deadline:
                died = [c.name for c in supervisor.children if not c.alive]
                return {"rate": rate, "error": f"no frame through the floor within 30 s; "
                        f"dead: {died}; logs in {log_dir}"}  # fmt: skip
            await asyncio.sleep(0.25)
        await asyncio.sleep(SETTLE_S)
        pids = process_ids(supervisor, sim_proc.pid, redis_pid)
        cpu_start = cpu_snapshot(pids)
        added_start = sum([await entries_added(redis, md_stream(v)) for v in venues])
        start_ns = time.time_ns()
        start = time.monotonic()
        await asyncio.sleep(window_s)
        elapsed = time.monotonic() - start
        end_ns = time.time_ns()
        added = sum([await entries_added(redis, md_stream(v)) for v in venues]) - added_start
        cpu = cpu_per_message(pids, cpu_start, elapsed, added)
        dead = sum(not c.alive for c in supervisor.children)  # none is restarted here
        reader = next(c for c in supervisor.children if c.name == "floor-reader")
        reader.stop(timeout=10.0)  # SIGTERM: it writes its samples and exits
        hop1: list[float] = []
        hop2: list[float] = []
        for line in samples_path.read_text().splitlines():
            ts_recv, ts_hop1, ts_read = (int(x) for x in line.split())
            if start_ns <= ts_read <= end_ns:
                hop1.append((ts_hop1 - ts_recv) / 1e6)
                hop2.append((ts_read - ts_recv) / 1e6)
        return {
            "rate": rate,
            "venues": list(venues),
            "window_s": round(elapsed, 2),
            "delivered_per_s": round(added / elapsed),
            "ws_to_hop2": latency(hop2),
            "ws_to_hop1": latency(hop1),
            "cpu": cpu,
            "restarts": dead,
        }
    finally:
        supervisor.stop_all()
        stop_simulator(sim_proc)
        await redis.aclose()
