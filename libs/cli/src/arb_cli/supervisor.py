"""Child processes of ``arb run``: started with their env, logs to files, restarted on death."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    exit_codes: list[int] = field(default_factory=list)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, *self.args], env={**os.environ, **self.env},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    """Restarts a child that dies (with a growing pause), and remembers that it did."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def add(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        child = Child(name, args, env, self.log_dir / f"{name}.log")
        child.start()
        self.children.append(child)
        return child

    def check(self) -> list[str]:
        """Restart dead children; returns a line for each restart."""
        events = []
        for child in self.children:
            if child.proc is None or child.alive:
                continue
            code = child.proc.returncode
            if time.monotonic() - child.started_at < min(30.0, 2.0 * 2**child.restarts):
                continue  # back off before restarting a crash-looping child
            child.exit_codes.append(code)
            child.restarts += 1
            events.append(f"{child.name} exited with {code}; restarted (#{child.restarts})")
            child.start()
        return events

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc is not None and child.proc.poll() is None:
                child.proc.terminate()
        for child in reversed(self.children):
            child.stop()
