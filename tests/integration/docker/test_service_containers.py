"""The engine's services as containers of the project image, started with testcontainers.

The simulator, one ingest per venue, book, detector and a live executor (on the simulator's
test accounts), each a container of ARB_TEST_PROJECT_IMAGE on the host's network with its
own loopback metrics port, the environment ``arb run`` gives the same process
(``arb_cli.engine.service_specs``), and the restart policy of the compose file. The session's
Redis is the testcontainers one (tests/conftest.py). Checked: the compiled book in the
containers (``arb_orderbook.native``), every book LIVE (``arb status``
inside the book container), opportunities and live executions; the book container's process
SIGKILLed, then the executor's, each restarted by its policy, the books LIVE again and new
executions after it; and,
once the detector is stopped and the executor idle, every filled order an execution reports
is in the simulator's ledger of the account with the same fill, and every filled order of the
ledgers is reported (none lost, no client order id used twice). Every container is removed at
the end.

Needs a Docker engine and the image: ``make test-docker`` starts a private engine, builds the
image and sets ARB_TEST_PROJECT_IMAGE; elsewhere this module skips with that reason.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import redis as sync_redis
from arb_cli.engine import demo_fees, service_specs
from arb_structs.codec import EXECUTION
from arb_structs.constants import EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, PAYLOAD_FIELD

from tests.support_docker import TEST_LABEL, free_port, use_docker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

IMAGE = os.environ.get("ARB_TEST_PROJECT_IMAGE", "")
if not use_docker():
    pytest.skip("no Docker engine answers (make test-docker starts a private one)",
                allow_module_level=True)  # fmt: skip
if not IMAGE:
    pytest.skip("ARB_TEST_PROJECT_IMAGE is not set (make test-docker builds cexarb:latest and "
                "sets it)", allow_module_level=True)  # fmt: skip

VENUES = ["binance", "okx"]
SYMBOLS = ["BTC-USDT", "ETH-USDT"]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (AssertionError, sync_redis.ConnectionError, OSError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every)
    raise AssertionError(f"{what} not reached in {timeout:.0f} s; last: {str(last)[-1500:]}")


@dataclass
class Engine:
    """The running containers by service name, and where the simulator serves."""

    redis_url: str
    containers: dict[str, Any] = field(default_factory=dict)
    control_url: str = ""

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Any:
        from testcontainers.core.container import DockerContainer

        metrics_port = free_port()
        container = DockerContainer(IMAGE, env={
            **env, "ARB_METRICS_HOST": "127.0.0.1", "ARB_METRICS_PORT": str(metrics_port),
            "ARB_SIMULATOR_METRICS_HOST": "127.0.0.1",
            "ARB_SIMULATOR_METRICS_PORT": str(metrics_port),
        })  # fmt: skip
        container.with_command(["python", *args]).with_kwargs(
            network_mode="host",
            labels={TEST_LABEL: "1", f"{TEST_LABEL}.service": name},
            restart_policy={"Name": "unless-stopped"},
        )
        self.containers[name] = container  # removed at the end even if it fails to start
        container.start()
        return container

    def status(self) -> dict[str, Any]:
        code, out = self.containers["book"].exec(["arb", "status", "--json"])
        assert code == 0, out.decode(errors="replace")[-800:]
        result: dict[str, Any] = json.loads(out)
        return result

    def control(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.control_url}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def inspect(self, name: str) -> dict[str, Any]:
        wrapped = self.containers[name].get_wrapped_container()
        wrapped.reload()
        attrs: dict[str, Any] = wrapped.attrs
        return attrs

    def remove_all(self) -> None:
        for container in self.containers.values():
            container.stop()  # removes it (and its anonymous volumes)


def simulator_urls(container: Any) -> dict[str, Any]:
    """The simulator's --json line (each venue's URLs, the control URL) from its stdout."""
    out, _ = container.get_logs()
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("{"):
            urls: dict[str, Any] = json.loads(line)
            return urls
    raise AssertionError(f"no URL line yet: {out.decode(errors='replace')[-300:]}")


@pytest.fixture(scope="module")
def engine(redis_url: str) -> Iterator[Engine]:
    client = sync_redis.Redis.from_url(redis_url)
    client.flushdb()
    running = Engine(redis_url)
    try:
        started = time.monotonic()
        simulator = running.start(
            "simulator",
            ["-m", "arb_simulator", "--venues", ",".join(VENUES), "--symbols", ",".join(SYMBOLS),
             "--rate", "20", "--seed", "18", "--inject-interval", "1", "--json"],
            {"ARB_REDIS_URL": redis_url, **demo_fees(VENUES)},
        )  # fmt: skip
        urls = wait_for("the simulator's URLs", lambda: simulator_urls(simulator), 120)
        running.control_url = urls["control"]
        for spec in service_specs(VENUES, SYMBOLS, redis_url, urls, mode="live"):
            running.start(spec.name, spec.args, spec.env)
        print(f"\n{len(running.containers)} containers started in "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        yield running
    finally:
        running.remove_all()
        client.flushdb()
        client.close()


def books_live(engine: Engine) -> dict[str, Any] | None:
    status = engine.status()
    expected = {(v, s) for v in VENUES for s in SYMBOLS}
    live = {(b["venue"], b["symbol"]) for b in status["books"] if b["state"] == "LIVE"}
    return status if live >= expected else None


def executions(redis_url: str) -> list[Any]:
    with sync_redis.Redis.from_url(redis_url) as client:
        entries: Any = client.xrange(EXECUTIONS_STREAM)
    return [EXECUTION.decode(fields[PAYLOAD_FIELD]) for _, fields in entries]


def stream_length(redis_url: str, stream: str) -> int:
    with sync_redis.Redis.from_url(redis_url) as client:
        length: int = client.xlen(stream)
    return length


def test_service_containers_trade_on_the_simulator_and_recover_from_a_killed_container(
    engine: Engine,
) -> None:
    started = time.monotonic()
    # Each service container's books are the compiled ones the image built (docs/native.md).
    for name in ("book", "detector", "ingest-binance"):
        code, out = engine.containers[name].exec(
            ["python", "-c", "import arb_orderbook.native as n; print(n.describe())"]
        )
        assert (code, out.decode().strip()) == (0, "native"), (name, out.decode()[-400:])
    wait_for("every book LIVE", lambda: books_live(engine), 240, every=2)
    print(f"books LIVE after {time.monotonic() - started:.0f} s", flush=True)
    wait_for("a live execution", lambda: executions(engine.redis_url), 180)
    first = executions(engine.redis_url)
    assert all(r.mode == "live" for r in first), {r.mode for r in first}
    print(f"opportunities {stream_length(engine.redis_url, OPPORTUNITIES_STREAM)}, "
          f"executions {len(first)}", flush=True)  # fmt: skip

    # The book's, then the executor's container process dies (SIGKILL from the host); the
    # restart policy brings it back and the flow resumes.
    for name in ("book", "executor"):
        pid = int(engine.inspect(name)["State"]["Pid"])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        def restarted(name: str = name) -> bool:
            state = engine.inspect(name)
            return bool(state["RestartCount"] >= 1 and state["State"]["Running"])

        wait_for(f"the {name} container restarted", restarted, 120)
        wait_for(f"every book LIVE after the {name} restart", lambda: books_live(engine), 240, 2)
        before = len(executions(engine.redis_url))
        wait_for(f"a new execution after the {name} restart",
                 lambda before=before: len(executions(engine.redis_url)) > before,
                 180)  # fmt: skip
        print(f"{name} restarted, books LIVE and trading again "
              f"{time.monotonic() - killed_at:.0f} s after the kill; executions {before} -> "
              f"{len(executions(engine.redis_url))}", flush=True)  # fmt: skip

    # Quiet: no new opportunity, the executor done with what it read; then the venues'
    # ledgers are the truth the executions are checked against.
    engine.containers["detector"].get_wrapped_container().stop(timeout=10)

    def settled() -> list[Any] | None:
        seen = executions(engine.redis_url)
        time.sleep(3)
        again = executions(engine.redis_url)
        return again if len(again) == len(seen) else None

    results = wait_for("the executor idle", settled, 60)
    reported: dict[tuple[str, str], Decimal] = {}
    for result in results:
        for leg in result.legs:
            if leg.report is not None and Decimal(leg.report.filled_size) > 0:
                # a later result of the same saga (a reconciliation) supersedes an earlier one
                reported[(leg.report.venue, leg.report.client_order_id)] = Decimal(
                    leg.report.filled_size
                )
    at_venues: dict[tuple[str, str], Decimal] = {}
    placed: set[tuple[str, str]] = set()
    for venue in VENUES:
        ledger = engine.control(f"/control/ledger/{venue}")
        assert not ledger.get("duplicate_attempts"), ledger["duplicate_attempts"]
        for order in ledger["orders"]:
            key = (venue, order["client_order_id"])
            assert key not in placed, f"two orders with one client order id: {key}"
            placed.add(key)
            if Decimal(order["filled"]) > 0:
                at_venues[key] = Decimal(order["filled"])
    assert reported, "no execution reported a filled order"
    assert reported == at_venues, {
        "reported, not at the venue": sorted(set(reported) - set(at_venues)),
        "at the venue, not reported": sorted(set(at_venues) - set(reported)),
        "different fills": sorted(k for k in reported.keys() & at_venues.keys()
                                  if reported[k] != at_venues[k]),
    }  # fmt: skip
    latest = {r.opportunity_id: r.status for r in results}
    statuses = dict(Counter(str(status) for status in latest.values()))
    print(f"ledgers: {len(at_venues)} filled orders, each reported with its fill; "
          f"{len(latest)} opportunities executed: {statuses}", flush=True)  # fmt: skip
