"""Running the console's services as real processes in tests, publishing what the executor
publishes, and reading the consumer groups' state and the arb command's answers."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from arb_structs.codec import EXECUTION, EXPOSURE, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
)
from redis.exceptions import ResponseError

CODECS = {EXECUTIONS_STREAM: EXECUTION, OPPORTUNITIES_STREAM: OPPORTUNITY,
          EXPOSURE_STREAM: EXPOSURE}  # fmt: skip


def service_env(redis_url: str, **settings: str) -> dict[str, str]:
    """Our environment without any ARB_* of the caller, plus these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    return env | {"ARB_REDIS_URL": redis_url, "ARB_LOG_LEVEL": "INFO"} | settings


def start_service(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", module], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip


def stop_service(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGTERM and wait: the exit code (SIGKILL after ``timeout``)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``check`` (plain or async) until it returns something true; fail naming ``what``
    at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last!r})")


async def publish(redis: Any, stream: str, messages: Iterable[Any]) -> list[bytes]:
    codec = CODECS[stream]
    pipe = redis.pipeline(transaction=False)
    for message in messages:
        pipe.xadd(stream, {PAYLOAD_FIELD: codec.encode(message)})
    ids: list[bytes] = await pipe.execute()
    return ids


async def group_backlog(redis: Any, stream: str, group: str) -> int | None:
    """Entries of ``stream`` the group has not acknowledged: pending, plus those after its
    last delivered id (counted, not taken from XINFO's lag, which is an estimate); None while
    the group does not exist."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:
        return None
    for info in groups:
        name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
        if name != group:
            continue
        last = info["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else last
        undelivered = await redis.xrange(stream, min=f"({last}", max="+")
        return int(info["pending"]) + len(undelivered)
    return None


async def all_acknowledged(redis: Any, group: str, streams: Sequence[str]) -> bool:
    backlogs = [await group_backlog(redis, s, group) for s in streams]
    return all(b == 0 for b in backlogs)


def arb_json(*args: str, env: dict[str, str], timeout: float = 60) -> Any:
    """``arb ARGS --json`` as a user runs it: the parsed JSON (fails on a non-zero exit)."""
    result = subprocess.run([sys.executable, "-m", "arb_cli", *args, "--json"], env=env,
                            capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)
