"""The shared adapter contract, driven by HTX's recorded books (OMG-BTC) as the mbp channel:
a ``req`` refresh of a recorded book, then the recorded changes as incremental updates."""

from __future__ import annotations

import json

import pytest

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.htx.helpers import OMG_BTC, htx_dir_or_skip, mbp_frames, recorded_ws

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FOLDER = htx_dir_or_skip()


def _case() -> ContractCase:
    refresh, updates = mbp_frames(FOLDER, "omgbtc")
    frames = recorded_ws(FOLDER)
    control = [
        next(f for f in frames if '"subbed":"market.omgbtc.depth.step0"' in f),
        next(f for f in frames if '"ping"' in f),
        next(f for f in frames if "market.omgbtc.trade.detail" in f),
        '{"id":"7","status":"ok","unsubbed":"market.omgbtc.mbp.150","ts":1618678070653}',
    ]
    good = json.loads(updates[0])
    no_seq = {**good, "tick": {k: v for k, v in good["tick"].items() if k != "seqNum"}}
    backwards = {**good, "tick": {**good["tick"], "seqNum": good["tick"]["prevSeqNum"]}}
    bad_price = {**good, "tick": {**good["tick"], "bids": [[-1.0, 5.0]]}}
    bad_size = {**good, "tick": {**good["tick"], "asks": [[1.0, "lots"]]}}
    malformed = [json.dumps(x) for x in (no_seq, backwards, bad_price, bad_size)]
    malformed += [
        '{"status":"error","ts":1,"id":"2","err-code":"bad-request","err-msg":"invalid topic"}',
        '{"rep":"market.omgbtc.mbp.150","status":"ok","id":"3"}',  # a refresh without data
        '{"hello":"world"}',
    ]
    return ContractCase(
        venue="htx",
        symbol="OMG-BTC",
        instrument=OMG_BTC,
        snapshot=RecordedFrame("ws", refresh),
        deltas=[RecordedFrame("ws", f) for f in updates],
        control_frames=control,
        malformed_frames=malformed,
    )


class TestContract(AdapterContract):
    case = _case()
