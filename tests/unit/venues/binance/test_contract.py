"""The adapter contract, driven by the recorded Binance session (NKNUSDT)."""

from __future__ import annotations

import pytest
from arb_structs import Instrument

from tests.unit.venues.binance.recorded import binance_dir_or_skip, session
from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FRAMES = session(binance_dir_or_skip())
NKN = Instrument(
    venue="binance", symbol="NKN-USDT", venue_symbol="NKNUSDT", base="NKN", quote="USDT",
    tick_size="0.0001", lot_size="0.1",
)  # fmt: skip


def _case() -> ContractCase:
    at = next(i for i, f in enumerate(FRAMES) if f.kind == "rest" and "NKNUSDT" in f.url)
    snapshot = FRAMES[at]
    deltas = [f for f in FRAMES[at + 1 :] if f.kind == "ws" and "nknusdt@depth" in f.raw[:40]]
    control = (
        [  # recorded non-book streams, plus method replies and the shutdown notice
            next(f.raw for f in FRAMES if f"@{kind}" in f.raw[:40])
            for kind in ("bookTicker", "aggTrade", "kline_1m")
        ]
        + [
            '{"result":null,"id":1}',
            '{"result":true,"id":2}',
            '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}',
        ]
    )
    good = (
        '{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"NKNUSDT",'
        '"U":5,"u":6,"b":[["0.35130000","1.00000000"]],"a":[]}}'
    )
    malformed = [
        good.replace('"u":6,', ""),  # no final update id
        good.replace('"U":5,"u":6', '"U":7,"u":6'),  # U > u
        good.replace('"0.35130000"', '"abc"'),
        good.replace('"0.35130000"', '"-1"'),
        good.replace('"0.35130000"', '"nan"'),
        good.replace('"NKNUSDT"', '"QQQQQQ"'),  # a symbol nobody can normalise
        good.replace('"e":"depthUpdate"', '"e":"depthUpdat"'),
        '{"stream":"nknusdt@depth@100ms"}',
        '{"stream":"nknusdt@depth@100ms","data":[1,2]}',
        '{"code":2,"msg":"Invalid request: missing field `method`"}',
        '{"foo":1}',
        "[1,2,3]",
    ]
    return ContractCase(
        venue="binance", symbol="NKN-USDT", instrument=NKN,
        snapshot=RecordedFrame("rest", snapshot.raw, snapshot.url),
        deltas=[RecordedFrame("ws", f.raw) for f in deltas],
        control_frames=control, malformed_frames=malformed,
    )  # fmt: skip


class TestContract(AdapterContract):
    case = _case()
