"""Faults: armed for N occurrences or a duration, per symbol or venue-wide."""

from __future__ import annotations

import pytest
from arb_simulator.faults import Faults

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_shot_fault_fires_once() -> None:
    faults = Faults("binance")
    faults.arm("drop_connection")
    assert faults.take("drop_connection") is True
    assert faults.take("drop_connection") is False


def test_counted_fault_fires_n_times_and_carries_its_parameters() -> None:
    faults = Faults("binance")
    faults.arm("http_429", count=3, retry_after_s=2.5)
    taken = [faults.take_fault("http_429") for _ in range(4)]
    assert [f is not None for f in taken] == [True, True, True, False]
    assert taken[0] is not None and taken[0].retry_after_s == 2.5
    assert faults.fired_total == {"http_429": 3}


def test_timed_fault_fires_until_its_deadline() -> None:
    clock = Clock()
    faults = Faults("okx", clock=clock)
    faults.arm("slow", duration_s=1.0, delay_s=0.2)
    assert all(faults.take("slow") for _ in range(50))
    clock.now += 1.5
    assert faults.take("slow") is False
    assert faults.armed() == []


def test_symbol_fault_fires_only_for_its_symbol() -> None:
    faults = Faults("bybit")
    faults.arm("skip_seq", symbol="ETH-USDT")
    assert faults.take("skip_seq", "BTC-USDT") is False
    assert faults.take("skip_seq") is False
    assert faults.take("skip_seq", "ETH-USDT") is True
    faults.arm("bad_checksum")  # venue-wide: any symbol
    assert faults.take("bad_checksum", "SOL-USDT") is True


def test_other_kinds_do_not_consume_a_fault() -> None:
    faults = Faults("kraken")
    faults.arm("reject_order")
    assert faults.take("partial_fill") is False
    assert faults.take("reject_order") is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "meteor"}, "unknown"),
        ({"kind": "http_429", "count": 0}, "count"),
        ({"kind": "slow", "duration_s": -1}, "duration"),
        ({"kind": "http_5xx", "status": 404}, "500-599"),
    ],
)
def test_bad_fault_is_refused_with_a_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults("coinbase").arm(**kwargs)


def test_clear_disarms() -> None:
    faults = Faults("binance")
    faults.arm("http_418", count=5)
    faults.arm("slow", count=5)
    assert faults.clear("slow") == 1
    assert [f.kind for f in faults.armed()] == ["http_418"]
    assert faults.clear() == 1 and faults.armed() == []
