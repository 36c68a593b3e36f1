"""The compiled frame readers (``arb_orderbook._native``: ``int_level_frame`` for Bitfinex's
one-level updates, ``rows_frame`` for Kraken v1's book frames) against the parsers' own reads.

Two parsers of a venue are fed the same frames: one with its compiled reader, one without
(``update_reader`` / ``rows_reader`` None: msgspec's read and the part-by-part reference).
They must give equal events (levels, texts, checksum, sequence, timestamps), or both refuse
with the same MalformedFrame, and end in the same state: on every frame of the recorded
Bitfinex session, on a Kraken v1 session from the simulator's encoder, and on mutated frames
(hypothesis). The Kraken v1 sessions recorded from the simulator are compared the same way
in tests/integration/replay/test_replay_hot_paths.py.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from arb_venues import market_protocol
from arb_venues.base import Endpoints
from arb_venues.common.levels import MAX_PRICE, MAX_SIZE
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.kraken import parser_v1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import compiled_book_or_skip
from tests.unit.venues.bitfinex.recorded import received
from tests.unit.venues.kraken.helpers import scripted_session

pytestmark = pytest.mark.unit

COMPILED: Any = compiled_book_or_skip()

OFFLINE = Endpoints(ws_url="ws://replay.invalid", rest_url="http://replay.invalid")
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip


def _pair(venue: str, version: str | None, reader: str) -> tuple[Any, Any]:
    """(a parser with its compiled readers, one without)."""
    protocol = market_protocol(venue, OFFLINE, protocol_version=version)
    compiled, reference = protocol.make_parser(SymbolMap()), protocol.make_parser(SymbolMap())
    # The compiled readers whatever ARB_NATIVE says (it only picks the parsers' default).
    readers = {"readers": (COMPILED.int_level_frame, COMPILED.signed_levels_frame,
                           COMPILED.int_word_frame),
               "rows_reader": COMPILED.rows_frame}  # fmt: skip
    setattr(compiled, reader, readers[reader])
    setattr(reference, reader, None)
    return compiled, reference


def _outcome(parser: Any, raw: str | bytes) -> Any:
    try:
        return msgspec.to_builtins(parser.parse_ws(raw, 1_700_000_000_000_000_000))
    except MalformedFrame as exc:
        return ("refused", exc.kind, str(exc))


def _state(parser: Any) -> dict[str, Any]:
    names = ("_counters", "_live", "_seq", "resync_needed", "last_sequence", "first_sequence",
             "sequence_gaps", "_books")  # fmt: skip
    return {name: getattr(parser, name) for name in names if hasattr(parser, name)}


def _same(compiled: Any, reference: Any, raw: str | bytes) -> Any:
    got, expected = _outcome(compiled, raw), _outcome(reference, raw)
    assert got == expected, raw[:300]
    assert _state(compiled) == _state(reference), raw[:300]
    return got


def _level_read(raw: str | bytes) -> Any:
    """Bitfinex's one-level read, with the bounds its parser gives."""
    return COMPILED.int_level_frame(raw, MAX_PRICE, MAX_SIZE)


BITFINEX = received()
BITFINEX_SETUP = [raw for raw in BITFINEX if raw.startswith("{")]
BITFINEX_UPDATES = [raw for raw in BITFINEX if _level_read(raw) is not None]
BITFINEX_SNAPSHOTS = [raw for raw in BITFINEX if COMPILED.signed_levels_frame(raw) is not None]
KRAKEN, _ = scripted_session("v1")


def _with_checksums(frames: list[str]) -> list[str]:
    """The recording as a connection with OB_CHECKSUM would send it: a ``cs`` frame after
    each update (its number made up: the parser does not check it, the book does), every
    array renumbered."""
    out, seq = [], 0
    for raw in frames:
        if raw.startswith("{"):
            out.append(raw.replace('"flags":65536', '"flags":196608'))  # SEQ_ALL | OB_CHECKSUM
            continue
        seq += 1
        out.append(f"{raw.rsplit(',', 1)[0]},{seq}]")
        if _level_read(raw) is not None:
            seq += 1
            out.append(f'[{raw[1 : raw.index(",")]},"cs",{-7919 * seq},{seq}]')
    return out


BITFINEX_CHECKSUMS = _with_checksums(BITFINEX)
# Where its updates start: before, the connection's set-up and the books' snapshots.
_FIRST = next(i for i, raw in enumerate(BITFINEX_CHECKSUMS) if _level_read(raw))


def _kraken_read(raw: str | bytes) -> Any:
    return COMPILED.rows_frame(raw, parser_v1._ROW_SLOTS, parser_v1._DIGIT_SLOTS, MAX_PRICE,
                               MAX_SIZE, parser_v1.STAMP_LIMIT)  # fmt: skip


def test_bitfinex_recording_gives_equal_events_with_and_without_the_compiled_reader() -> None:
    compiled, reference = _pair("bitfinex", None, "readers")
    deltas = 0
    for raw in BITFINEX:
        for event in _same(compiled, reference, raw) or ():
            deltas += isinstance(event, dict) and "prev_seq" in event
    assert len(BITFINEX_UPDATES) > 1500 and deltas >= len(BITFINEX_UPDATES) - 10
    assert len(BITFINEX_SNAPSHOTS) >= 7
    assert compiled.sequencing and compiled.sequence_gaps == 0


def test_bitfinex_checksum_frames_give_equal_events_with_and_without_the_compiled_reader() -> None:
    compiled, reference = _pair("bitfinex", None, "readers")
    checksums = 0
    for raw in BITFINEX_CHECKSUMS:
        for event in _same(compiled, reference, raw) or ():
            checksums += event.get("checksum") is not None
    words = [raw for raw in BITFINEX_CHECKSUMS if COMPILED.int_word_frame(raw) is not None]
    assert checksums >= len(BITFINEX_UPDATES) - 10 and len(words) > checksums
    assert compiled.checksums and compiled.sequence_gaps == 0


def test_kraken_v1_session_gives_equal_events_with_and_without_the_compiled_reader() -> None:
    compiled, reference = _pair("kraken", "v1", "rows_reader")
    assert all(_kraken_read(raw) is not None for raw in KRAKEN)
    for raw in KRAKEN:
        assert _same(compiled, reference, raw) != []


def test_kraken_v1_reader_gives_the_part_by_part_events() -> None:
    compiled, _ = _pair("kraken", "v1", "rows_reader")
    slow, _ = _pair("kraken", "v1", "rows_reader")
    for raw in KRAKEN:
        got = msgspec.to_builtins(compiled.parse_ws(raw, 1))
        assert got == msgspec.to_builtins(slow._parse_other(raw, 1))


# Mutations: characters JSON frames are made of, and a few that are not.
_CHARS = st.sampled_from([*'0123456789-+.eE,[]{}":abcrsNIfinty \\\t', "\u0661", "é"])
_NUMBERS = st.sampled_from(["0", "-0", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-5",
                            "1e15", "1e18", "-1e18", "0.0", "00", "1.", ".1", "1e", "1E+2",
                            "99999999999999999999", "-1", "1"])  # fmt: skip


@st.composite
def _mutated(draw: st.DrawFn, frames: list[str]) -> str:
    raw = draw(st.sampled_from(frames))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        end = min(len(raw), at + draw(st.integers(0, 6)))
        new = draw(st.one_of(st.text(_CHARS, max_size=4), _NUMBERS))
        raw = raw[:at] + new + raw[end:]
    return raw


@SETTINGS
@given(
    raws=st.lists(
        _mutated(BITFINEX_UPDATES[:200] + BITFINEX_SNAPSHOTS + BITFINEX[-40:]),
        min_size=1,
        max_size=4,
    )
)
def test_bitfinex_mutated_frames_give_equal_events_or_both_refuse(raws: list[str]) -> None:
    compiled, reference = _pair("bitfinex", None, "readers")
    for raw in BITFINEX_CHECKSUMS[: _FIRST + 60]:  # set-up, snapshots, then updates: the hot
        _same(compiled, reference, raw)  # path knows the books' channels before the mutants
    for raw in raws:
        _same(compiled, reference, raw)
        _same(compiled, reference, raw.encode())


@SETTINGS
@given(raws=st.lists(_mutated(KRAKEN), min_size=1, max_size=4))
def test_kraken_v1_mutated_frames_give_equal_events_or_both_refuse(raws: list[str]) -> None:
    compiled, reference = _pair("kraken", "v1", "rows_reader")
    _same(compiled, reference, KRAKEN[0])
    for raw in raws:
        _same(compiled, reference, raw)


def test_compiled_readers_take_only_their_exact_shapes() -> None:
    assert _level_read("[1,[2.5,1,-3],7]") == (1, (2.5, 3.0), ("2.5", "-3"), False, 7)
    assert _level_read(b"[1,[2.5,0,1]]") == (1, (2.5, 0.0), ("2.5", "1"), True, None)
    assert _level_read("[1,[2.5,2,-1e-3]]") == (1, (2.5, 0.001), ("2.5", "-1e-3"), False, None)
    for other in ("[1, [2.5,1,-3],7]", "[1,[2.5,1,-3],7] ", "[1,[NaN,1,-3]]", "[1,[1e400,1,1]]",
                  "[1,[2.5,1.0,1]]", "[-0,[2.5,1,1]]", "[1,[2.5,1,1],7,8]", '[1,"hb",7]',
                  "[1,[[2.5,1,1]],7]", "[1,[2.5,1,+1]]", "[1,[2.5,1,01]]", 5, None,
                  # out of the bounds the parser gives: price, amount, count
                  "[1,[0,1,1]]", "[1,[-2.5,1,1]]", "[1,[1e15,1,1]]", "[1,[2.5,1,0]]",
                  "[1,[2.5,1,-0]]", "[1,[2.5,1,1e18]]", "[1,[2.5,1,-1e18]]",
                  "[1,[2.5,-1,1]]"):  # fmt: skip
        assert _level_read(other) is None, other
    # The bounds are the caller's: exclusive at the top.
    assert COMPILED.int_level_frame("[1,[5,1,-4]]", 5.0, 10.0) is None
    assert COMPILED.int_level_frame("[1,[5,1,-10]]", 6.0, 10.0) is None
    assert COMPILED.int_level_frame("[1,[5,1,-4]]", 6.0, 10.0) == (1, (5.0, 4.0), ("5", "-4"),
                                                                   False, None)  # fmt: skip
    read = _kraken_read('[1,{"a":[["2.5","0.1","3.5","r"]]},{"b":[],"c":"9"},"book-10","X/Y"]')
    levels, texts = [[], [], [(2.5, 0.1)], []], [[], [], [("2.5", "0.1")], []]
    assert read == (1, "book-10", "X/Y", 0b1100, levels, texts, [9], False, 3.5)
    read = _kraken_read('[1,{"a":[["2.5","1"]],"c":"000000000000004294967295"},"book-10","X/Y"]')
    assert read is None  # 24 digits: more than the reader's 18 (the parser's own read takes it)
    read = _kraken_read('[1,{"a":[["2.5","1"]],"c":"004294967295"},"book-10","X/Y"]')
    assert read is not None and read[6] == [4294967295]
    read = _kraken_read('[1,{"as":[["2.5","0","3.5"],["2.6","1","4.5"]],"bs":[]},"book-10","X/Y"]')
    levels = [[(2.5, 0.0), (2.6, 1.0)], [], [], []]
    texts = [[("2.5", "0"), ("2.6", "1")], [], [], []]
    assert read == (1, "book-10", "X/Y", 0b11, levels, texts, [None], True, 4.5)
    assert _kraken_read('[1,{"a":[["2.5","1"]]},"book-10","X/Y"]')[7:] == (False, 0.0)
    for other in ('[1,{"a":[["2.5","0.1"]],"a":[]},"book-10","X/Y"]',  # a key twice
                  '[1,{"d":[["2.5","0.1"]]},"book-10","X/Y"]',  # another key
                  '[1,{"a":[["2.5","0.1"]]},{"c":"1","c":"2"},"book-10","X/Y"]',
                  # a checksum that is not 1 to 18 digits
                  '[1,{"a":[["2.5","0.1"]],"c":""},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1"]],"c":"-1"},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1"]],"c":"12a"},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1"]],"c":" 1"},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1","1","r","x"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1\\u0030"]]},"book-10","X/Y"]',
                  '[1,{"a":[["NaN","0.1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","0.1"]]},"book-10"]', '[1,{},"book-10","X/Y"]',
                  # out of the bounds the parser gives: price, size, stamp
                  '[1,{"a":[["0","0.1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["-1","0.1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["1e15","0.1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","-0.1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","1e18"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","1","-1"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","1","1e11"]]},"book-10","X/Y"]',
                  '[1,{"a":[["2.5","1","5"],["2.5","1","1e11"]]},"book-10","X/Y"]'):  # fmt: skip
        assert _kraken_read(other) is None, other
    snapshot = COMPILED.signed_levels_frame("[1,[[2.5,1,-3],[2.4,2,5],[2.6,1,0]],7]")
    assert snapshot == (1, [(2.4, 5.0)], [(2.5, 3.0)], [("2.4", "5")], [("2.5", "-3")], 7,
                        2.4, 2.6, 1, 5.0, True)  # fmt: skip
    for other in ("[1,[[2.5,1,-3]] ]", "[1,[[2.5,1,-3],]]", "[1,[[2.5,1,-3,4]]]", "[1,[2.5,1,-3]]",
                  "[1,[[NaN,1,-3]]]", "[1,[[2.5,1,-3]],7,8]"):  # fmt: skip
        assert COMPILED.signed_levels_frame(other) is None, other
    assert COMPILED.int_word_frame('[1,"cs",-5,7]') == (1, "cs", (-5, 7))
    assert COMPILED.int_word_frame(b'[1,"hb"]') == (1, "hb", ())
    for other in ('[1,"cs",1,2,3]', '[1,"cs",1.5]', '[1,"c\\s",1]', '[1, "hb"]', '[1,"hb",[]]'):
        assert COMPILED.int_word_frame(other) is None, other


def _subscribed(chan_id: int, venue_symbol: str) -> str:
    return (f'{{"event":"subscribed","channel":"book","chanId":{chan_id},'
            f'"symbol":"{venue_symbol}","prec":"P0","freq":"F0","len":"25"}}')  # fmt: skip


def test_bitfinex_hot_path_follows_resubscribes_and_resets() -> None:
    """The compiled parser caches a channel's symbol; each step, the reference parser (no
    cache) gives the same events: a channel id given to another pair, a pair moved to
    another channel id, an unsubscribed channel, a reset book."""
    compiled, reference = _pair("bitfinex", None, "readers")

    def symbols(raw: str) -> list[str]:
        return [event["symbol"] for event in _same(compiled, reference, raw)]

    seq = iter(range(1, 1000))
    for raw in ('{"event":"conf","status":"OK","flags":65536}', _subscribed(10, "tBTCUSD")):
        _same(compiled, reference, raw)
    assert symbols(f"[10,[[100,1,2],[101,1,-2]],{next(seq)}]") == ["BTC-USD"]
    assert symbols(f"[10,[99,1,3],{next(seq)}]") == ["BTC-USD"]
    assert compiled._hot == {10: ("tBTCUSD", "BTC-USD")}
    # Channel 10 now carries ETH's book, and BTC's moves to channel 11.
    _same(compiled, reference, _subscribed(10, "tETHUSD"))
    _same(compiled, reference, _subscribed(11, "tBTCUSD"))
    assert compiled._hot == {}
    assert symbols(f"[10,[[10,1,2],[11,1,-2]],{next(seq)}]") == ["ETH-USD"]
    assert symbols(f"[10,[9,1,3],{next(seq)}]") == ["ETH-USD"]
    assert symbols(f"[11,[99,1,4],{next(seq)}]") == ["BTC-USD"]
    # A reset book waits for its next snapshot, on the hot path too.
    compiled.reset("tETHUSD")
    reference.reset("tETHUSD")
    assert symbols(f"[10,[9,1,4],{next(seq)}]") == []
    assert symbols(f"[11,[99,0,1],{next(seq)}]") == ["BTC-USD"]
    # An unsubscribed channel is unknown again.
    _same(compiled, reference, '{"event":"unsubscribed","status":"OK","chanId":11}')
    assert _same(compiled, reference, f"[11,[99,1,4],{next(seq)}]")[:2] == (
        "refused",
        "unknown_channel",
    )


def test_bitfinex_bad_level_on_a_hot_channel_refuses_with_its_kind() -> None:
    compiled, reference = _pair("bitfinex", None, "readers")
    for raw in ('{"event":"conf","status":"OK","flags":65536}', _subscribed(10, "tBTCUSD"),
                "[10,[[100,1,2],[101,1,-2]],1]", "[10,[99,1,3],2]"):  # fmt: skip
        _same(compiled, reference, raw)
    assert 10 in compiled._hot
    for n, (level, kind) in enumerate(
        [("0,1,1", "bad_price"), ("1e15,1,1", "bad_price"), ("99,1,0", "bad_size"),
         ("99,-1,1", "bad_size"), ("99,1,1e18", "bad_size"), ("99,1,-1e400", "bad_size")],
        start=3,
    ):  # fmt: skip
        got = _same(compiled, reference, f"[10,[{level}],{n}]")
        assert got[:2] == ("refused", kind), level
        assert compiled.resync_needed == {"tBTCUSD"}
        compiled.resync_needed.clear()
        reference.resync_needed.clear()


def test_kraken_v1_hot_path_follows_resets_and_refuses_what_the_reference_refuses() -> None:
    """The compiled parser caches a pair's symbol once its book is live; each step, the
    reference parser (no cache) gives the same events: updates after a reset are dropped
    until the next snapshot, and a checksum that is not plain digits goes the other reads."""
    compiled, reference = _pair("kraken", "v1", "rows_reader")
    snapshot, updates = KRAKEN[0], KRAKEN[1:]
    _same(compiled, reference, snapshot)
    assert _same(compiled, reference, updates[0])[0]["symbol"] == "BTC-USD"
    assert compiled._hot == {"XBT/USD": ("BTC/USD", "BTC-USD")}
    for parser in (compiled, reference):
        parser.reset("XBT/USD")
    assert compiled._hot == {}
    assert _same(compiled, reference, updates[1]) == []
    _same(compiled, reference, snapshot)
    for raw in updates[1:]:
        assert _same(compiled, reference, raw) != []
    assert "XBT/USD" in compiled._hot
    update = updates[-1]
    digits = update[update.index('"c":"') + 5 : update.index('"', update.index('"c":"') + 5)]
    for text in ("-5", "+5", " 5", "1_0", "", "x", "0", "00042", "99999999999999999999"):
        _same(compiled, reference, update.replace(f'"c":"{digits}"', f'"c":"{text}"'))
