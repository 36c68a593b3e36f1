"""The peers' own environment: ``.bench-peers`` beside the checkout, pinned versions.

``ensure(path)`` makes the environment (uv when it is there, else ``python -m venv`` + pip) and
installs the pins into it, or says why it could not (no network, no uv/pip). The engine's
``.venv`` is never touched and the peers are no dependency of any package here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from arb_bench.peers import WORKER

# The versions the side-by-side figures were taken with: cryptofeed 2.4.1 is its last
# 2.x release; ccxt moves fast, so the 4.5 line is pinned to one release.
PINS = ("cryptofeed==2.4.1", "ccxt==4.5.90")
DEFAULT_PATH = Path(".bench-peers")
INSTALL_TIMEOUT_S = 600.0


@dataclass
class PeerEnv:
    python: str | None  # the environment's interpreter, None when it is not usable
    versions: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # why there are no peers, when python is None


def _uv() -> str | None:
    found = os.environ.get("UV") or shutil.which("uv")
    local = Path.home() / ".local" / "bin" / "uv"
    return found or (str(local) if local.is_file() else None)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                          check=False)  # fmt: skip


def versions(python: str) -> dict[str, str]:
    """What the environment has of the pinned packages (empty when it cannot say)."""
    try:
        out = _run([python, str(WORKER), "--versions"])
    except (OSError, subprocess.SubprocessError):
        return {}
    if out.returncode != 0:
        return {}
    found: dict[str, str] = json.loads(out.stdout)
    return found


def _satisfied(found: dict[str, str]) -> bool:
    return all(found.get(pin.split("==")[0]) == pin.split("==")[1] for pin in PINS)


def ensure(path: Path = DEFAULT_PATH) -> PeerEnv:
    """The peer environment at ``path`` with the pins installed, made when missing."""
    python = path / "bin" / "python"
    if python.is_file() and _satisfied(found := versions(str(python))):
        return PeerEnv(str(python), found)
    uv = _uv()
    steps = []
    if not python.is_file():
        steps.append([uv, "venv", "--quiet", "--python", sys.executable, str(path)] if uv
                     else [sys.executable, "-m", "venv", str(path)])  # fmt: skip
    steps.append([uv, "pip", "install", "--quiet", "--python", str(python), *PINS] if uv
                 else [str(python), "-m", "pip", "install", "--quiet", *PINS])  # fmt: skip
    try:
        for step in steps:
            done = _run(step)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                return PeerEnv(None, reason=f"{' '.join(step[:3])} failed: {tail[0]}")
    except (OSError, subprocess.SubprocessError) as exc:
        return PeerEnv(None, reason=f"cannot install the peers into {path}: {exc}")
    found = versions(str(python))
    if not _satisfied(found):
        return PeerEnv(None, reason=f"{path}: has {found or 'nothing'} after installing "
                       f"{', '.join(PINS)}")  # fmt: skip
    return PeerEnv(str(python), found)
