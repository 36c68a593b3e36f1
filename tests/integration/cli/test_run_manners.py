"""arb run and the services as a new user meets them (issue 18's friction list), as real
processes: settings refused up front with one line and exit 2, one /metrics port per
process, plain lines into a pipe, a .env file and a secrets folder whose secrets reach only
the process that needs them and never an output or a log. The whole run is `make test-run`
(ARB_TEST_RUN=1): its start alone takes 10 s or more on a loaded 2-core box."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from arb_cli.metrics_ports import HIGHEST_OFFSET, INGEST_FIRST, OFFSETS
from arb_cli.supervisor import Supervisor
from arb_runtime.embedded import free_port
from arb_venues import VENUE_NAMES

from tests.support_proc import reap

pytestmark = pytest.mark.integration

CANARY = "canary-91d2be"
RUN = ["run", "--venues", "binance", "--symbols", "BTC-USDT", "--rate", "5"]


def clean_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARB_")} | extra


def arb(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arb_cli", *args], capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def free_base() -> int:
    """A base port whose every offset is free now."""
    for _ in range(50):
        base = free_port()
        if base + HIGHEST_OFFSET > 65535:
            continue
        probes = [socket.socket() for _ in range(HIGHEST_OFFSET + 1)]
        try:
            for i, probe in enumerate(probes):
                probe.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise AssertionError("no run of free ports")


def test_arb_run_refuses_a_typo_with_one_line_before_starting_anything(tmp_path) -> None:
    result = arb(*RUN, "--duration", "1", "--data-dir", str(tmp_path),
                 env=clean_env(ARB_METRCS_PORT="9311"))  # fmt: skip
    assert one_line(result).startswith(
        "arb run: ARB_METRCS_PORT: no such setting (did you mean 'ARB_METRICS_PORT'?)"
    )
    assert not (tmp_path / "logs").exists() and not (tmp_path / "redis").exists()  # none started


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something listens on, the book's of a base whose other ports are free."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_base() + OFFSETS["book"]))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ARB_DETECTOR_MIN_EDGE_BPS", "lots", "detector: ARB_DETECTOR_MIN_EDGE_BPS='lots': Input "
         "should be a valid number"),
        ("ARB_EXECUTOR_MAX_NOTIONL", "5", "ARB_EXECUTOR_MAX_NOTIONL: no such setting (did you "
         "mean 'ARB_EXECUTOR_MAX_NOTIONAL'?)"),
        ("ARB_BOOKS_VENUES", "okx", "ARB_BOOKS_VENUES: no such setting (did you mean "
         "'ARB_BOOK_VENUES'?)"),
        ("ARB_TAKER_FEES__BINNANCE", "0.001", "simulator: ARB_TAKER_FEES: unknown venue "
         "'binnance' (did you mean 'binance'?)"),
        ("ARB_LOG_LEVEL", "verbose", "simulator: ARB_SIMULATOR_LOG_LEVEL (or ARB_LOG_LEVEL)="
         "'verbose': Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("ARB_METRICS_PORT", "base + 1 taken", "ARB_METRICS_PORT={base}: port {port} (book, base "
         "+ 1) on 127.0.0.1: "),
        ("ARB_DASHBOARD_PORT", "taken", "ARB_DASHBOARD_PORT={port} on 127.0.0.1: in use; choose "
         "another port, or unset it"),
    ],
)  # fmt: skip
def test_every_setting_arb_run_would_start_with_is_checked_first(
    tmp_path, monkeypatch, taken_port, variable, value, expected
) -> None:
    """What arb run checks before it starts anything (one line, exit 2 as above): every
    variable's name, every child's settings with the env it would get, the ports it claims."""
    from arb_cli.main import build_parser
    from arb_cli.run import preflight
    from arb_runtime.errors import ConfigError

    for name in [n for n in os.environ if n.startswith("ARB_")]:
        monkeypatch.delenv(name)
    base = taken_port - OFFSETS["book"]
    value = {"taken": str(taken_port), "base + 1 taken": str(base)}.get(value, value)
    monkeypatch.setenv(variable, value)
    args = build_parser().parse_args([*RUN, "--data-dir", str(tmp_path)])
    with pytest.raises(ConfigError) as refused:
        preflight(args, ["binance"], ["BTC-USDT"], base if "METRICS" in variable else 0, tmp_path)
    message = str(refused.value)
    assert message.startswith(expected.format(base=base, port=taken_port)), message
    assert "\n" not in message


def test_going_live_without_keys_is_refused_before_anything_starts(tmp_path, monkeypatch):
    """What the executor would refuse at its start (and arb run then crash-loop on): live mode
    on real venues without credentials; with the simulator its test accounts are used."""
    from arb_cli.main import build_parser
    from arb_cli.run import preflight
    from arb_runtime.errors import ConfigError

    for name in [n for n in os.environ if n.startswith("ARB_")]:
        monkeypatch.delenv(name)
    parser = build_parser()
    live = ["run", "--mode", "live", "--venues", "binance", "--data-dir", str(tmp_path)]
    with pytest.raises(ConfigError) as refused:
        preflight(parser.parse_args([*live, "--no-sim"]), ["binance"], ["BTC-USDT"], 0, tmp_path)
    assert str(refused.value).startswith(
        "executor: ARB_EXECUTOR_MODE=live but no credentials: set ARB_EXECUTOR_CREDENTIALS__"
    )
    preflight(parser.parse_args(live), ["binance"], ["BTC-USDT"], 0, tmp_path)  # the simulator's


def test_a_service_refuses_a_shared_typo_with_one_line() -> None:
    typo = subprocess.run([sys.executable, "-m", "arb_book"], capture_output=True, text=True,
                          timeout=60, env=clean_env(ARB_METRCS_PORT="9100"))  # fmt: skip
    assert one_line(typo).startswith(
        "book: ARB_METRCS_PORT: no such setting (did you mean 'ARB_METRICS_PORT'?)"
    )


async def test_a_service_whose_metrics_port_is_taken_says_which_variable_to_change(
    redis_url, taken_port
) -> None:
    """One ARB_METRICS_PORT for several services on one host: the second to bind it gets one
    line naming its own variable (run_service prints it and exits 2)."""
    from arb_book.config import BookSettings
    from arb_runtime.errors import ConfigError
    from arb_runtime.service import serve

    settings = BookSettings(redis_url=redis_url, metrics_port=taken_port, redis_wait_s=0)

    async def main(_: object) -> None:
        raise AssertionError("started on a taken port")

    with pytest.raises(ConfigError) as refused:
        await serve("book", settings, main)
    assert str(refused.value) == (
        f"ARB_BOOK_METRICS_PORT (or ARB_METRICS_PORT)={taken_port} on 127.0.0.1: address "
        "already in use; give each process on this host its own port (ARB_BOOK_METRICS_PORT), "
        "or 0 to turn /metrics off"
    )


def test_a_missing_redis_url_says_where_to_find_it(monkeypatch, capsys) -> None:
    from arb_cli.main import main

    monkeypatch.delenv("ARB_REDIS_URL", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["status"])
    line = capsys.readouterr().err
    assert done.value.code == 2 and line.count("\n") == 1
    assert line.startswith("arb status: ARB_REDIS_URL is not set")
    # what it points at is true: arb run's first line (make test-run checks it)
    assert "its first line (arb run: Redis redis://...)" in line
    monkeypatch.setenv("ARB_REDIS_ULR", "redis://127.0.0.1:6379/0")  # the typo, not "not set"
    with pytest.raises(SystemExit) as typo:
        main(["status"])
    assert typo.value.code == 2 and capsys.readouterr().err.startswith(
        "arb status: ARB_REDIS_ULR: no such setting (did you mean 'ARB_REDIS_URL'?)"
    )


def test_a_process_that_exited_shows_its_last_log_line_and_its_log(tmp_path: Path) -> None:
    from arb_cli.live_view import process_lines

    supervisor = Supervisor(tmp_path, restart_backoff_s=60)
    said = "detector: ARB_DETECTOR_MIN_EDGE_BPS='lots': Input should be a valid number"
    child = supervisor.add("detector", ["-c", f"import sys; print('starting'); sys.exit({said!r})"],
                           {})  # fmt: skip
    steady = supervisor.add("book", ["-c", "import time; time.sleep(30)"], {})
    try:
        deadline = time.monotonic() + 20
        while child.alive and time.monotonic() < deadline:
            time.sleep(0.02)
        lines = process_lines(supervisor.children, colour=False)
        supervisor.restart_backoff_s = 0.0
        events = supervisor.check()
    finally:
        supervisor.stop_all()
    assert lines[0].split() == ["detector", "DOWN", "restarts", "0"]
    assert lines[1] == f"      exited 1: {said}"
    assert lines[2] == f"      log {tmp_path / 'detector.log'}"
    assert lines[3].split() == ["book", "up", "restarts", "0"] and len(lines) == 4
    assert steady.restarts == 0
    assert events == [f"detector exited with 1: {said}; restarted (#1); log {child.log_path}"]


def test_a_crash_loop_is_named_with_its_reason_and_log_and_makes_arb_run_exit_1(tmp_path):
    from arb_cli.run import crash_lines

    supervisor = Supervisor(tmp_path, restart_backoff_s=0.01)
    supervisor.add("detector", ["-c", "import sys; sys.exit('detector: Redis went away')"], {})
    supervisor.add("book", ["-c", "import time; time.sleep(30)"], {})
    try:
        deadline = time.monotonic() + 30
        while not supervisor.crash_looped() and time.monotonic() < deadline:
            supervisor.check()
            time.sleep(0.02)
        lines = crash_lines(supervisor)
    finally:
        supervisor.stop_all()
    log = tmp_path / "detector.log"
    assert lines == [f"arb run: detector crash-looped (3 restarts, exit codes [1, 1, 1]): "
                     f"detector: Redis went away; its log: {log}"]  # fmt: skip


def _children(parent: int) -> dict[str, dict[str, str]]:
    """The environment of each child process of ``parent``, by its ``-m`` module."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != parent:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            raw = (entry / "environ").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        module = argv[argv.index(b"-m") + 1].decode() if b"-m" in argv else argv[0].decode()
        pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
        out[module] = {k.decode(): v.decode(errors="replace") for k, v in pairs}
    return out


def _healthz(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            result: dict[str, object] = json.loads(answer.read())
            return result
    except (OSError, ValueError):
        return None


@pytest.mark.skipif(
    os.environ.get("ARB_TEST_RUN") != "1",
    reason="a whole arb run (~20 s here): `make test-run` (ARB_TEST_RUN=1); the checks above "
    "are its short version in make test",
)
def test_arb_run_gives_each_process_its_own_metrics_port_from_a_env_file_and_keeps_secrets(
    tmp_path: Path,
) -> None:
    base = free_base()
    env_file = tmp_path / "arb.env"
    env_file.write_text(f"ARB_METRICS_PORT={base}\nCOMPOSE_PROJECT_NAME=cexarb\n")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "arb_dashboard_kill_token").write_text(CANARY + "-token\n")
    (secrets / "arb_executor_credentials__binance__api_key").write_text(CANARY + "-key\n")
    (secrets / "arb_executor_credentials__binance__secret").write_text(CANARY + "-secret\n")
    env = clean_env(ARB_ENV_FILE=str(env_file), ARB_SECRETS_DIR=str(secrets),
                    ARB_DASHBOARD_PORT=str(free_port()))  # fmt: skip
    expected = {"simulator": base, "book": base + 1, "detector": base + 2, "executor": base + 3,
                "recorder": base + 4, "dashboard": base + 6,
                "ingest": base + INGEST_FIRST + VENUE_NAMES.index("binance")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_cli", *RUN, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        start = [proc.stderr.readline() for _ in range(3)]
        assert start[0].startswith("arb run: Redis redis://127.0.0.1:"), start
        redis_url = start[0].split()[3]
        assert f"; logs in {tmp_path / 'logs'}/" in start[0], start
        assert start[1].startswith("dashboard: http://127.0.0.1:") and "(kill switch: your " \
            "ARB_DASHBOARD_KILL_TOKEN)" in start[1], start  # fmt: skip
        by_port = sorted(expected.items(), key=lambda item: item[1])
        shown = ", ".join(f"{'ingest-binance' if n == 'ingest' else n} {p}" for n, p in by_port)
        assert start[2].startswith(f"arb run: /metrics on 127.0.0.1: {shown} (Prometheus "), start
        targets = json.loads(Path(start[2].split("targets: ")[1].rstrip(")\n")).read_text())
        assert {g["labels"]["job"]: g["targets"] for g in targets} == {
            ("ingest-binance" if n == "ingest" else n): [f"127.0.0.1:{p}"] for n, p in by_port
        }
        deadline = time.monotonic() + 60
        answered: dict[str, object] = {}
        while len(answered) < len(expected) and time.monotonic() < deadline:
            for name, port in expected.items():
                health = answered.get(name) or _healthz(port)
                if health:
                    answered[name] = health
            time.sleep(0.2)
        assert {n: h["service"] for n, h in answered.items()} == {n: n for n in expected}  # type: ignore[index]
        status = json.loads(arb("status", "--json", env=clean_env(ARB_REDIS_URL=redis_url)).stdout)
        urls = {s["service"]: s["metrics_url"] for s in status["services"]}
        assert urls == {n: f"http://127.0.0.1:{p}/metrics" for n, p in expected.items()
                        if n != "simulator"}  # fmt: skip
        children = _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        reap(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "\x1b" not in out and "\nsummary: {" in out  # a pipe: plain lines, then the summary
    # the secrets reached the process that needs each, no other, and no output or log
    holders = {m: sorted(k for k, v in e.items() if CANARY in v) for m, e in children.items()}
    assert holders.pop("arb_dashboard") == ["ARB_DASHBOARD_KILL_TOKEN"]
    assert holders.pop("arb_executor") == ["ARB_EXECUTOR_CREDENTIALS__BINANCE__API_KEY",
                                           "ARB_EXECUTOR_CREDENTIALS__BINANCE__SECRET"]  # fmt: skip
    assert set(holders) >= {"arb_book", "arb_detector", "arb_ingest", "arb_recorder",
                            "arb_simulator"} and not any(holders.values()), holders  # fmt: skip
    assert not [m for m, e in children.items() if "ARB_SECRETS_DIR" in e or "ARB_ENV_FILE" in e]
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").rglob("*.log"))
    assert CANARY not in out + "".join(start) + err + logs
