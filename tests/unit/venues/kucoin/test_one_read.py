"""KuCoin's one-read parse_ws against its reference, parse_ws_strict.

parse_ws reads a frame once (schemas.Frame) and answers a level2 update or another topic's
push itself; every other frame goes to parse_ws_strict. The property: on every recorded
frame and on mutated ones, both give the same events, or refuse with the same kind, and
leave the parser in the same state (books flagged for a resync, welcomes counted).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from arb_structs import BookDelta
from arb_venues.errors import MalformedFrame
from arb_venues.kucoin.parser import KucoinParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.venues.kucoin.helpers import kucoin_dir_or_skip, session
from tests.unit.venues.test_fuzz import EXAMPLES, NASTY, mutation

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FOLDER = kucoin_dir_or_skip()
WS = [f.raw for f in session(FOLDER) if f.kind == "ws"]
L2 = next(raw for raw in WS if "trade.l2update" in raw and '["0"' not in raw)
TICKER = next(raw for raw in WS if "trade.ticker" in raw)
# Keys a hostile frame may add or repeat, at the top or in ``data``.
KEYS = ["id", "code", "type", "subject", "topic", "data", "symbol", "sequenceStart",
        "sequenceEnd", "changes", "time", "asks", "bids"]  # fmt: skip

Outcome = tuple[Any, ...]


def outcome(read: Callable[[KucoinParser], Callable[[str | bytes, int], list[Any]]],
            raw: str | bytes) -> Outcome:  # fmt: skip
    """What one fresh parser makes of ``raw``: its events or its refusal's kind, and its state."""
    parser = KucoinParser()
    try:
        answer: Any = read(parser)(raw, 7)
    except MalformedFrame as exc:
        answer = ("refused", exc.kind, str(exc))
    return answer, sorted(parser.resync_needed), parser.welcomes


def fast(parser: KucoinParser) -> Callable[[str | bytes, int], list[Any]]:
    return parser.parse_ws


def strict(parser: KucoinParser) -> Callable[[str | bytes, int], list[Any]]:
    return parser.parse_ws_strict


def last_wins(raw: str | bytes) -> str | None:
    """The frame with only the last value of each repeated key (how JSON readers read it);
    None when no key repeats."""
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        repeated = repeated or len({key for key, _ in items}) != len(items)
        return dict(items)

    try:
        value = json.loads(raw, object_pairs_hook=pairs)
    except ValueError:
        return None
    return json.dumps(value) if repeated else None


def assert_same(raw: str | bytes) -> Outcome:
    """parse_ws answers as parse_ws_strict does. The one exception: a frame that repeats the
    key ``data`` with an earlier object missing a field the strict read needs (which it then
    refuses), where parse_ws answers what the last ``data`` says, as strict reads that."""
    got = outcome(fast, raw)
    if got != outcome(strict, raw):
        alone = last_wins(raw)
        assert alone is not None and '"data"' in str(raw), raw
        assert got == outcome(strict, alone), raw
    return got


def test_every_recorded_frame_reads_the_same_both_ways() -> None:
    deltas = 0
    for raw in WS:
        events, _, _ = assert_same(raw)
        deltas += isinstance(events, list) and any(isinstance(e, BookDelta) for e in events)
    assert deltas == 3853


def test_bytes_read_like_text() -> None:
    for raw in (L2, TICKER):
        assert assert_same(raw.encode()) == outcome(strict, raw)


@pytest.mark.parametrize(
    "edit",
    [
        {"id": 1.5}, {"id": 1.0}, {"id": True}, {"code": 2.0}, {"code": "400"}, {"id": "x"},
        {"type": None}, {"type": "welcome"}, {"type": "error"}, {"type": "ack"},
        {"subject": None}, {"subject": "trade.ticker"}, {"topic": None},
        {"topic": "/market/ticker:BCHSV-USDT"}, {"data": None}, {"data": "text"}, {"data": {}},
    ],
)  # fmt: skip
@pytest.mark.parametrize("raw", [L2, TICKER], ids=["l2update", "ticker"])
def test_a_changed_top_field_reads_the_same_both_ways(raw: str, edit: dict[str, Any]) -> None:
    frame = json.loads(raw)
    frame.update(edit)
    assert_same(json.dumps(frame))


def test_a_level2_topic_with_another_subject_reads_the_same_both_ways() -> None:
    frame = json.loads(L2)
    frame["subject"] = "trade.other"
    answer, flagged, _ = assert_same(json.dumps(frame))
    assert answer == [] and flagged == []  # a push that reads whole but is no update: nothing
    del frame["data"]["sequenceStart"]
    answer, _, _ = assert_same(json.dumps(frame))
    assert answer[:2] == ("refused", "l2update")


@pytest.mark.parametrize("back", [0, 1, 2])
def test_an_update_ending_before_it_starts_is_refused_both_ways(back: int) -> None:
    frame = json.loads(L2)
    frame["data"]["sequenceEnd"] = frame["data"]["sequenceStart"] - back
    answer, flagged, _ = assert_same(json.dumps(frame))
    if back:
        assert answer[:2] == ("refused", "l2update") and flagged == ["BCHSV-USDT"]
    else:
        assert isinstance(answer[0], BookDelta) and flagged == []


def test_a_repeated_data_key_reads_as_its_last_value() -> None:
    # The exception assert_same allows: the strict read refuses the first, incomplete data;
    # the one read takes the last, which is whole and checked like any other.
    raw = '{"data":{},' + L2[1:]
    got, flagged, _ = outcome(fast, raw)
    assert got == outcome(strict, L2)[0] and flagged == []
    assert outcome(strict, raw)[0][:2] == ("refused", "l2update")
    assert_same(raw)


def test_a_repeated_key_reads_the_same_both_ways() -> None:
    # JSON text with one key twice: the last one counts, but the first must still read.
    body = L2[1:]
    for key, first in (("sequenceStart", "null"), ("symbol", "null"), ("subject", "null"),
                       ("id", "1.5"), ("type", "null"), ("topic", "1")):  # fmt: skip
        assert_same(f'{{"{key}":{first},' + body)
        inner = L2.replace('"data":{', f'"data":{{"{key}":{first},', 1)
        assert_same(inner)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (["NaN", "1", "5"], "bad_price"), (["Infinity", "1", "5"], "bad_price"),
        (["inf", "1", "5"], "bad_price"), (["-1", "1", "5"], "bad_price"),
        (["1e400", "1", "5"], "bad_price"), (["10", "NaN", "5"], "bad_size"),
        (["10", "-1", "5"], "bad_size"), (["10", "inf", "5"], "bad_size"),
    ],
)  # fmt: skip
def test_a_bad_level_is_refused_both_ways(change: list[str], kind: str) -> None:
    frame = json.loads(L2)
    frame["data"]["changes"] = {"asks": [["0", "0", "5"]], "bids": [change]}
    answer, flagged, _ = assert_same(json.dumps(frame))
    assert answer[:2] == ("refused", kind)
    assert flagged == [frame["data"]["symbol"]]


@st.composite
def added_key(draw: st.DrawFn, raw: str) -> str:
    """The frame with one key added (or repeated, as JSON text allows) at the top or in data."""
    key = draw(st.sampled_from(KEYS))
    value = json.dumps(draw(st.sampled_from([*NASTY, 1.5, 2.0, "message", "trade.l2update"])))
    if draw(st.booleans()) and '"data":{' in raw:
        return raw.replace('"data":{', f'"data":{{"{key}":{value},', 1)
    return f'{{"{key}":{value},' + raw[1:] if raw.startswith("{") else raw


@settings(max_examples=EXAMPLES * 5, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_mutated_frames_read_the_same_both_ways(data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(WS))
    for _ in range(data.draw(st.integers(1, 3))):
        raw = data.draw(st.one_of(mutation(raw), added_key(raw)))
    assert_same(raw)
