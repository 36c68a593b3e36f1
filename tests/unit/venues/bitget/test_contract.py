"""The shared adapter contract, driven by Bitget frames built from the docs' own example
(https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel; no recording exists)."""

from __future__ import annotations

import json

import pytest

from tests.unit.venues.bitget.helpers import ARG, BTC_USDT, docs_session
from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame

pytestmark = pytest.mark.unit


def _case() -> ContractCase:
    snapshot, updates = docs_session()
    good = json.loads(updates[0])
    entry = good["data"][0]
    no_seq = {**good, "data": [{k: v for k, v in entry.items() if k != "seq"}]}
    bad_price = {**good, "data": [{**entry, "bids": [["-1", "5"]]}]}
    bad_size = {**good, "data": [{**entry, "asks": [["26275.0", "lots"]]}]}
    bad_action = {**good, "action": "partial"}
    no_data = {"action": "update", "arg": ARG}
    malformed = [json.dumps(x) for x in (no_seq, bad_price, bad_size, bad_action, no_data)]
    malformed.append(
        '{"event":"error","code":30001,"msg":"instType:SPOT,channel:books,instId:BTCUSD '
        "doesn't exist\"}"
    )
    control = [
        "pong",
        json.dumps({"event": "subscribe", "arg": ARG}),
        json.dumps({"event": "unsubscribe", "arg": ARG}),
        json.dumps({"action": "snapshot", "arg": {**ARG, "channel": "trade"},
                    "data": [{"ts": "1695716760565", "price": "27000.5", "size": "0.001",
                              "side": "buy", "tradeId": "1111111111"}], "ts": 1695716761589}),
    ]  # fmt: skip
    return ContractCase(
        venue="bitget",
        symbol="BTC-USDT",
        instrument=BTC_USDT,
        snapshot=RecordedFrame("ws", snapshot),
        deltas=[RecordedFrame("ws", f) for f in updates],
        control_frames=control,
        malformed_frames=malformed,
    )


class TestContract(AdapterContract):
    case = _case()
