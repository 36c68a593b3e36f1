"""Recorded sessions: the JSONL capture format (see shared/fixtures/README.md).

One JSON object per line: ``type`` (connect | send | recv | http_response), ``url``,
``local_ts`` (epoch seconds as text) and ``raw`` (the message text as received). A plain file
of one raw venue message per line (the Bybit recording) reads as ``recv`` records.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec


class CaptureRecord(msgspec.Struct, frozen=True):
    type: str
    url: str = ""
    local_ts: str = "0"
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: str  # "ws" | "rest" | "connect" | "send"
    url: str
    ts: float  # recorder clock, epoch seconds (0 for plain files)
    raw: str
    order: int  # line order within its file, to keep merges stable


_KIND = {"recv": "ws", "http_response": "rest", "connect": "connect", "send": "send"}
_decoder = msgspec.json.Decoder(CaptureRecord)


class CaptureError(ValueError):
    """A capture file that cannot be read; the message names the file and line."""


def read_capture(path: Path) -> list[Frame]:
    """All frames of one file, capture JSONL or plain one-message-per-line."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    frames: list[Frame] = []
    plain: bool | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if plain is None:
            # capture records always carry type and local_ts; a `connect` record has no raw
            plain = b'"local_ts"' not in line or b'"type"' not in line
        if plain:
            frames.append(Frame("ws", "", 0.0, line.decode(), number))
            continue
        try:
            record = _decoder.decode(line)
            ts = float(record.local_ts)
        except (msgspec.DecodeError, ValueError) as exc:
            raise CaptureError(f"{path}:{number}: not a capture record: {exc}") from exc
        frames.append(Frame(_KIND.get(record.type, record.type), record.url, ts, record.raw,
                            number))  # fmt: skip
    return frames


def merge_captures(paths: Iterable[Path]) -> list[Frame]:
    """Frames of several files merged by recorder time (stable within a file)."""
    per_file = [read_capture(p) for p in paths]
    if len(per_file) == 1:
        return per_file[0]
    return list(heapq.merge(*per_file, key=lambda f: f.ts))


def iter_book_frames(frames: Iterable[Frame]) -> Iterator[Frame]:
    """Only the frames a parser consumes: WS receives and REST responses."""
    return (f for f in frames if f.kind in ("ws", "rest"))
