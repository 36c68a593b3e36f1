"""Replicas of `python -m arb_detector` with ARB_DETECTOR_SHARD=auto/2 split the symbols.

Real processes against the session's Redis: each claims a shard lease, the two owners hold
disjoint symbol sets that cover every symbol (each dislocation is found once, not twice), a
third replica stands by and takes over the shard of one that stops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from arb_structs.codec import BOOK, INSTRUMENT, OPPORTUNITY
from arb_structs.constants import (
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    book_latest_key,
    instruments_key,
    shard_lease_key,
)

from tests.support_redis import health_detail
from tests.unit.detector.factories import instrument, view

pytestmark = pytest.mark.integration

VENUES = ["binance", "okx"]
SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "BTC-USDC", "ETH-USDC"]
GROUP = ",".join(sorted(VENUES))


async def seed(redis) -> None:
    """Instruments, and a dislocated latest view (buy binance, sell okx) of every symbol."""
    now = time.time_ns()
    for symbol in SYMBOLS:
        for venue in VENUES:
            payload = INSTRUMENT.encode(instrument(venue, symbol))
            await redis.hset(instruments_key(venue), symbol, payload)
        cheap = view("binance", asks=[(100.0, 1.0)], symbol=symbol, now=now)
        dear = view("okx", bids=[(101.0, 1.0)], symbol=symbol, now=now)
        for v in (cheap, dear):
            await redis.hset(book_latest_key(v.venue), symbol, BOOK.encode(v))


def start(redis_url: str, instance: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ARB_REDIS_URL": redis_url,
        "ARB_DETECTOR_INSTANCE": instance,
        "ARB_DETECTOR_SHARD": "auto/2",
        "ARB_DETECTOR_SHARD_LEASE_MS": "1000",
        "ARB_DETECTOR_VENUES": ",".join(VENUES),
        "ARB_DETECTOR_MAX_BOOK_AGE_MS": "120000",
        "ARB_DETECTOR_REFRESH_MS": "100",
    }
    return subprocess.Popen([sys.executable, "-m", "arb_detector"], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


async def details(redis, instance: str) -> dict[str, str]:
    return await health_detail(redis, "detector", instance)


async def wait_for(check, timeout: float = 20.0):
    """Poll ``check`` (async, returns a value or None) until it gives a value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached within {timeout}s")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    return proc.returncode, err


async def test_auto_shard_replicas_split_symbols_and_a_standby_takes_over(redis, redis_url):
    await seed(redis)
    names = ["det-a", "det-b", "det-c"]
    procs = {name: start(redis_url, name) for name in names[:2]}
    try:

        async def both_own() -> dict[str, dict[str, str]] | None:
            seen = {n: await details(redis, n) for n in procs}
            claimed = [
                d.get("shard", "").endswith("(auto)") and d.get("symbols") for d in seen.values()
            ]
            return seen if all(claimed) else None

        owners = await wait_for(both_own)
        indices = sorted(d["shard"].split("/")[0] for d in owners.values())
        assert indices == ["0", "1"]
        owned = {n: set(d["symbols"].split(",")) for n, d in owners.items()}
        assert owned["det-a"].isdisjoint(owned["det-b"])
        assert owned["det-a"] | owned["det-b"] == set(SYMBOLS)

        async def all_found() -> list | None:
            raw = await redis.xrange(OPPORTUNITIES_STREAM)
            found = [OPPORTUNITY.decode(fields[PAYLOAD_FIELD]) for _, fields in raw]
            return found if len({o.symbol for o in found}) == len(SYMBOLS) else None

        found = await wait_for(all_found)
        await asyncio.sleep(0.3)  # a duplicating replica would have emitted by now too
        raw = await redis.xrange(OPPORTUNITIES_STREAM)
        per_symbol = Counter(OPPORTUNITY.decode(f[PAYLOAD_FIELD]).symbol for _, f in raw)
        assert per_symbol == Counter(SYMBOLS), per_symbol  # each found once, by its owner
        assert {o.symbol for o in found} == set(SYMBOLS)

        # a third replica stands by while both shards are held
        procs["det-c"] = start(redis_url, "det-c")

        async def standing_by() -> bool:
            return (await details(redis, "det-c")).get("shard", "").startswith("standby")

        await wait_for(standing_by)
        leaving = "det-a"
        index = owners[leaving]["shard"].split("/")[0]
        code, err = stop(procs.pop(leaving))
        assert code == 0, err
        assert "released shard" in err

        async def took_over() -> bool:
            return (await details(redis, "det-c")).get("shard") == f"{index}/2 (auto)"

        await wait_for(took_over, timeout=10.0)
        assert set((await details(redis, "det-c"))["symbols"].split(",")) == owned[leaving]
        holder = await redis.get(shard_lease_key("detector", GROUP, 2, int(index)))
        assert holder is not None and holder.startswith(b"det-c:")
    finally:
        for proc in procs.values():
            stop(proc)
