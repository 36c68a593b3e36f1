"""Recorded sessions: the JSONL capture format (see shared/fixtures/README.md).

One JSON object per line: ``type`` (connect | send | recv | http_response), ``url``,
``local_ts`` (epoch seconds as text) and ``raw`` (the message text as received). A plain file
of one raw venue message per line (the Bybit recording) reads as ``recv`` records.
``CaptureWriter`` writes the same format (``arb record``), so a recording replays unchanged.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
_encoder = msgspec.json.Encoder()
RECORD_TYPES = ("connect", "send", "recv", "http_response")


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


def local_ts_text(ts_ns: int) -> str:
    """Epoch nanoseconds as the capture's ``local_ts`` text: seconds with 9 decimals."""
    return f"{ts_ns // 1_000_000_000}.{ts_ns % 1_000_000_000:09d}"


class CaptureWriter:
    """Appends capture records to one JSONL file, one line per record, in call order.

    ``raw`` is kept exactly as received (bytes are decoded as UTF-8; undecodable bytes are
    written as backslash escapes so the line stays valid JSON). Lines are buffered and
    flushed every ``flush_every`` records and on close: a killed recorder loses at most that
    many records, never leaves a half line that the reader would refuse.
    """

    def __init__(self, path: Path, *, flush_every: int = 100) -> None:
        self.path = path
        self.records = 0
        self.flush_every = flush_every
        try:
            self._file: IO[bytes] | None = path.open("wb")
        except OSError as exc:
            raise CaptureError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        self._buffer: list[bytes] = []

    def write(self, kind: str, url: str, raw: str | bytes = "", ts_ns: int | None = None) -> None:
        if kind not in RECORD_TYPES:
            raise ValueError(f"capture record type {kind!r}: use one of {', '.join(RECORD_TYPES)}")
        if self._file is None:
            raise CaptureError(f"{self.path}: the capture is closed")
        text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="backslashreplace")
        stamp = local_ts_text(time.time_ns() if ts_ns is None else ts_ns)
        self._buffer.append(_encoder.encode(CaptureRecord(kind, url, stamp, text)) + b"\n")
        self.records += 1
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self._file is not None and self._buffer:
            self._file.write(b"".join(self._buffer))
            self._file.flush()
            self._buffer.clear()

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
