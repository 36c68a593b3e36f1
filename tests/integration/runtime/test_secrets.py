"""Secrets never reach an error message or a log line, and credentials reach only the
executor: real processes, a real redis-server with a password, real sockets."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arb_cli.supervisor import CRASH_LOOP_RESTARTS, Supervisor
from arb_runtime.embedded import EmbeddedRedis, free_port
from arb_runtime.errors import RedisUnavailable
from arb_runtime.redis import connect
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.errors import VenueUnavailable

from tests.support_proc import reap

pytestmark = pytest.mark.integration

CANARY = "canary-7f3e9a"


def clean_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARB_")} | extra


async def test_a_redis_password_is_masked_in_connection_errors() -> None:
    with EmbeddedRedis() as server:
        client = await connect(server.url)
        await client.config_set("requirepass", "the-right-one")
        await client.aclose()
        wrong = f"redis://:{CANARY}@127.0.0.1:{server.port}/0"
        with pytest.raises(RedisUnavailable) as refused:
            await connect(wrong)
        down = f"redis://user:{CANARY}@127.0.0.1:{free_port()}/0"
        with pytest.raises(RedisUnavailable) as unreachable:
            await connect(down)
    for error in (refused.value, unreachable.value):
        assert CANARY not in str(error)
        assert ":***@127.0.0.1:" in str(error)
    assert "credentials" in str(refused.value) and "connection refused" in str(unreachable.value)


async def test_a_signed_url_is_masked_in_the_rest_clients_errors() -> None:
    rest = RestClient("binance", f"http://127.0.0.1:{free_port()}", request=ONCE)
    query = f"symbol=BTCUSDT&side=BUY&timestamp=1700000000000&signature={CANARY}"
    try:
        with pytest.raises(VenueUnavailable) as failed:
            await rest.request("POST", "/api/v3/order", query=query, retry=False)
    finally:
        await rest.close()
    assert CANARY not in str(failed.value)
    assert "/api/v3/order?symbol=BTCUSDT&side=BUY" in str(failed.value)
    assert "signature=***" in str(failed.value)


def test_a_service_never_prints_its_redis_password() -> None:
    url = f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"
    # a 2 s wait for the Redis nobody runs, not the default 30 s: the lines are the same
    result = subprocess.run([sys.executable, "-m", "arb_detector"], capture_output=True,
                            text=True, timeout=60,
                            env=clean_env(ARB_REDIS_URL=url, ARB_REDIS_WAIT_S="2"))  # fmt: skip
    assert result.returncode == 2
    assert CANARY not in result.stderr + result.stdout
    assert "redis://:***@127.0.0.1" in result.stderr and "Traceback" not in result.stderr


def test_a_services_log_lines_never_carry_a_url_password(redis_url: str) -> None:
    # Ingest retries a venue it cannot reach and logs each failure: the venue URL's
    # password must not be in the line.
    rest = f"http://trader:{CANARY}@127.0.0.1:{free_port()}"
    env = clean_env(ARB_REDIS_URL=redis_url, ARB_INGEST_VENUE="binance",
                    ARB_INGEST_REST_URL=rest, ARB_INGEST_WS_URL="ws://127.0.0.1:9/ws")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "arb_ingest"], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "instruments not available" in line:
                break
        else:
            raise AssertionError("ingest never logged the unreachable venue:\n" + "".join(lines))
    finally:
        proc.terminate()
        proc.wait(10)
        reap(proc)
    logged = "".join(lines)
    assert CANARY not in logged
    assert "trader:***@127.0.0.1" in logged


def test_credential_variables_reach_only_the_child_allowed_to_see_them(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__BINANCE__API_KEY", CANARY)
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__BINANCE__SECRET", CANARY)
    monkeypatch.setenv("ARB_ALERTS_TOKEN", CANARY)
    supervisor = Supervisor(tmp_path)
    sleep = ["-c", "import time; time.sleep(60)"]
    executor = supervisor.add("executor", sleep, {}, credentials=["ARB_EXECUTOR_"])
    book = supervisor.add("book", sleep, {"ARB_BOOK_VENUES": "binance"})
    try:
        environ = {c.name: _environ(c.proc.pid) for c in (executor, book) if c.proc}
    finally:
        supervisor.stop_all()
    assert environ["executor"]["ARB_EXECUTOR_CREDENTIALS__BINANCE__SECRET"] == CANARY
    assert "ARB_ALERTS_TOKEN" not in environ["executor"]  # another service's secret
    assert not [k for k, v in environ["book"].items() if CANARY in v]
    assert environ["book"]["ARB_BOOK_VENUES"] == "binance"
    assert environ["book"]["PATH"] == os.environ["PATH"]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def test_a_crash_looping_child_is_named_and_counted(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path, restart_backoff_s=0.01)
    supervisor.add("flaky", ["-c", "import sys; sys.exit(3)"], {})
    steady = supervisor.add("steady", ["-c", "import time; time.sleep(60)"], {})
    try:
        deadline = time.monotonic() + 60
        while not supervisor.crash_looped() and time.monotonic() < deadline:
            supervisor.check()
            time.sleep(0.02)
        looped = supervisor.crash_looped()
        assert [c.name for c in looped] == ["flaky"]
        assert looped[0].exit_codes[:3] == [3, 3, 3]
        assert steady.restarts == 0 and steady.alive
    finally:
        supervisor.stop_all()


def test_a_child_killed_on_purpose_comes_back_at_once_and_is_no_crash(tmp_path: Path) -> None:
    """arb chaos kills services (-9) over and over: each comes back on the next check, without
    the crash backoff (60 s here), and none of it counts towards crash-looping."""
    supervisor = Supervisor(tmp_path, restart_backoff_s=60)
    child = supervisor.add("victim", ["-c", "import time; time.sleep(60)"], {})
    try:
        for n in range(1, CRASH_LOOP_RESTARTS + 2):
            pid = child.proc.pid
            assert supervisor.kill("victim")
            assert child.proc.returncode == -9
            supervisor.check()
            assert child.alive and child.proc.pid != pid
            assert (child.restarts, child.killed, child.crashes) == (n, n, 0)
        assert supervisor.crash_looped() == []
        assert not supervisor.kill("nobody")
        child.proc.kill()  # a crash: not ours, so the backoff holds it down
        child.proc.wait()
        supervisor.check()
        assert not child.alive and child.crashes == 0  # not restarted yet: 60 s pause
    finally:
        supervisor.stop_all()


def test_the_venue_library_gets_the_backoff_and_redaction_without_redis() -> None:
    code = (
        "import sys, arb_venues.common.feed, arb_venues.common.rest, arb_venues.errors;"
        "print(sorted(m for m in sys.modules if m == 'redis' or m.startswith('redis.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
