"""The detector never sizes against a level the book has not verified: a book whose last
audit failed, or a view whose levels are not finite, positive, best-first and uncrossed.

Each case is the opportunity of test_engine's CHEAP/DEAR pair (79.9 bps) with one defect;
the same pair without it is found, so every refusal here is the guard's doing.
"""

from __future__ import annotations

import math

import msgspec
import pytest

from tests.unit.detector.factories import detector, view
from tests.unit.detector.test_engine import CHEAP, DEAR, feed

pytestmark = pytest.mark.unit


def test_the_clean_pair_is_found() -> None:
    assert len(feed(detector(), view("binance", asks=CHEAP), view("okx", bids=DEAR))) == 1


@pytest.mark.parametrize(
    ("bids", "gate"),
    [
        ([(math.nan, 1.0), (95.0, 1.0)], "bad_level"),  # NaN: every comparison is False
        ([(101.0, math.inf), (95.0, 1.0)], "bad_level"),
        ([(101.0, -1.0), (95.0, 1.0)], "bad_level"),
        ([(101.0, 1.0), (0.0, 1.0)], "bad_level"),  # deeper than the top: the sizing walk
        ([(101.0, 1.0), (102.0, 1.0)], "bad_level"),  # out of order
        ([(101.0, 1.0), (101.0, 2.0)], "bad_level"),  # the same price twice
    ],
)
def test_a_view_with_an_impossible_level_gives_nothing(
    bids: list[tuple[float, float]], gate: str
) -> None:
    engine = detector()
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=bids)) == []
    assert engine.gated_total[gate] >= 1


def test_a_crossed_view_gives_nothing() -> None:
    engine = detector()
    crossed = view("okx", bids=DEAR, asks=[(100.5, 1.0)])
    assert feed(engine, view("binance", asks=CHEAP), crossed) == []
    assert engine.gated_total["bad_level"] == 2


def test_a_book_whose_audit_failed_gives_nothing_even_if_it_says_live() -> None:
    engine = detector()
    failed = msgspec.structs.replace(view("okx", bids=DEAR), audit="mismatch")
    assert feed(engine, view("binance", asks=CHEAP), failed) == []
    assert engine.gated_total["audit_failed"] == 2
    passed = msgspec.structs.replace(view("okx", bids=DEAR, seq=2), audit="passed")
    assert len(feed(engine, view("binance", asks=CHEAP, seq=2), passed)) == 1
