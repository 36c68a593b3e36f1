"""A private PostgreSQL for the test session, on a free loopback port, removed at the end;
never the machine's own server on 5432. When a Docker engine answers (as for the session's
Redis, tests/conftest.py) it is a testcontainers container of ARB_TEST_POSTGRES_IMAGE
(``ContainerPostgres``); else ``initdb`` in a temp dir and ``postgres`` with its socket in
that dir (``PrivatePostgres``). Both can be stopped, killed and started again by a test.

The server binaries come from ``ARB_TEST_PG_BIN``, else ``/usr/lib/postgresql/<version>/bin``
(Debian's layout), else ``pg_config --bindir``. Without them the PostgreSQL tests skip with
one line saying how to install them; under ``CI=true`` that is a failure. PostgreSQL refuses
to run as root: as root, the cluster belongs to the ``postgres`` system user (or ``nobody``).
The server is our child with a parent-death signal, so it dies with the test run.

``fsync=off`` (the OS page cache survives a killed server, only a machine crash would lose
it) but ``synchronous_commit`` stays on: a commit is in the WAL before COMMIT returns, so a
test that kills the server sees what a real deployment keeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support_docker import free_port, loopback_server, public_image, use_docker

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: apt-get install "
    "postgresql (Debian), or set ARB_TEST_PG_BIN to the folder that holds them"
)
_TOOLS = ("initdb", "pg_ctl", "postgres")
_counter = itertools.count(1)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_bin_dir() -> Path | None:
    candidates: list[Path] = []
    explicit = os.environ.get("ARB_TEST_PG_BIN")
    if explicit:
        candidates.append(Path(explicit))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.split(".")[0].isdigit()]
        for version in sorted(versions, key=lambda p: float(p.name), reverse=True):
            candidates.append(version / "bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=5)
            candidates.append(Path(out.stdout.strip()))
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in _TOOLS):
            return folder
    return None


def _run_as() -> str | None:
    """The user the cluster runs as: ourselves, or (as root) postgres or nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no postgres or nobody user to run PostgreSQL as")


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class PostgresServer:
    """What the tests ask of a server, whichever runs it: ``init()`` once, then ``start()`` /
    ``stop()`` / ``kill()`` as a test needs, databases made and dropped, ``cleanup()``."""

    superuser = "arb"
    port: int

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def init(self) -> PostgresServer:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError

    def log_tail(self, chars: int = 800) -> str:
        raise NotImplementedError

    def _answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def _wait_until_answering(self, timeout: float, exited: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            why = exited()
            if why is not None:
                raise RuntimeError(f"postgres exited ({why}): {self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections within {timeout}s")

    def url(self, database: str) -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        if not self.running:
            return
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PrivatePostgres(PostgresServer):
    """The server binaries of this machine, our child process."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="arb-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def _owned(self) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> PrivatePostgres:
        self._owned()
        result = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", self.superuser,
             "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, user=self.user, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}): {result.stderr.strip()}")
        return self

    def start(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return  # already running
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "shared_buffers=16MB", "-c", "max_connections=30"],
            stdout=log, stderr=subprocess.STDOUT, user=self.user, preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()
        proc = self.proc
        self._wait_until_answering(
            timeout, lambda: None if proc.poll() is None else str(proc.returncode)
        )

    @property
    def running(self) -> bool:
        return self.proc is not None

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are ended, what was committed stays."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """The server dies at once (SIGKILL), as in a crash."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def log_tail(self, chars: int = 800) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class ContainerPostgres(PostgresServer):
    """PostgreSQL in a container (testcontainers) on a loopback port, with the settings of the
    private server (trust for the tests' role, fsync off, synchronous commit on). ``kill()``
    is SIGKILL to the server; ``start()`` starts the same container again, its data kept;
    ``cleanup()`` removes it. Its image: ARB_TEST_POSTGRES_IMAGE (make test-docker sets the
    local cexarb-postgres:local, deploy/local/postgres.Dockerfile, when the public one cannot
    be pulled)."""

    def __init__(self, image: str) -> None:
        self.image = image
        settings = ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB",
                    "-c", "max_connections=30"]  # fmt: skip
        self.container, self.port = loopback_server(
            image, 5432,
            lambda address, port: ["-c", f"listen_addresses={address}", "-p", str(port),
                                   *settings],
            env={"POSTGRES_USER": self.superuser, "POSTGRES_HOST_AUTH_METHOD": "trust",
                 "POSTGRES_DB": "postgres"},
            stop_signal="SIGINT",
        )  # fmt: skip
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def _exited(self) -> str | None:
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        return None if wrapped.status in {"created", "running"} else wrapped.status

    def init(self) -> ContainerPostgres:
        self.container.start()
        self._running = True
        self._wait_until_answering(60, self._exited)
        return self

    def start(self, timeout: float = 30.0) -> None:
        if self._running:
            return
        self.container.get_wrapped_container().start()
        self._running = True
        self._wait_until_answering(timeout, self._exited)

    def stop(self) -> None:
        """Fast shutdown (the image's stop signal is SIGINT): what was committed stays."""
        if self._running:
            self._running = False
            self.container.get_wrapped_container().stop(timeout=20)

    def kill(self) -> None:
        """The server dies at once (SIGKILL), as in a crash."""
        if self._running:
            self._running = False
            self.container.get_wrapped_container().kill()

    def log_tail(self, chars: int = 800) -> str:
        out, err = self.container.get_logs()
        return (out + err).decode(errors="replace")[-chars:]

    def cleanup(self) -> None:
        self._running = False
        self.container.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session: a container when a Docker engine answers
    (as the session's Redis), else this machine's binaries (skips, or fails under CI,
    without them)."""
    if use_docker():
        server: PostgresServer = ContainerPostgres(
            os.environ.get("ARB_TEST_POSTGRES_IMAGE") or public_image("postgres")
        )
        try:
            yield server.init()
        finally:
            server.cleanup()
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if in_ci():
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    server = PrivatePostgres(bin_dir).init()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty database on the session's server, dropped after the test."""
    if not postgres_server.running:  # a test before this one left it stopped
        postgres_server.start()
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        if not postgres_server.running:
            postgres_server.start()
        postgres_server.drop_database(name)
