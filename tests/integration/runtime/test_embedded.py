"""The embedded redis-server: starts on a free port, stops on exit, dies with its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from arb_runtime.embedded import EmbeddedRedis, _ping

pytestmark = pytest.mark.integration

CHILD = """
import sys, time
from arb_runtime.embedded import EmbeddedRedis
server = EmbeddedRedis().start()
print(server.port, server.pid, flush=True)
time.sleep(60)
"""


def test_embedded_server_answers_and_stops_on_exit() -> None:
    with EmbeddedRedis() as server:
        port = server.port
        assert _ping(port)
    assert not _ping(port)


def test_embedded_server_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        port, pid = (int(x) for x in parent.stdout.readline().split())
        assert _ping(port)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        assert not _alive(pid), "redis-server outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        if parent.stdout:
            parent.stdout.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead for our purpose
        return f.read().split()[2] != "Z"
