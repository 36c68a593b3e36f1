"""The live view of arb run: no escape code into a pipe, colour on a terminal unless NO_COLOR
(a real pipe and a real pseudo-terminal)."""

from __future__ import annotations

import os

import pytest
from arb_cli.live_view import CLEAR, LiveView, render

pytestmark = pytest.mark.unit

STATUS = {"books": [{"venue": "okx", "symbol": "BTC-USDT", "state": "LIVE"}],
          "kill_switch": {"engaged": False}}  # fmt: skip
SCORED = {"latency_ms": {"ws_to_book": {"p50": 1.0, "p99": 2.0}}, "detected": 1, "executed": 1,
          "refused": 0, "missed": 0, "failed": 0, "unhedged": 0, "pnl_quote": "1", "injected": 1,
          "injected_detectable": 1, "injected_detected": 1}  # fmt: skip


def shown(view: LiveView, read_fd: int) -> str:
    screen = render(STATUS, {"okx": 10}, SCORED, [], ["every book LIVE after 1.0s"], 1.0,
                    view.colour)  # fmt: skip
    view.events(["every book LIVE after 1.0s"], 1.0)
    view.show(screen, "dashboard: http://127.0.0.1:8765/")
    view.stream.flush()
    return os.read(read_fd, 65536).decode()


@pytest.mark.parametrize("no_color", ["", "1"])
def test_a_terminal_is_redrawn_and_coloured_unless_no_color(monkeypatch, no_color) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setenv("TERM", "xterm")
    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as terminal:
        text = shown(LiveView(terminal), primary)
    os.close(primary)
    assert text.startswith(CLEAR) and "every book LIVE after 1.0s" in text
    assert ("\x1b[32mLIVE" in text) is (not no_color), text


@pytest.mark.parametrize("where", ["pipe", "dumb terminal"])
def test_a_pipe_or_a_dumb_terminal_gets_plain_lines(monkeypatch, where) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "dumb" if where == "dumb terminal" else "xterm")
    read_fd, write_fd = os.pipe() if where == "pipe" else os.openpty()
    with os.fdopen(write_fd, "w") as stream:
        view = LiveView(stream)
        text = shown(view, read_fd)
        view.events(["every book LIVE after 1.0s", "book exited with 2"], 2.0)
        text += os.read(read_fd, 65536).decode()
    os.close(read_fd)
    assert "\x1b" not in text
    assert text.replace("\r\n", "\n") == ("[    1.0s] every book LIVE after 1.0s\n"
                                          "[    2.0s] book exited with 2\n")  # fmt: skip


def test_the_reason_shown_is_the_last_log_line_a_json_one_as_level_and_message(tmp_path):
    from arb_cli.supervisor import Child

    log = tmp_path / "book.log"
    child = Child("book", [], {}, log)
    assert child.last_line() == ""  # no log yet
    log.write_text('{"ts":"t","level":"ERROR","service":"book","msg":"Redis went away"}\n\n')
    assert child.last_line() == "ERROR Redis went away"
    log.write_text("Traceback (most recent call last):\n  ...\nValueError: " + "x" * 300 + "\n")
    assert child.last_line().startswith("ValueError: xxx") and len(child.last_line()) == 160
