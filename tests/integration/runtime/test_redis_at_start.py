"""A service started while its Redis is not answering yet waits for it (ARB_REDIS_WAIT_S), so a
supervisor or compose restarting both at once does not see it crash; past the wait it gives up
with one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis
from arb_runtime.embedded import EmbeddedRedis, free_port
from arb_structs.constants import health_key

from tests.support_proc import reap

pytestmark = pytest.mark.integration


def _book(port: int, wait_s: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    env |= {"ARB_REDIS_URL": f"redis://127.0.0.1:{port}/0", "ARB_REDIS_WAIT_S": wait_s,
            "ARB_INSTANCE": "waiting", "ARB_BOOK_VENUES": "binance"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "arb_book"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def test_service_started_before_redis_waits_for_it_and_runs(tmp_path) -> None:
    port = free_port()
    proc = _book(port, "60")
    try:
        time.sleep(1.5)  # the service is up and Redis is not: it must still be waiting
        assert proc.poll() is None, proc.communicate(timeout=5)
        with EmbeddedRedis(port=port, data_dir=tmp_path / "redis") as server:
            client = redis.Redis(port=server.port)
            deadline = time.monotonic() + 60
            while not client.keys(health_key("book", "waiting") + "*"):
                assert proc.poll() is None, proc.communicate(timeout=5)
                assert time.monotonic() < deadline, "book never reported its health"
                time.sleep(0.1)
            client.close()
    finally:
        reap(proc)


def test_service_gives_up_after_the_wait_with_one_line_and_exit_2() -> None:
    proc = _book(free_port(), "0.5")
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        reap(proc)
    assert proc.returncode == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("{")]  # JSON log lines
    assert len(lines) == 1 and "connection refused" in lines[0] and "ARB_REDIS_URL" in lines[0]
