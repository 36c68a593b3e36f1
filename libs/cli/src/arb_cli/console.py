"""The operator's console under ``arb run``: the recorder (trade history into the run's data
folder), the dashboard and, when an alert sink is configured, the alerter, as supervised
children like the engine's services.

At the end of a run the detector and the executor stop first (nothing more is recorded), the
recorder is given the time to write what is left, then the summary is taken: so ``arb trades``
afterwards lists exactly the executions the summary counted.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arb_dashboard.config import DEFAULT_PORT
from arb_history.config import DATABASE_FILE, DB_URL_VARIABLE, sqlite_url
from arb_history.database import shown_url
from arb_runtime.errors import ConfigError
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    OPPORTUNITIES_STREAM,
    RECORDER_GROUP,
)
from redis.exceptions import RedisError

from arb_cli.supervisor import Supervisor

PORT_VARIABLE = "ARB_DASHBOARD_PORT"

CONSOLE_SERVICES = ("recorder", "alerter", "dashboard")
RECORDED_STREAMS = (EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, EXPOSURE_STREAM)
# The alerter runs under arb run once one of these names somewhere to send alerts to (its log
# alone would only repeat what the dashboard shows).
ALERT_SINK_VARIABLES = ("ARB_ALERTER_WEBHOOK_URL", "ARB_ALERTER_TELEGRAM_BOT_TOKEN")


@dataclass(frozen=True)
class Console:
    dashboard_url: str  # without the token
    token: str
    database_url: str
    token_given: bool = False  # the operator's ARB_DASHBOARD_KILL_TOKEN: a secret, not shown

    @property
    def database_shown(self) -> str:
        """The database URL with its password masked, for summaries and logs."""
        return shown_url(self.database_url)

    @property
    def login_url(self) -> str:
        """The URL to open: the page reads the kill switch token from the fragment, which a
        browser never sends to a server. A token the operator gave is theirs to type in:
        it is never printed."""
        if self.token_given:
            return f"{self.dashboard_url} (kill switch: your ARB_DASHBOARD_KILL_TOKEN)"
        return f"{self.dashboard_url}#token={self.token}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _pick_port(host: str) -> int:
    if _port_free(host, DEFAULT_PORT):  # the dashboard's own default, when it is free
        return DEFAULT_PORT
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _dashboard_port(host: str) -> int:
    """ARB_DASHBOARD_PORT when set (refused now if it is not a port or is taken: the
    dashboard would only crash-loop on it), else 8765 or a free port."""
    raw = os.environ.get(PORT_VARIABLE, "").strip()
    if not raw:
        return _pick_port(host)
    if not raw.isdigit() or not 0 < int(raw) <= 65535:
        raise ConfigError(f"{PORT_VARIABLE}={raw!r}: not a port; set 1..65535, or unset it "
                          "and arb run picks 8765 or a free one")  # fmt: skip
    if not _port_free(host, int(raw)):
        raise ConfigError(f"{PORT_VARIABLE}={raw} on {host}: in use; choose another port, or "
                          "unset it and arb run picks a free one")  # fmt: skip
    return int(raw)


# The console yields the CPU to the trading path (a 2-core box runs both): its processes run at
# a lower priority; they only ever fall behind for a moment, and the recorder catches up.
CONSOLE_NICENESS = 10


def start_console(
    supervisor: Supervisor, redis_url: str, data_dir: Path, *, log_level: str = "WARNING",
    recorder_niceness: int = CONSOLE_NICENESS,
) -> Console:  # fmt: skip
    """Recorder, dashboard (and alerter) under ``supervisor``; the history database defaults to
    ``trades.sqlite`` in ``data_dir``, the dashboard to port 8765 (else a free one) with a
    kill switch token made for this run unless ARB_DASHBOARD_KILL_TOKEN gives one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get(DB_URL_VARIABLE) or sqlite_url(data_dir.resolve() / DATABASE_FILE)
    base = {"ARB_REDIS_URL": redis_url, "ARB_LOG_LEVEL": log_level,
            "ARB_DATA_DIR": str(data_dir), DB_URL_VARIABLE: database_url}  # fmt: skip
    supervisor.add("recorder", ["-m", "arb_recorder"], base, niceness=recorder_niceness)
    if any(os.environ.get(name) for name in ALERT_SINK_VARIABLES):
        # its sink credentials (a Telegram bot token) come from our environment: let them through
        supervisor.add("alerter", ["-m", "arb_alerter"], base, credentials=["ARB_ALERTER_"],
                       niceness=CONSOLE_NICENESS)  # fmt: skip
    host = os.environ.get("ARB_DASHBOARD_HOST") or "127.0.0.1"
    port = _dashboard_port(host)
    given = os.environ.get("ARB_DASHBOARD_KILL_TOKEN")
    token = given or secrets.token_urlsafe(18)
    supervisor.add("dashboard", ["-m", "arb_dashboard"], {
        **base, "ARB_DASHBOARD_HOST": host, PORT_VARIABLE: str(port),
        "ARB_DASHBOARD_KILL_TOKEN": token,
    }, niceness=CONSOLE_NICENESS)  # fmt: skip
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return Console(f"http://{shown}:{port}/", token, database_url, token_given=bool(given))


async def recorder_written(redis: Any) -> bool | None:
    """True when the recorder has committed every entry of the recorded streams: nothing
    pending in its group and nothing after its last delivered id (None: no group yet)."""
    for stream in RECORDED_STREAMS:
        try:
            if not await redis.exists(stream):
                continue
            groups = {
                (g["name"].decode() if isinstance(g["name"], bytes) else g["name"]): g
                for g in await redis.xinfo_groups(stream)
            }
            group = groups.get(RECORDER_GROUP)
            if group is None:
                return None
            last = group["last-delivered-id"]
            last = last.decode() if isinstance(last, bytes) else last
            if group["pending"] or await redis.xrange(stream, min=f"({last}", max="+", count=1):
                return False
        except RedisError:
            return None
    return True


async def history_written(redis: Any, hurry: asyncio.Event, timeout_s: float = 20.0) -> bool:
    """Once the detector and the executor have stopped (nothing more is recorded), wait until
    the recorder has written everything: True when it has; False at the timeout, or 1 s after
    ``hurry`` (the rest is written the next time a recorder runs: entries stay in its group)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await recorder_written(redis):
            return True
        if hurry.is_set():
            deadline = min(deadline, time.monotonic() + 1.0)
        await asyncio.sleep(0.1)
    return False
