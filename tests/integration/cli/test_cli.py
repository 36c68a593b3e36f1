"""The arb command as a user runs it: real processes, real Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def arb(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arb_cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})  # fmt: skip


def test_help_lists_the_commands() -> None:
    result = arb("--help")
    assert result.returncode == 0
    for command in ("run", "status", "replay", "record", "redis", "kill", "resume", "sign", "bench",
                    "sim"):  # fmt: skip
        assert f"    {command} " in result.stdout


def test_bad_redis_url_is_one_clear_line_not_a_traceback() -> None:
    result = arb("status", env={"ARB_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "connection refused" in result.stderr and "ARB_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_arb_redis_prints_a_url_that_answers() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "arb_cli", "redis"], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("redis://127.0.0.1:")
        status = arb("status", "--json", env={"ARB_REDIS_URL": url})
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["kill_switch"] == {"engaged": False}
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def test_kill_switch_shows_in_status_and_releases(redis_url: str) -> None:
    env = {"ARB_REDIS_URL": redis_url}
    assert arb("kill", "--reason", "drill", env=env).returncode == 0
    engaged = json.loads(arb("status", "--json", env=env).stdout)["kill_switch"]
    assert engaged == {"engaged": True, "reason": "drill"}
    assert arb("resume", env=env).returncode == 0
    assert json.loads(arb("status", "--json", env=env).stdout)["kill_switch"]["engaged"] is False


def test_unknown_venue_for_sign_is_a_clear_error() -> None:
    result = arb("sign", "nowhere", "--secret", "s", "--method", "GET", "--path", "/")
    assert result.returncode == 2
    assert "unknown venue 'nowhere'" in result.stderr and "binance" in result.stderr
