"""A Docker engine for the compose test: the one that answers, else a private one started here.

A private engine (root and ``dockerd`` on PATH, Debian's ``docker.io``) runs on its own socket,
data root and exec root under ``ARB_COMPOSE_TEST_DIR`` (default /tmp/cexarb-compose-test), with
``--bridge none --iptables=false``: no docker0 and no host firewall change; compose's own
network still works (a user-defined bridge with its DNS). It is stopped by its PID. Images it
cannot pull are made locally: the base by ``debootstrap`` + ``docker import`` (the machine's
extra CA certificates copied in, so builds trust the same package mirrors), uv from the uv
binary on PATH. The data root is kept between runs so a second run reuses the images.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

PUBLIC_BASE = "python:3.11.11-slim-bookworm"
PUBLIC_UV = "ghcr.io/astral-sh/uv:0.13.9"
LOCAL_BASE = "cexarb-base:bookworm"
LOCAL_UV = "cexarb-uv:0.13.9"
LOCAL_REDIS = "cexarb-redis:local"


def log(message: str) -> None:
    print(f"[compose-test {time.strftime('%H:%M:%S')}] {message}", flush=True)


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
    root = Path(os.environ.get("ARB_COMPOSE_TEST_DIR", "/tmp/cexarb-compose-test"))
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
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    certs = "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
    subprocess.run(["docker", "import", "--change", certs, "--change", 'CMD ["/bin/bash"]',
                    "-", LOCAL_BASE], stdin=tar.stdout,
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)


def local_uv(workdir: Path) -> None:
    """cexarb-uv:0.13.9: the uv binary on PATH at /uv, as Astral's image has it."""
    if have(LOCAL_UV):
        return
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()
    if version[1:2] != [PUBLIC_UV.rsplit(":", 1)[1]]:
        raise LookupError(f"{PUBLIC_UV} cannot be pulled and the local uv is {version}")
    folder = workdir / "uv"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(uv, folder / "uv")
    tar = subprocess.Popen(["tar", "-C", str(folder), "-c", "uv"], stdout=subprocess.PIPE)
    subprocess.run(["docker", "import", "-", LOCAL_UV], stdin=tar.stdout, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    tar.wait()


def build_args(workdir: Path) -> list[str]:
    """--build-arg for the project image: the public bases when they pull, else local ones."""
    if pulled(PUBLIC_BASE) and pulled(PUBLIC_UV):
        return []
    local_base(workdir)
    local_uv(workdir)
    return ["--build-arg", f"BASE_IMAGE={LOCAL_BASE}", "--build-arg", f"UV_IMAGE={LOCAL_UV}"]


def redis_image(root: Path, workdir: Path) -> str:
    """The compose file's Redis image, or the local stand-in (deploy/local/redis.Dockerfile)."""
    public = "redis:7.4.1-alpine"
    if pulled(public):
        return public
    if not have(LOCAL_REDIS):
        local_base(workdir)
        log(f"{public} cannot be pulled: building {LOCAL_REDIS}")
        docker("build", "--network", "host", "-f", str(root / "deploy/local/redis.Dockerfile"),
               "-t", LOCAL_REDIS, str(root / "deploy/local"), timeout=900)  # fmt: skip
    return LOCAL_REDIS
