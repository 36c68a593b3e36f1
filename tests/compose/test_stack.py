"""The compose stack on a running Docker engine (make compose-test; minutes, not in make test).

Builds the image, brings up the demo profile's trading path (Redis, simulator, one ingest per
venue, book, detector x2, executor), and checks from inside the stack, with `arb status`:
every book of every venue LIVE, opportunities and executions flowing; then scales OKX's
ingest to two shard replicas (each claims one shard), crashes the book container with
SIGKILL and checks the restart policy brings it back and the books LIVE again; prints the
scored run; `compose down -v` leaves no container, network or volume of the project.

The recorder, dashboard, alerter and PostgreSQL are not started here (no PostgreSQL image
can be pulled on this machine); tests/integration/deploy/test_compose.py checks their config.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arb_venues import VENUE_NAMES

from tests import support_docker as engine
from tests.support_docker import docker, log

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]
if os.environ.get("ARB_COMPOSE_TEST") != "1":
    pytest.skip(
        "slow (minutes, builds images): run with make compose-test", allow_module_level=True
    )

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "cexarb-compose-test"
TRADING = ["redis", "simulator", *(f"ingest-{v}" for v in VENUE_NAMES), "book", "detector",
           "executor"]  # fmt: skip
SYMBOLS = "BTC-USDT,ETH-USDT,SOL-USDT"


def compose_command() -> list[str]:
    if docker("compose", "version", check=False, timeout=30).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor docker-compose is installed")


class Stack:
    def __init__(self, env: dict[str, str]) -> None:
        self.cmd = [*compose_command(), "-p", PROJECT, "-f", str(ROOT / "docker-compose.yml"),
                    "--profile", "demo"]  # fmt: skip
        self.env = env

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        out = subprocess.run([*self.cmd, *args], capture_output=True, text=True, cwd=ROOT,
                             env=self.env, timeout=timeout)  # fmt: skip
        if check and out.returncode != 0:
            raise AssertionError(
                f"compose {' '.join(args)}: {out.stdout[-1500:]}{out.stderr[-3000:]}"
            )
        return out.stdout

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(
            self.run("exec", "-T", "book", "arb", "status", "--json", timeout=60)
        )
        return result

    def containers(self, service: str) -> list[str]:
        return self.run("ps", "-q", service).split()


def wait_for(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except AssertionError as exc:
            last = exc
        if last and not isinstance(last, AssertionError):
            return last
        time.sleep(2)
    raise AssertionError(f"{what} not reached in {timeout:.0f} s; last: {str(last)[-1500:]}")


def all_books_live(stack: Stack) -> dict[str, Any] | None:
    status = stack.status()
    books = status["books"]
    expected = {(v, s) for v in VENUE_NAMES for s in SYMBOLS.split(",")}
    if {(b["venue"], b["symbol"]) for b in books} >= expected and all(
        b["state"] == "LIVE" for b in books if (b["venue"], b["symbol"]) in expected
    ):
        return status
    return None


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    try:
        with engine.engine():
            engine.project_image(engine.work_dir())
            env = {
                **os.environ,
                "ARB_REDIS_IMAGE": engine.image("redis", engine.work_dir()),
                "ARB_SYMBOLS": SYMBOLS,
                # docker-compose v1 gives up on an engine call after 60 s; creating a container
                # on a vfs engine of a busy machine can take longer.
                "COMPOSE_HTTP_TIMEOUT": "900",
                "DOCKER_CLIENT_TIMEOUT": "900",
            }
            stack = Stack(env)
            try:
                stack.run("up", "-d", "--no-build", *TRADING, timeout=900)
                yield stack
            finally:
                log("compose down -v")
                stack.run("down", "-v", "--remove-orphans", timeout=300, check=False)
                left = docker(
                    "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"
                ).stdout.split()
                assert not left, f"containers left after down: {left}"
    except LookupError as exc:
        pytest.skip(str(exc))


def test_compose_stack_trades_scales_recovers_and_goes_down_clean(stack: Stack) -> None:
    started = time.monotonic()
    status = wait_for("every book LIVE", lambda: all_books_live(stack), 300)
    log(f"{len(status['books'])} books LIVE after {time.monotonic() - started:.0f} s")
    detectors = stack.containers("detector")
    assert len(detectors) == 2, detectors

    def traded() -> dict[str, Any] | None:
        s = stack.status()
        streams = s["streams"]
        ok = streams.get("arb:opportunities", 0) > 0 and streams.get("arb:executions", 0) > 0
        return s if ok else None

    status = wait_for("an execution", traded, 240)
    streams = status["streams"]
    log(f"opportunities {streams['arb:opportunities']}, executions {streams['arb:executions']}")

    # Scale-out: OKX's ingest as two replicas, each claiming one of two shards.
    env = {**stack.env, "OKX_INGEST_SHARDS": "2"}
    Stack(env).run(
        "up",
        "-d",
        "--no-build",
        "--scale",
        "ingest-okx=2",
        "--scale",
        "detector=2",
        "ingest-okx",
        timeout=600,
    )
    assert len(stack.containers("ingest-okx")) == 2

    def okx_sharded() -> list[str] | None:
        names = sorted(
            s["instance"]
            for s in stack.status()["services"]
            if s["service"] == "ingest" and ":okx:shard-" in s["instance"] and s["age_s"] < 10
        )
        shards = sorted({n.rsplit(":", 1)[1] for n in names})
        return names if shards == ["shard-0", "shard-1"] else None

    names = wait_for("two OKX ingest shards", okx_sharded, 180)
    log(f"scaled out: ingest-okx replicas {names}")
    wait_for("every book LIVE after the scale-out", lambda: all_books_live(stack), 240)

    # Recovery: the book process dies (SIGKILL from the host); the restart policy restarts it.
    (book,) = stack.containers("book")
    pid = int(docker("inspect", "-f", "{{.State.Pid}}", book).stdout)
    os.kill(pid, signal.SIGKILL)
    log(f"killed the book container's process (pid {pid})")

    def restarted() -> int | None:
        count = int(docker("inspect", "-f", "{{.RestartCount}}", book).stdout)
        running = docker("inspect", "-f", "{{.State.Running}}", book).stdout.strip() == "true"
        return count if count >= 1 and running else None

    wait_for("the book container restarted", restarted, 120)
    status = wait_for("every book LIVE after the restart", lambda: all_books_live(stack), 300)
    before = status["streams"]["arb:executions"]

    def executions() -> int:
        return int(stack.status()["streams"]["arb:executions"])

    after = wait_for("a new execution after the restart", lambda: executions() > before, 240)
    after = executions()
    log(f"recovered: books LIVE again, executions {before} -> {after}")

    # The scored run, from inside the stack.
    summary = {
        "books_live": sum(b["state"] == "LIVE" for b in status["books"]),
        "books": len(status["books"]),
        "opportunities": status["streams"].get("arb:opportunities", 0),
        "executions": after,
        "services": sorted({s["service"] for s in status["services"]}),
    }
    log("score: " + json.dumps(summary))
    assert summary["books_live"] == summary["books"] == len(VENUE_NAMES) * 3
