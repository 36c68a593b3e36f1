"""The adapter contract, driven by the recorded Gate session (the pair with the most updates
after its REST snapshot)."""

from __future__ import annotations

import pytest
from arb_structs import Instrument

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.gateio.recorded import gateio_dir_or_skip, session

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FRAMES = session(gateio_dir_or_skip())
BOOK = '"channel":"spot.order_book_update","event":"update"'


def _updates_after(pair: str, at: int) -> list[str]:
    return [f.raw for f in FRAMES[at + 1 :] if f.kind == "ws" and BOOK in f.raw
            and f'"s":"{pair}"' in f.raw]  # fmt: skip


def _case() -> ContractCase:
    snapshots = {f.url.split("currency_pair=")[1].split("&")[0]: i
                 for i, f in enumerate(FRAMES) if f.kind == "rest"}  # fmt: skip
    pair = max(snapshots, key=lambda p: len(_updates_after(p, snapshots[p])))
    base, quote = pair.split("_")
    instrument = Instrument(
        venue="gateio",
        symbol=f"{base}-{quote}",
        venue_symbol=pair,
        base=base,
        quote=quote,
        tick_size="0.0001",
        lot_size="0.0001",
    )
    at = snapshots[pair]
    control = [
        next(f.raw for f in FRAMES if '"event":"subscribe"' in f.raw),
        next(f.raw for f in FRAMES if '"channel":"spot.trades","event":"update"' in f.raw),
        next(f.raw for f in FRAMES if '"channel":"spot.tickers","event":"update"' in f.raw),
        next(f.raw for f in FRAMES if '"channel":"spot.candlesticks","event":"update"' in f.raw),
        '{"time":1619093540,"channel":"spot.pong","event":"","error":null,"result":null}',
        '{"time":1619093540,"channel":"spot.order_book_update","event":"unsubscribe",'
        '"error":null,"result":{"status":"success"}}',
    ]
    good = (
        '{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1000,'
        f'"e":"depthUpdate","E":1,"s":"{pair}","U":5,"u":6,"b":[["0.0351","1.5"]],"a":[]}}}}'
    )
    malformed = [
        good.replace('"u":6,', ""),  # no last update id
        good.replace('"U":5,"u":6', '"U":7,"u":6'),  # U > u
        good.replace('"0.0351"', '"abc"'),
        good.replace('"0.0351"', '"-1"'),
        good.replace('"0.0351"', '"NaN"'),
        good.replace('"1.5"', '"Infinity"'),
        good.replace(f'"{pair}"', '"QQQQQQ"'),  # a pair nobody can normalise
        '{"time":1,"channel":"spot.order_book_update","event":"update","result":[1,2]}',
        '{"time":1,"channel":"spot.order_book_update","event":"subscribe",'
        '"error":{"code":2,"message":"unknown currency pair"},"result":{"status":"fail"}}',
        '{"foo":1}',
        "[1,2,3]",
    ]
    return ContractCase(
        venue="gateio", symbol=instrument.symbol, instrument=instrument,
        snapshot=RecordedFrame("rest", FRAMES[at].raw, FRAMES[at].url),
        deltas=[RecordedFrame("ws", raw) for raw in _updates_after(pair, at)],
        control_frames=control, malformed_frames=malformed,
    )  # fmt: skip


class TestContract(AdapterContract):
    case = _case()
