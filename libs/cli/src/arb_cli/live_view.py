"""The live view of ``arb run``: one screen redrawn every second on a terminal, plain lines in
a pipe or a file.

On a terminal (and ``TERM`` is not ``dumb``) the screen is cleared and drawn again each turn,
with colour unless ``NO_COLOR`` is set (arb_runtime.logging.wants_colour, the same rule the
console log format follows). Anywhere else no escape code is written: each new event is one
line (``[  12.3s] book exited with 2: ...``), and the summary follows at the end.

A process that exited shows why (the last line of its log) and where its log is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

from arb_runtime.logging import wants_colour

from arb_cli.supervisor import Child

CLEAR = "\x1b[2J\x1b[H"
_COLOURS = {"green": "32", "yellow": "33", "red": "31", "bold": "1"}


def paint(text: str, colour: str, on: bool) -> str:
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m" if on else text


def _state(state: str, on: bool) -> str:
    return paint(state, "green" if state == "LIVE" else "yellow", on)


def process_lines(children: Sequence[Child], colour: bool) -> list[str]:
    """One line per child: up or DOWN, restarts, its /metrics port; for one that exited,
    its last exit code and log line, and where its log is."""
    lines = []
    for child in children:
        alive = child.alive
        state = paint(f"{'up' if alive else 'DOWN':<5}", "green" if alive else "red", colour)
        port = f"   metrics :{child.metrics_port}" if child.metrics_port else ""
        lines.append(f"  {child.name:<18} {state} restarts {child.restarts}{port}")
        code = child.proc.returncode if child.proc is not None and not alive else None
        if code is None and child.exit_codes:
            code = child.exit_codes[-1]
        if code is not None:
            said = child.last_line()
            lines.append(f"      exited {code}" + (f": {said}" if said else ""))
            lines.append(f"      log {child.log_path}")
    return lines


def render(
    status: dict[str, Any],
    rates: dict[str, int],
    scored: dict[str, Any],
    children: Sequence[Child],
    events: list[str],
    elapsed: float,
    colour: bool = False,
) -> str:
    lines = [paint(f"cexarb  running {elapsed:6.1f}s", "bold", colour)
             + "   (Ctrl-C stops everything)", "", "venue      md msgs/s   books"]  # fmt: skip
    for venue, rate in rates.items():
        books = [b for b in status["books"] if b["venue"] == venue]
        states = " ".join(f"{b['symbol']}:{_state(b['state'], colour)}" for b in books) or "-"
        lines.append(f"{venue:<10} {rate:9.0f}   {states}")
    lat = scored["latency_ms"]
    lines += ["", "latency ms   p50      p99"]
    for name, value in lat.items():
        lines.append(f"  {name:<22} {value['p50']!s:>8} {value['p99']!s:>8}")
    restarts = sum(c.restarts for c in children)
    lines += ["", f"opportunities {scored['detected']}   executed {scored['executed']}   "
              f"refused/expired {scored['refused']}   missed {scored['missed']}   "
              f"failed {scored['failed']}   "
              f"unhedged {scored['unhedged']}   pnl {scored['pnl_quote']}   errors {restarts}",
              f"injected {scored['injected']}   detectable {scored['injected_detectable']}   "
              f"detected {scored['injected_detected']}", "", "processes:"]  # fmt: skip
    lines += process_lines(children, colour)
    if status["kill_switch"]["engaged"]:
        lines.append(paint(f"KILL SWITCH ENGAGED: {status['kill_switch']['reason']}", "red",
                           colour))  # fmt: skip
    lines += [f"  ! {e}" for e in events[-5:]]
    return "\n".join(lines)


class LiveView:
    """Where the live view goes: a redrawn screen on a terminal, new events as lines else."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        self.terminal = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        self.colour = self.terminal and wants_colour(stream)
        self._shown = 0  # events already written as lines

    def show(self, screen: str, footer: str) -> None:
        """Redraw the screen (a terminal only)."""
        if self.terminal:
            self.stream.write(CLEAR + screen + "\n" + footer + "\n")
            self.stream.flush()

    def events(self, events: list[str], elapsed: float) -> None:
        """The events not written yet, one line each (not on a terminal: the screen shows
        them)."""
        if not self.terminal:
            for event in events[self._shown :]:
                self.stream.write(f"[{elapsed:7.1f}s] {event}\n")
            self.stream.flush()
        self._shown = len(events)
