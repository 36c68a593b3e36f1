"""The shared adapter contract, driven by KuCoin's recorded BCHSV-USDT book: the REST level2
snapshot, then the recorded ``trade.l2update`` increments after it."""

from __future__ import annotations

import json

import pytest

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.kucoin.helpers import BCHSV_USDT, kucoin_dir_or_skip, session

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FOLDER = kucoin_dir_or_skip()


def _case() -> ContractCase:
    frames = session(FOLDER)
    at = next(i for i, f in enumerate(frames) if f.kind == "rest" and "BCHSV-USDT" in f.url)
    snapshot = frames[at]
    deltas = [f for f in frames[at + 1 :] if f.kind == "ws" and '"symbol":"BCHSV-USDT"' in f.raw
              and "trade.l2update" in f.raw][:200]  # fmt: skip
    every = [f.raw for f in frames if f.kind == "ws"]
    control = [
        next(f for f in every if '"type":"welcome"' in f),
        next(f for f in every if '"type":"ack"' in f),
        next(f for f in every if "trade.ticker" in f),
        next(f for f in every if "trade.l3match" in f),
        '{"id":"1545910590801","type":"pong"}',
    ]
    good = json.loads(deltas[0].raw)
    data = good["data"]
    backwards = {**good, "data": {**data, "sequenceEnd": data["sequenceStart"] - 1}}
    no_start = {**good, "data": {k: v for k, v in data.items() if k != "sequenceStart"}}
    bad_price = {**good, "data": {**data, "changes": {"asks": [], "bids": [["-1", "5", "1"]]}}}
    bad_size = {**good, "data": {**data, "changes": {"asks": [["1", "lots", "1"]], "bids": []}}}
    nan_size = {**good, "data": {**data, "changes": {"asks": [["1", "NaN", "1"]], "bids": []}}}
    malformed = [json.dumps(x) for x in (backwards, no_start, bad_price, bad_size, nan_size)]
    malformed += [
        '{"id":"abc","type":"error","code":401,"data":"token is invalid"}',
        '{"type":"message","subject":"trade.l2update","topic":"/market/level2:BCHSV-USDT",'
        '"data":{"symbol":"BCHSV-USDT"}}',
        '{"hello":"world"}',
    ]
    return ContractCase(
        venue="kucoin",
        symbol="BCHSV-USDT",
        instrument=BCHSV_USDT,
        snapshot=RecordedFrame("rest", snapshot.raw, snapshot.url),
        deltas=[RecordedFrame("ws", f.raw) for f in deltas],
        control_frames=control,
        malformed_frames=malformed,
    )


class TestContract(AdapterContract):
    case = _case()
