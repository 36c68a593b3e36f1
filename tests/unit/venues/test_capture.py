"""The capture reader: JSONL captures (any first record) and plain message-per-line files."""

from __future__ import annotations

from pathlib import Path

import pytest
from arb_venues.capture import CaptureError, merge_captures, read_capture

pytestmark = pytest.mark.unit

CAPTURE = (
    '{"type":"connect","url":"wss://x","local_ts":"10.0"}\n'
    '{"type":"send","url":"wss://x","local_ts":"10.1","raw":"{}"}\n'
    '{"type":"recv","url":"wss://x","local_ts":"10.2","raw":"{\\"a\\":1}"}\n'
)


def test_capture_opening_with_a_connect_record_is_read_as_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(CAPTURE)
    frames = read_capture(path)
    assert [f.kind for f in frames] == ["connect", "send", "ws"]
    assert frames[2].raw == '{"a":1}' and frames[2].ts == 10.2


def test_plain_file_is_one_ws_message_per_line(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text('{"topic":"a"}\n\n{"topic":"b"}\n')
    assert [f.raw for f in read_capture(path)] == ['{"topic":"a"}', '{"topic":"b"}']


def test_files_merge_by_recorder_time(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(
        '{"type":"recv","local_ts":"1","raw":"a1"}\n{"type":"recv","local_ts":"3","raw":"a3"}\n'
    )
    b.write_text('{"type":"http_response","local_ts":"2","raw":"b2"}\n')
    assert [f.raw for f in merge_captures([a, b])] == ["a1", "b2", "a3"]


def test_broken_capture_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type":"recv","local_ts":"1","raw":"x"}\n{"type":"recv","local_ts":"oops"}\n')
    with pytest.raises(CaptureError, match=r"bad.jsonl:2"):
        read_capture(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot read"):
        read_capture(tmp_path / "nope.jsonl")
