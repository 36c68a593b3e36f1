"""Two `python -m arb_ingest` replicas with ARB_INGEST_SHARD_INDEX=auto split a venue's symbols.

Real processes: the simulator serves OKX on loopback, two identical ingest replicas claim
shard leases in the session's Redis, and each ingests a disjoint part of the symbols while
arb:md:{okx} carries all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from arb_structs.codec import MD
from arb_structs.constants import PAYLOAD_FIELD, md_stream

from tests.support_redis import health_detail

pytestmark = pytest.mark.integration

SYMBOLS = ["BTC-USDT", "ETH-USDT", "DOGE-USDT"]  # CRC-32 mod 2: DOGE on 0, the others on 1


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def start_simulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The simulator serving OKX on loopback, and its URLs."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "arb_simulator", "--venues", "okx", "--symbols", ",".join(SYMBOLS),
         "--rate", "50", "--inject-interval", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env(), text=True,
    )  # fmt: skip
    assert sim.stdout is not None
    line = sim.stdout.readline()
    if not line:
        stop(sim)
        raise AssertionError("the simulator printed no URLs")
    return sim, json.loads(line)["venues"]["okx"]


def start_ingest(name: str, redis_url: str, where: dict[str, str]) -> subprocess.Popen[str]:
    env = clean_env() | {
        "ARB_REDIS_URL": redis_url,
        "ARB_INGEST_INSTANCE": name,
        "ARB_INGEST_VENUE": "okx",
        "ARB_INGEST_SYMBOLS": ",".join(SYMBOLS),
        "ARB_INGEST_WS_URL": where["ws"],
        "ARB_INGEST_REST_URL": where["rest"],
        "ARB_INGEST_SHARD_INDEX": "auto",
        "ARB_INGEST_SHARD_COUNT": "2",
    }
    return subprocess.Popen([sys.executable, "-m", "arb_ingest"], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def details(redis, instance: str) -> dict[str, str]:
    return await health_detail(redis, "ingest", instance)


async def test_auto_shard_ingest_replicas_split_a_venues_symbols(redis, redis_url):
    sim, where = start_simulator()
    procs = [sim]
    try:
        for name in ("ing-a", "ing-b"):
            procs.append(start_ingest(name, redis_url, where))

        deadline = time.monotonic() + 20
        owned: dict[str, dict[str, str]] = {}
        md_symbols: set[str] = set()
        while time.monotonic() < deadline:
            owned = {n: await details(redis, n) for n in ("ing-a", "ing-b")}
            entries = await redis.xrange(md_stream("okx"))
            events = [MD.decode(fields[PAYLOAD_FIELD]) for _, fields in entries]
            md_symbols = {s for e in events if (s := getattr(e, "symbol", None))}
            if md_symbols == set(SYMBOLS) and all(d.get("symbols") for d in owned.values()):
                break
            await asyncio.sleep(0.1)
        assert md_symbols == set(SYMBOLS)
        shards = sorted(d["shard"] for d in owned.values())
        assert shards == ["0/2 (auto)", "1/2 (auto)"]
        parts = [set(d["symbols"].split(",")) for d in owned.values()]
        assert parts[0].isdisjoint(parts[1])
        assert parts[0] | parts[1] == set(SYMBOLS)
    finally:
        for proc in reversed(procs):
            stop(proc)
