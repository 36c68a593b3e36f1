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


def test_writer_output_reads_back_exactly(tmp_path: Path) -> None:
    from arb_venues.capture import CaptureWriter

    path = tmp_path / "w.jsonl"
    raw = '{"px":"0.10000000","note":"quote \\" and \\\\ and é"}'
    with CaptureWriter(path, flush_every=2) as writer:
        writer.write("connect", "ws://h/ws", ts_ns=1_700_000_000_000_000_001)
        writer.write("send", "ws://h/ws", '{"op":"subscribe"}', ts_ns=1_700_000_000_500_000_000)
        writer.write("recv", "ws://h/ws", raw.encode(), ts_ns=1_700_000_001_000_000_000)
        writer.write("http_response", "http://h/depth?s=X", "{}", ts_ns=1_700_000_002_000_000_000)
    frames = read_capture(path)
    assert [f.kind for f in frames] == ["connect", "send", "ws", "rest"]
    assert frames[2].raw == raw and frames[3].url == "http://h/depth?s=X"
    assert '"local_ts":"1700000000.000000001"' in path.read_text().splitlines()[0]
    assert frames[1].ts == 1_700_000_000.5


def test_writer_keeps_undecodable_bytes_as_escapes_and_refuses_unknown_types(
    tmp_path: Path,
) -> None:
    from arb_venues.capture import CaptureWriter

    path = tmp_path / "w.jsonl"
    writer = CaptureWriter(path)
    writer.write("recv", "ws://h", b"ok \xff")
    with pytest.raises(ValueError, match="record type 'pong'"):
        writer.write("pong", "ws://h", "x")
    writer.close()
    assert read_capture(path)[0].raw == "ok \\xff"


def test_writer_to_an_unwritable_path_names_it(tmp_path: Path) -> None:
    from arb_venues.capture import CaptureWriter

    with pytest.raises(CaptureError, match="cannot write"):
        CaptureWriter(tmp_path / "missing-dir" / "w.jsonl")
