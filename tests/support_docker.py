"""A Docker engine for the tests that need one: the one that answers, else a private one.

Used by the compose test (``make compose-test``) and by ``make test-docker``, which runs
``python -m tests.support_docker -- pytest ...``: the engine is up (and the images made) for
the whole pytest session, then stopped.

A private engine (root and ``dockerd`` on PATH, Debian's ``docker.io``) runs on its own socket,
data root and exec root under ``ARB_COMPOSE_TEST_DIR`` (default /tmp/cexarb-compose-test), with
``--bridge none --iptables=false``: no docker0 and no host firewall change; compose's own
network still works (a user-defined bridge with its DNS), while a container started alone has
no bridge to publish a port through, so the tests' containers use the host's network
(``host_network()``). It is stopped by its PID. Images it cannot pull are made locally: the
base by ``debootstrap`` + ``docker import`` (the machine's extra CA certificates copied in, so
builds trust the same package mirrors), uv from the uv binary on PATH, Redis, PostgreSQL,
Prometheus and the Redis exporter from Debian's packages (deploy/local/*.Dockerfile). The data
root is kept between runs so a second run reuses the images.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "deploy" / "local"
PUBLIC_BASE = "python:3.11.11-slim-bookworm"
PUBLIC_UV = "ghcr.io/astral-sh/uv:0.13.9"
LOCAL_BASE = "cexarb-base:bookworm"
LOCAL_UV = "cexarb-uv:0.13.9"
PROJECT_IMAGE = "cexarb:latest"
# The images the compose file names by a variable (its ${VAR:-public tag}) -> that variable,
# the local stand-in made from Debian's packages and its Dockerfile in deploy/local.
STAND_INS = {
    "redis": ("ARB_REDIS_IMAGE", "cexarb-redis:local", "redis.Dockerfile"),
    "postgres": ("ARB_POSTGRES_IMAGE", "cexarb-postgres:local", "postgres.Dockerfile"),
    "prometheus": ("ARB_PROMETHEUS_IMAGE", "cexarb-prometheus:local", "prometheus.Dockerfile"),
    "redis-exporter": (
        "ARB_REDIS_EXPORTER_IMAGE",
        "cexarb-redis-exporter:local",
        "redis-exporter.Dockerfile",
    ),
}
# The variables the tests (conftest, test_service_containers) read the images from.
TEST_IMAGE_VARIABLES = {"redis": "ARB_TEST_REDIS_IMAGE", "postgres": "ARB_TEST_POSTGRES_IMAGE"}


def log(message: str) -> None:
    print(f"[docker-engine {time.strftime('%H:%M:%S')}] {message}", flush=True)


def work_dir() -> Path:
    return Path(os.environ.get("ARB_COMPOSE_TEST_DIR", "/tmp/cexarb-compose-test"))


def docker(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: exit {out.returncode}: {out.stderr[-2000:]}")
    return out


def answers() -> bool:
    if not shutil.which("docker"):
        return False
    with contextlib.suppress(subprocess.TimeoutExpired):
        return (
            docker("version", "--format", "{{.Server.Version}}", timeout=10, check=False).returncode
            == 0
        )
    return False


def host_network() -> bool:
    """True when a container started alone cannot publish ports (no default ``bridge``
    network, as on the private engine): the tests' containers then share the host's network
    and their servers listen on a free loopback port."""
    out = docker("network", "ls", "--filter", "name=^bridge$", "-q", check=False, timeout=30)
    return out.returncode == 0 and not out.stdout.strip()


@contextlib.contextmanager
def engine() -> Iterator[str | None]:
    """Yields None when an engine answers as configured, else the private engine's DOCKER_HOST
    (set in os.environ while it runs). Raises LookupError (the skip reason) when neither."""
    if answers():
        where = os.environ.get("DOCKER_HOST", "the default socket")
        log(f"using the Docker engine that answers on {where}")
        yield None
        return
    if not shutil.which("dockerd") or os.geteuid() != 0:
        raise LookupError("no Docker engine answers and none can be started here (needs root and "
                          "dockerd: apt-get install docker.io)")  # fmt: skip
    root = work_dir()
    root.mkdir(parents=True, exist_ok=True)
    host = f"unix://{root}/docker.sock"
    cmd = ["dockerd", "--host", host, "--data-root", str(root / "data"), "--exec-root",
           str(root / "exec"), "--pidfile", str(root / "docker.pid"), "--storage-driver", "vfs",
           "--bridge", "none", "--iptables=false"]  # fmt: skip
    log(f"starting a private Docker engine on {host}")
    with open(root / "dockerd.log", "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = host
    try:
        deadline = time.monotonic() + 60
        while not answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start; see {root / 'dockerd.log'}")
            time.sleep(0.5)
        yield host
    finally:
        log(f"stopping the private Docker engine (pid {proc.pid})")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous


def have(image: str) -> bool:
    return docker("image", "inspect", image, check=False, timeout=60).returncode == 0


def pulled(image: str) -> bool:
    if have(image):
        return True
    log(f"pulling {image}")
    return docker("pull", image, check=False, timeout=300).returncode == 0


def local_base(workdir: Path) -> None:
    """cexarb-base:bookworm: Debian bookworm minbase with Python 3.11, from the Debian mirror."""
    if have(LOCAL_BASE):
        return
    if not shutil.which("debootstrap"):
        raise LookupError(f"{PUBLIC_BASE} cannot be pulled and debootstrap is missing "
                          "(apt-get install debootstrap)")  # fmt: skip
    rootfs = workdir / "rootfs"
    log(f"{PUBLIC_BASE} cannot be pulled: making {LOCAL_BASE} with debootstrap (minutes)")
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,ca-certificates",
                    "bookworm", str(rootfs), "http://deb.debian.org/debian"], check=True,
                   capture_output=True, timeout=1200)  # fmt: skip
    extra = Path("/usr/local/share/ca-certificates")
    for cert in extra.glob("*.crt") if extra.is_dir() else []:
        shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
    subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True,
                   capture_output=True)  # fmt: skip
    certs = "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
    # The with closes our end of the pipe (else a ResourceWarning: an error under pytest).
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        subprocess.run(["docker", "import", "--change", certs, "--change", 'CMD ["/bin/bash"]',
                        "-", LOCAL_BASE], stdin=tar.stdout,
                       check=True, capture_output=True, timeout=600)  # fmt: skip
    shutil.rmtree(rootfs, ignore_errors=True)


def pinned_uv(workdir: Path) -> str:
    """A uv binary of the version the Dockerfile pins: the one on PATH when it is that
    version, else the one in PyPI's ``uv`` wheel of that version (PyPI is reachable where
    ghcr.io is not; the wheel carries the same release binary)."""
    pinned = PUBLIC_UV.rsplit(":", 1)[1]
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()
    if version[1:2] == [pinned]:
        return uv
    wheels = workdir / "uv-wheel"
    log(f"the uv on PATH is {' '.join(version)}; taking uv {pinned} from its PyPI wheel")
    # pip through uv (the project's .venv has no pip of its own)
    got = subprocess.run([uv, "tool", "run", "pip", "download", "--no-deps", "--only-binary",
                          ":all:", "--dest", str(wheels), f"uv=={pinned}"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    found = sorted(wheels.glob(f"uv-{pinned}-*.whl"))
    if got.returncode != 0 or not found:
        why = got.stderr.strip()[-300:]
        raise LookupError(f"{PUBLIC_UV} cannot be pulled, the local uv is {version} and uv "
                          f"{pinned} could not be downloaded: {why}")  # fmt: skip
    with zipfile.ZipFile(found[0]) as wheel:
        member = next(n for n in wheel.namelist() if n.endswith("/scripts/uv"))
        target = workdir / "uv-pinned"
        target.write_bytes(wheel.read(member))
    target.chmod(0o755)
    return str(target)


def local_uv(workdir: Path) -> None:
    """cexarb-uv:<pinned>: uv of the pinned version at /uv, as Astral's image has it."""
    if have(LOCAL_UV):
        return
    uv = pinned_uv(workdir)
    folder = workdir / "uv"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(uv, folder / "uv")
    with subprocess.Popen(["tar", "-C", str(folder), "-c", "uv"], stdout=subprocess.PIPE) as tar:
        subprocess.run(["docker", "import", "-", LOCAL_UV], stdin=tar.stdout, check=True,
                       capture_output=True, timeout=300)  # fmt: skip


def build_args(workdir: Path) -> list[str]:
    """--build-arg for the project image: the public bases when they pull, else local ones."""
    if pulled(PUBLIC_BASE) and pulled(PUBLIC_UV):
        return []
    local_base(workdir)
    local_uv(workdir)
    return ["--build-arg", f"BASE_IMAGE={LOCAL_BASE}", "--build-arg", f"UV_IMAGE={LOCAL_UV}"]


def project_image(workdir: Path) -> str:
    """cexarb:latest built from this work tree (a rebuild after a code edit takes only the
    last layers)."""
    started = time.monotonic()
    args = build_args(workdir)
    log(f"building {PROJECT_IMAGE} {' '.join(args) or '(public base images)'}")
    docker("build", "--network", "host", *args, "-t", PROJECT_IMAGE, str(ROOT), timeout=1800)
    log(f"image built in {time.monotonic() - started:.0f} s")
    return PROJECT_IMAGE


def public_image(name: str) -> str:
    """The public tag docker-compose.yml pins for ``name`` (a key of STAND_INS)."""
    variable = STAND_INS[name][0]
    found = re.search(
        r"\$\{" + variable + r":-([^}]+)\}", (ROOT / "docker-compose.yml").read_text()
    )
    if found is None:
        raise LookupError(f"docker-compose.yml has no ${{{variable}:-...}} image")
    return found.group(1)


def image(name: str, workdir: Path) -> str:
    """The compose file's image for ``name`` (a key of STAND_INS) when it pulls, else its
    local stand-in from Debian's packages (deploy/local/<name>.Dockerfile), built once."""
    _, local, dockerfile = STAND_INS[name]
    public = public_image(name)
    if pulled(public):
        return public
    if not have(local):
        local_base(workdir)
        log(f"{public} cannot be pulled: building {local}")
        docker("build", "--network", "host", "-f", str(LOCAL / dockerfile), "-t", local,
               str(LOCAL), timeout=900)  # fmt: skip
    return local


def sdk_answers() -> bool:
    """True when a Docker engine answers; never leaves a socket open (warnings are errors)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False
    client = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=2)
            client.ping()
            return True
        except Exception:
            return False
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()


def use_docker() -> bool:
    """The test session's Redis and PostgreSQL are containers: an engine answers and
    ARB_TEST_NO_DOCKER is not set."""
    return not os.environ.get("ARB_TEST_NO_DOCKER") and sdk_answers()


# Every container a test starts carries this label: make test-docker checks none is left.
TEST_LABEL = "org.cexarb.test"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bridgeless(client: Any) -> bool:
    """True when the engine has no default ``bridge`` network (the private engine's
    ``--bridge none``): a container started alone cannot publish a port, so it shares the
    host's network and its server listens on a free loopback port."""
    return not client.networks.list(names=["bridge"])


def loopback_server(
    image_name: str, default_port: int, command: Callable[[str, int], list[str]],
    env: dict[str, str] | None = None, **kwargs: Any,
) -> tuple[Any, int]:  # fmt: skip
    """A testcontainers container (not started) whose server answers on 127.0.0.1:<port>,
    the port returned and the same across restarts of the container: on a bridgeless engine
    the container is on the host's network and its server on a free port; else the server
    listens on ``default_port`` inside and that is published on the free loopback port.
    ``command(address, port)`` is the server's arguments for where it listens inside. Stop the
    container with ``.stop()`` (that removes it)."""
    from testcontainers.core.container import DockerContainer

    port = free_port()
    container = DockerContainer(image_name, env=env or {})
    if bridgeless(container.get_docker_client().client):
        container.with_kwargs(labels={TEST_LABEL: "1"}, network_mode="host", **kwargs)
        container.with_command(command("127.0.0.1", port))
    else:
        container.with_kwargs(labels={TEST_LABEL: "1"}, **kwargs)
        container.with_command(command("0.0.0.0", default_port))
        container.ports[str(default_port)] = ("127.0.0.1", port)  # type: ignore[assignment]
    return container, port


def leftover_containers() -> list[str]:
    return docker("ps", "-aq", "--filter", f"label={TEST_LABEL}", check=False).stdout.split()


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support_docker [--project-image] -- COMMAND...``: COMMAND with a Docker
    engine up (a private one when none answers, stopped afterwards), the Redis and PostgreSQL
    images it can run in ARB_TEST_REDIS_IMAGE / ARB_TEST_POSTGRES_IMAGE and, with
    --project-image, cexarb:latest built from this tree (ARB_TEST_PROJECT_IMAGE)."""
    parser = argparse.ArgumentParser(prog="python -m tests.support_docker")
    parser.add_argument("--project-image", action="store_true", help="build cexarb:latest")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --, e.g. -- pytest tests/integration/docker")
    try:
        with engine():
            env = dict(os.environ)
            for name, variable in TEST_IMAGE_VARIABLES.items():
                if not env.get(variable):  # the caller's choice stands
                    env[variable] = image(name, work_dir())
            if args.project_image:
                env["ARB_TEST_PROJECT_IMAGE"] = project_image(work_dir())
            log(f"running {' '.join(command)}")
            started = time.monotonic()
            code = subprocess.run(command, env=env, check=False).returncode
            log(f"exit {code} after {time.monotonic() - started:.0f} s")
            left = leftover_containers()
            if left:  # a test that did not remove its containers: say so, fail, clean up
                log(f"containers left by the tests (removing them): {left}")
                docker("rm", "-f", "-v", *left, check=False)
                code = code or 1
            return code
    except LookupError as exc:
        print(f"make test-docker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
