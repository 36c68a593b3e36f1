"""The compose stack on a running Docker engine (make compose-test; minutes, not in make test).

Builds the image, brings up the demo profile's trading path (Redis, simulator, one ingest per
venue, book, detector x2, executor), the console (PostgreSQL, recorder, alerter, dashboard)
and the monitoring profile's Prometheus and Redis exporter, and checks from inside the stack,
with `arb status`: every book of every venue LIVE, opportunities and executions flowing; then
scales OKX's ingest to two shard replicas (each claims one shard), crashes the book container
with SIGKILL and checks the restart policy brings it back and the books LIVE again; prints the
scored run. Through Prometheus' HTTP API: every target of every scrape job up (each service,
each replica, the exporter), the alert rules loaded, and every panel of the Grafana dashboard
answered with data by each of its queries; the recorder has the executions in PostgreSQL and the
dashboard answers. `compose down -v` leaves no container, network or volume of the project.

Grafana itself is not started: no Grafana image can be pulled here and none can be made (no
Debian package, nothing installable from npm or PyPI carries the server); its provisioning is
checked against the running Prometheus instead (the data source's uid and URL, each query).
Images that cannot be pulled are made from Debian's packages (tests/support_docker.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
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
CONSOLE = ["postgres", "recorder", "alerter", "dashboard"]
MONITORING = ["redis-exporter", "prometheus"]  # grafana: no image here (see above)
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
                    "--profile", "demo", "--profile", "monitoring"]  # fmt: skip
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

    def http(self, url: str) -> Any:
        """GET ``url`` on the compose network (from the book container), as JSON."""
        return self.http_all([url])[0]

    def http_all(self, urls: list[str]) -> list[Any]:
        """``http`` of each of ``urls``, in one exec."""
        fetch = (
            "import json, sys, urllib.request; print(json.dumps([json.load("
            "urllib.request.urlopen(url, timeout=20)) for url in sys.argv[1:]]))"
        )
        answers: list[Any] = json.loads(
            self.run("exec", "-T", "book", "python", "-c", fetch, *urls, timeout=120)
        )
        return answers

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
                **{
                    variable: engine.image(name, engine.work_dir())
                    for name, (variable, _, _) in engine.STAND_INS.items()
                },
                "ARB_SYMBOLS": SYMBOLS,
                # docker-compose v1 gives up on an engine call after 60 s; creating a container
                # on a vfs engine of a busy machine can take longer.
                "COMPOSE_HTTP_TIMEOUT": "900",
                "DOCKER_CLIENT_TIMEOUT": "900",
            }
            stack = Stack(env)
            try:
                stack.run("up", "-d", "--no-build", *TRADING, *CONSOLE, *MONITORING, timeout=1200)
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


def prometheus(stack: Stack, path: str, **query: str) -> Any:
    answer = stack.http(f"http://prometheus:9090/api/v1/{path}?{urllib.parse.urlencode(query)}")
    assert answer["status"] == "success", answer
    return answer["data"]


def test_monitoring_scrapes_every_target_and_the_dashboard_queries_answer(stack: Stack) -> None:
    """After the first test (so OKX's ingest runs as two replicas, the detector as two)."""
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}

    def all_up() -> dict[str, list[str]] | None:
        targets = prometheus(stack, "targets", state="active")["activeTargets"]
        by_job: dict[str, list[str]] = {}
        for target in targets:
            by_job.setdefault(target["labels"]["job"], []).append(target["health"])
        if set(by_job) == jobs and all(h == "up" for health in by_job.values() for h in health):
            return by_job
        return None

    by_job = wait_for("every Prometheus target up", all_up, 180)
    counts = {job: len(health) for job, health in sorted(by_job.items())}
    log(f"prometheus: {sum(counts.values())} targets up in {len(counts)} jobs: {counts}")
    assert counts["ingest-okx"] == 2 and counts["detector"] == 2, counts

    loaded = [rule for group in prometheus(stack, "rules")["groups"] for rule in group["rules"]]
    written = yaml.safe_load((ROOT / "deploy/prometheus/rules.yml").read_text())["groups"]
    assert {r["name"] for r in loaded} == {r["alert"] for g in written for r in g["rules"]}
    assert all(r["health"] == "ok" for r in loaded), [r for r in loaded if r["health"] != "ok"]
    log(f"prometheus: {len(loaded)} alert rules loaded, every one evaluating")

    # Grafana's provisioning names this Prometheus, and each panel's queries answer with data.
    grafana = ROOT / "deploy/grafana"
    (source,) = yaml.safe_load((grafana / "provisioning/datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090", source
    dashboard = json.loads((grafana / "dashboards/cexarb.json").read_text())
    empty: list[str] = []
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        queries = [urllib.parse.urlencode({"query": t["expr"]}) for t in panel["targets"]]
        answers = stack.http_all([f"http://prometheus:9090/api/v1/query?{q}" for q in queries])
        assert all(a["status"] == "success" for a in answers), answers
        series = [len(a["data"]["result"]) for a in answers]
        log(f"panel {panel['title']!r}: series per query {series}")
        targets = zip(panel["targets"], series, strict=True)
        empty += [f"{panel['title']}: {target['expr']}" for target, n in targets if not n]
    # A labelled metric nothing has counted yet has no series: such queries fall back to 0
    # while their service is scraped (`or 0 * sum(up{job=...})`), so "No data" means broken.
    assert not empty, f"queries with no data: {empty}"

    # The console: the recorder wrote the executions to PostgreSQL, the dashboard reads them.
    trades = stack.http("http://dashboard:8765/api/trades?limit=5")["trades"]
    assert trades, "the dashboard shows no trade: the recorder wrote none to PostgreSQL"
    log(f"dashboard: trades from PostgreSQL, latest {trades[0]['opportunity_id']}")
