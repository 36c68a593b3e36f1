"""The shared adapter contract, driven by the recorded Bybit XRPUSDT orderbook.500 session."""

from __future__ import annotations

import pytest

from tests.unit.venues.bybit.instruments import XRP
from tests.unit.venues.bybit.recorded import session_lines
from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

LINES = session_lines()

CASE = ContractCase(
    venue="bybit",
    symbol="XRP-USDT",
    instrument=XRP,
    snapshot=RecordedFrame("ws", LINES[0]),
    deltas=[RecordedFrame("ws", line) for line in LINES[1:]],
    control_frames=[
        # spot pong and subscribe ack (https://bybit-exchange.github.io/docs/v5/ws/connect)
        '{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a",'
        '"op":"ping"}',
        '{"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b",'
        '"req_id":"10001","op":"subscribe"}',
        '{"success":true,"ret_msg":"","op":"subscribe","conn_id":"cejreassvfrsfvb9v1a0-2m"}',
        '{"args":["1672916271846"],"op":"pong"}',
        # another topic on the same connection: trades carry a list in data
        '{"topic":"publicTrade.XRPUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":'
        '1672304486865,"s":"XRPUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick",'
        '"i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}',
    ],
    malformed_frames=[
        '{"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT"}}',
        '{"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT",'
        '"b":[["1.95","x"]],"a":[],"u":5}}',
        '{"topic":"orderbook.50.XRPUSDT","type":"patch","ts":1,"data":{"s":"XRPUSDT",'
        '"b":[],"a":[],"u":5}}',
        '{"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",'
        '"b":[],"a":[],"u":5}}',
        '{"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1}',
        "[1,2]",
        "{}",
        '{"success":false,"ret_msg":"Invalid symbol :[orderbook.50.XRPUSDX]","conn_id":"x",'
        '"op":"subscribe"}',
    ],
)


class TestContract(AdapterContract):
    case = CASE
