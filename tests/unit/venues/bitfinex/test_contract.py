"""The adapter contract, driven by the recorded Bitfinex session (2021, SEQ_ALL on).

A Bitfinex book frame names only its channel id, so a parser reads it after the connection's
set-up events (``info``, ``conf``, ``subscribed``): the ``parser`` fixture feeds the recorded
ones first, as the live feed's parser hears them on its connection. The deltas are every
recorded frame from the snapshot of tDOGUSD on up to its third update: the connection's
sequence numbers run on without a hole (other books' frames among them make no DOG-USD events).
"""

from __future__ import annotations

import json

import pytest
from arb_venues.base import FeedParser, MarketDataProtocol
from arb_venues.common.symbols import SymbolMap

from tests.unit.venues.bitfinex.recorded import events, instrument, received, require_recording
from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

require_recording()
FRAMES = received()
SNAPSHOT_AT = next(i for i, raw in enumerate(FRAMES) if raw.startswith("[225206,[["))
DELTAS_END = [i for i, raw in enumerate(FRAMES) if raw.startswith("[225206,[") and
              not raw.startswith("[225206,[[")][2] + 1  # fmt: skip
DELTAS = [raw for raw in FRAMES[SNAPSHOT_AT + 1 : DELTAS_END] if raw.startswith("[")]

CASE = ContractCase(
    venue="bitfinex",
    symbol="DOG-USD",
    instrument=instrument("tDOGUSD", "DOG-USD"),
    snapshot=RecordedFrame("ws", FRAMES[SNAPSHOT_AT]),
    deltas=[RecordedFrame("ws", raw) for raw in DELTAS],
    control_frames=[
        next(raw for raw in FRAMES if raw.startswith('{"event":"info"')),
        next(raw for raw in FRAMES if raw.startswith('{"event":"conf"')),
        next(raw for raw in FRAMES if '"channel":"book"' in raw),
        '{"event":"pong","ts":1511545528111,"cid":1234}',
        '{"event":"unsubscribed","status":"OK","chanId":999}',
        next(raw for raw in FRAMES if raw.endswith(',"hb",127]')),
        next(raw for raw in FRAMES if raw.startswith("[232949,[")),  # a ticker channel
    ],
    malformed_frames=[
        '[225206,["x",1,0.5],9000]',  # a price that is no number
        "[225206,[277520,1,0],9001]",  # amount 0: no side
        "[225206,[-5,1,0.5],9002]",  # a negative price
        "[225206,[277520,-1,0.5],9003]",  # a negative count
        "[225206,[[277520,0,0.5]],9004]",  # a snapshot level with count 0
        "[225206,[[277520,1,0.5],[277530,1,0.5]],9005]",  # bids not best first
        "[999999,[277520,1,0.5],9006]",  # data on a channel never subscribed
        '[225206,"cs","x",9007]',  # a checksum that is no number
        "[225206]",
        '{"event":"error","msg":"symbol: invalid","code":10300,"channel":"book"}',
        '{"no":"event"}',
        '"text"',
    ],
    extra_instruments=[
        instrument(sym, json.loads(raw)["symbol"][1:4] + "-" + json.loads(raw)["symbol"][4:7])
        for raw in events()
        if '"channel":"book"' in raw
        for sym in [json.loads(raw)["symbol"]]
        if sym not in ("tDOGUSD", "tTESTBTC:TESTUSD")
    ],
)


class TestContract(AdapterContract):
    case = CASE

    @pytest.fixture
    def parser(self, protocol: MarketDataProtocol) -> FeedParser:
        instruments = [self.case.instrument, *self.case.extra_instruments]
        parser = protocol.make_parser(SymbolMap(instruments))
        for raw in events():
            parser.parse_ws(raw, 0)
        return parser
