"""The engine over three hosts (issue 19, Done-when 2): three network namespaces on this
machine, each with its own address on one bridge (veth pairs), created and removed here.

    host 1  10.x.0.1   the Redis Cluster (3 primaries + 3 replicas, arb redis --cluster
                       --host) and the executor (live, on the simulator's accounts)
    host 2  10.x.0.2   ingest + book of binance
    host 3  10.x.0.3   ingest + book of okx, and the detector
    bridge  10.x.0.254 the simulated venues (the "internet") and this test

Every service reaches Redis at host 1's address and the venues at the bridge's, as on three
machines (docs/scaling.md, "Several hosts", is the per-host compose layout of the same
split). What must hold: every book LIVE, opportunities found and traded, the cluster's
nodes seeing clients from all three hosts (CLIENT LIST), and by the simulator's ledgers 0
duplicate orders and no unexplained exposure.

Needs root and ``ip`` (iproute2); skips with the reason otherwise. Slow (about a minute):
``make test-hosts`` (ARB_HOSTS_TESTS=1), not ``make test``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from arb_cli.engine import demo_fees, simulator_accounts, start_simulator, stop_simulator
from arb_cli.run import all_live, stop_children, stop_trading
from arb_cli.status import collect
from arb_cli.supervisor import Supervisor
from arb_runtime.embedded import die_with_parent
from arb_runtime.redis import connect
from arb_structs import ExecutionStatus

from tests.integration.cluster import pipeline_support as ps

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(400),
    pytest.mark.skipif(
        os.environ.get("ARB_HOSTS_TESTS") != "1",
        reason="three network namespaces and the whole engine: `make test-hosts` "
        "(ARB_HOSTS_TESTS=1)",
    ),
]

SYMBOL = "BTC-USDT"


@dataclass(frozen=True)
class Host:
    namespace: str
    address: str

    @property
    def prefix(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.namespace)


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def hosts() -> Iterator[tuple[list[Host], str]]:
    """Three namespaces on one bridge; the bridge's own address (the root namespace)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (ip netns add); run as root")
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2) to create network namespaces")
    tag = f"cx{os.getpid() % 100000}"  # names of at most 15 characters, one set per run
    net = f"10.{200 + os.getpid() % 50}.0"
    bridge, made = f"{tag}br", []
    try:
        steps = [
            ("link", "add", bridge, "type", "bridge"),
            ("addr", "add", f"{net}.254/24", "dev", bridge),
            ("link", "set", bridge, "up"),
        ]
        for i in (1, 2, 3):
            ns, outside, inside = f"{tag}h{i}", f"{tag}v{i}", f"{tag}p{i}"
            steps += [("netns", "add", ns),
                      ("link", "add", outside, "type", "veth", "peer", "name", inside),
                      ("link", "set", inside, "netns", ns),
                      ("link", "set", outside, "master", bridge, "up"),
                      ("-n", ns, "addr", "add", f"{net}.{i}/24", "dev", inside),
                      ("-n", ns, "link", "set", inside, "up"),
                      ("-n", ns, "link", "set", "lo", "up")]  # fmt: skip
            made.append(Host(ns, f"{net}.{i}"))
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                pytest.skip(f"cannot create the network namespaces: `ip {' '.join(step)}`: "
                            f"{done.stderr.strip()}")  # fmt: skip
        yield made, f"{net}.254"
    finally:
        for host in made:  # deleting a namespace deletes its end of the veth, and so the pair
            _ip("netns", "del", host.namespace)
        _ip("link", "del", bridge)
        left = [h.namespace for h in made if h.namespace in _ip("netns", "list").stdout]
        assert not left, f"network namespaces left behind: {left}"


def _cluster_on(host: Host, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``arb redis --cluster`` inside ``host``, listening on its address; its URL."""
    with log.open("ab") as errors:
        proc = subprocess.Popen(
            [*host.prefix, sys.executable, "-m", "arb_cli", "redis", "--cluster",
             "--host", host.address],
            stdout=subprocess.PIPE, stderr=errors, preexec_fn=die_with_parent,
        )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    if not url.startswith("redis+cluster://"):
        proc.kill()
        proc.wait()
        proc.stdout.close()
        raise AssertionError(f"arb redis --cluster on {host.address}: {url!r}; {log.read_text()}")
    return proc, url


async def _client_addresses(redis: Any) -> set[str]:
    """The source address of every client of every primary (CLIENT LIST)."""
    replies = await redis.client_list(target_nodes="primaries")
    clients = replies if isinstance(replies, list) else [c for v in replies.values() for c in v]
    return {str(c["addr"]).rsplit(":", 1)[0] for c in clients}


async def test_engine_split_over_three_hosts_finds_and_trades(
    hosts: tuple[list[Host], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (one, two, three), bridge = hosts
    monkeypatch.delenv("ARB_REDIS_URL", raising=False)
    venues = {two: ["binance"], three: ["okx"]}
    every = [v for vs in venues.values() for v in vs]
    cluster, url = _cluster_on(one, tmp_path / "redis.log")
    supervisor = Supervisor(tmp_path)
    sim = None
    redis: Any = None
    try:
        sim, urls = start_simulator(every, [SYMBOL], 20.0, url, tmp_path,
                                    extra=[*ps.SIMULATOR_ARGS, "--host", bridge])  # fmt: skip
        where = urls["venues"]
        assert all(bridge in where[v]["rest"] for v in every), where
        initial = await ps.balances(urls["control"], every)
        base = {"ARB_REDIS_URL": url, "ARB_LOG_LEVEL": "WARNING", **demo_fees(every)}
        for host, own in venues.items():  # per host: its venues' ingest and their book
            for venue in own:
                ingest = {"ARB_INGEST_VENUE": venue, "ARB_INGEST_SYMBOLS": json.dumps([SYMBOL]),
                          "ARB_INGEST_WS_URL": where[venue]["ws"],
                          "ARB_INGEST_REST_URL": where[venue]["rest"]}  # fmt: skip
                supervisor.add(f"ingest-{venue}", ["-m", "arb_ingest"], base | ingest,
                               prefix=host.prefix)  # fmt: skip
            book = {"ARB_BOOK_VENUES": ",".join(own)}
            supervisor.add(f"book-{host.address}", ["-m", "arb_book"], base | book,
                           prefix=host.prefix)  # fmt: skip
        supervisor.add("detector", ["-m", "arb_detector"],
                       {**base, "ARB_DETECTOR_VENUES": ",".join(every),
                        "ARB_DETECTOR_BALANCE_SOURCE": "redis"}, prefix=three.prefix)  # fmt: skip
        supervisor.add("executor", ["-m", "arb_executor"],
                       {**base, "ARB_EXECUTOR_MODE": "live", **ps.EXECUTOR_ENV,
                        **simulator_accounts(every, where)},
                       credentials=["ARB_EXECUTOR_"], prefix=one.prefix)  # fmt: skip
        redis = await connect(url, wait_s=10)
        started = time.monotonic()

        async def books_live() -> bool:
            return all_live(await collect(redis), every, [SYMBOL])

        await ps.until(books_live, 120, "every book LIVE")
        live_s = time.monotonic() - started
        await ps.until(lambda: _filled(redis, 3), 120, "3 trades")
        traded_s = time.monotonic() - started
        addresses = await _client_addresses(redis)
        await ps.settle(redis, supervisor)
        await stop_trading(supervisor, asyncio.Event())
        judged = await ps.verdict(redis, urls["control"], every, initial)
        opportunities = await ps.opportunities_since(redis, 0)
        restarts = {c.name: c.restarts for c in supervisor.children if c.restarts}
    finally:
        if redis is not None:
            await redis.aclose()
        await stop_children(supervisor, None, 5.0, asyncio.Event())
        stop_simulator(sim)
        cluster.terminate()  # arb redis stops every node on SIGTERM
        try:
            cluster.wait(15)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.wait()
        if cluster.stdout is not None:
            cluster.stdout.close()
    print(f"\nthree hosts: books LIVE {live_s:.1f}s, 3 trades {traded_s:.1f}s after start; "
          f"{len(opportunities)} opportunities, {judged['results_total']} results, "
          f"{judged['filled_orders']} filled orders, {judged['duplicate_orders']} duplicate; "
          f"Redis clients from {sorted(addresses)}")  # fmt: skip
    assert {one.address, two.address, three.address} <= addresses, addresses
    assert opportunities and judged["filled_orders"] > 0
    assert judged["duplicate_orders"] == 0, judged["duplicates"]
    assert judged["unexplained_exposure"] == [], judged["unexplained_exposure"]
    assert judged["lost_results"] == [], judged["lost_results"]
    assert restarts == {}, f"a service restarted: {restarts}"


async def _filled(redis: Any, n: int) -> bool:
    done = [r for _, r in await ps.results(redis) if r.status is ExecutionStatus.FILLED]
    return len(done) >= n
