"""Child processes of ``arb run``: started with their env, logs to files, restarted on death.

Every child runs in its own process group, so the terminal's Ctrl-C (SIGINT to the
foreground group) reaches ``arb run`` alone, which stops the children in order; and each
gets PR_SET_PDEATHSIG, so none outlives an ``arb run`` that was SIGKILLed.

Credentials reach only the children that need them: a variable of ours that looks like a
credential (``ARB_*`` with KEY, SECRET, PASSPHRASE, PASSWORD, TOKEN or CREDENTIAL in its
name, e.g. ``ARB_EXECUTOR_CREDENTIALS__BINANCE__API_KEY``) is passed from the environment
only to a child that lists its prefix in ``credentials`` (the executor:
``ARB_EXECUTOR_``); the env a child is given explicitly is always passed. ``arb`` has read
ARB_ENV_FILE and ARB_SECRETS_DIR into its environment already, so a child gets their
variables (as filtered above), not the file names: it would read every secret back.

A supervisor made with ``check_settings`` loads a service child's settings with the env it
is about to get before starting it (arb_cli.settings_check): a bad one is a ConfigError
then, not a crash loop. With ``metrics_base`` each child gets its own /metrics port
(arb_cli.metrics_ports).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from arb_core.variables import ENV_FILE, SECRETS_DIR, is_credential
from arb_runtime.embedded import die_with_parent

from arb_cli import metrics_ports, settings_check

# A child restarted this many times is crash-looping: `arb run` exits non-zero.
CRASH_LOOP_RESTARTS = 3


def child_environment(
    extra: Mapping[str, str], credentials: Sequence[str] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a child: ``base`` (default: ours) without the credentials the child
    may not see (those of no prefix in ``credentials``), then ``extra``."""
    allowed = tuple(prefix.upper() for prefix in credentials)
    source = os.environ if base is None else base
    env = {
        name: value
        for name, value in source.items()
        if (not is_credential(name) or any(name.upper().startswith(p) for p in allowed))
        and name.upper() not in (ENV_FILE, SECRETS_DIR)
    }
    env.update(extra)
    return env


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    credentials: tuple[str, ...] = ()
    niceness: int = 0  # added to the child's scheduling niceness (lower priority)
    metrics_port: int | None = None  # its /metrics port under arb run (arb_cli.metrics_ports)
    # run through this command, e.g. ("ip", "netns", "exec", "host2"): another host's network
    prefix: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    killed: int = 0  # deaths we caused on purpose (``Supervisor.kill``): restarts, not crashes
    started_at: float = 0.0
    exit_codes: list[int] = field(default_factory=list)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, *self.args],
            env=child_environment(self.env, self.credentials),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            process_group=0, preexec_fn=self._before_exec,
        )  # fmt: skip
        log.close()
        self.started_at = time.monotonic()

    def _before_exec(self) -> None:  # in the child, between fork and exec
        die_with_parent()
        if self.niceness:
            os.nice(self.niceness)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive and self.proc is not None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True if it stopped without the kill."""
        if self.proc is None or self.proc.poll() is not None:
            return True
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return False

    @property
    def crashes(self) -> int:
        """Restarts after a death we did not cause."""
        return self.restarts - self.killed

    def tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def last_line(self, limit: int = 160) -> str:
        """The last line its log holds (why it exited, when it said so), cut to ``limit``; a
        JSON log line as its level and message."""
        lines = [line.strip() for line in self.tail(20).splitlines() if line.strip()]
        line = lines[-1] if lines else ""
        if line.startswith("{"):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                entry = json.loads(line)
                line = f"{entry['level']} {entry['msg']}" if "msg" in entry else line
        return line if len(line) <= limit else line[: limit - 3] + "..."


class Supervisor:
    """Restarts a child that dies (with a pause that grows with its crashes), and remembers
    that it did. A child killed on purpose (``kill``, as ``arb chaos`` does) is restarted on
    the next check without a pause and is not counted as crashing."""

    def __init__(
        self, log_dir: Path, restart_backoff_s: float = 2.0, *, check_settings: bool = False,
        metrics_base: int = 0, dry_run: bool = False,
    ) -> None:  # fmt: skip
        self.log_dir = log_dir
        self.dry_run = dry_run  # add() checks and records, starts nothing (arb run's preflight)
        self.check_settings = check_settings
        self.metrics_base = metrics_base
        self.restart_backoff_s = restart_backoff_s  # doubles per restart, at most 30 s
        self.children: list[Child] = []
        self._killing: set[str] = set()  # killed on purpose, not restarted yet

    def add(
        self, name: str, args: list[str], env: dict[str, str], *,
        credentials: Sequence[str] = (), niceness: int = 0, prefix: Sequence[str] = (),
    ) -> Child:  # fmt: skip
        """Start a child; ``credentials``: prefixes of the credential variables it may see;
        ``niceness``: how much lower its CPU priority is than ours; ``prefix``: the command
        it runs through (``Child.prefix``)."""
        if self.metrics_base:
            env = {**env, **metrics_ports.claim(name, self.metrics_base)}
        if self.check_settings:
            settings_check.check_child(name, args, child_environment(env, credentials))
        child = Child(name, args, env, self.log_dir / f"{name}.log", tuple(credentials),
                      niceness, metrics_ports.port_for(name, self.metrics_base, env),
                      tuple(prefix))  # fmt: skip
        if not self.dry_run:
            child.start()
        self.children.append(child)
        return child

    def named(self, names: Iterable[str]) -> list[Child]:
        wanted = set(names)
        return [c for c in self.children if c.name in wanted]

    def check(self) -> list[str]:
        """Restart dead children; returns a line for each restart."""
        events = []
        for child in self.children:
            if child.proc is None or child.alive:
                continue
            code = child.proc.returncode
            deliberate = child.name in self._killing
            pause = 0.0 if deliberate else min(30.0, self.restart_backoff_s * 2**child.crashes)
            if time.monotonic() - child.started_at < pause:
                continue  # back off before restarting a crash-looping child
            child.exit_codes.append(code)
            child.restarts += 1
            if deliberate:
                self._killing.discard(child.name)
                child.killed += 1
            said = child.last_line()
            events.append(f"{child.name} exited with {code}" + (f": {said}" if said else "")
                          + f"; restarted (#{child.restarts}); log {child.log_path}")  # fmt: skip
            child.start()
        return events

    def kill(self, name: str) -> bool:
        """SIGKILL the child ``name`` (a crash, on purpose): the next ``check`` restarts it at
        once and counts it in ``killed``, not in its crashes. False if it was not running."""
        for child in self.named([name]):
            if child.alive and child.proc is not None:
                self._killing.add(name)
                child.proc.kill()
                child.proc.wait()
                return True
        return False

    def crash_looped(self) -> list[Child]:
        """Children that crashed (died without ``kill``) CRASH_LOOP_RESTARTS times or more."""
        return [c for c in self.children if c.crashes >= CRASH_LOOP_RESTARTS]

    def stop_all(self, timeout: float = 5.0) -> list[str]:
        """SIGTERM every child still running (last started first), then wait for each;
        returns the names of those that had to be killed."""
        for child in reversed(self.children):
            child.signal(signal.SIGTERM)
        return [c.name for c in reversed(self.children) if not c.stop(timeout)]
