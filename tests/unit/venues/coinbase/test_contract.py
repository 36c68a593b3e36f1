"""The adapter contract, driven by Coinbase's Advanced Trade example frames.

Snapshot and first update: nautilus_ws_l2_data_{snapshot,update}.json (Advanced Trade
``l2_data``, doc-style). Two more updates come from our sim (``frames.sim_updates``): the
contract needs three deltas and there is only one recorded Advanced Trade update.
"""

from __future__ import annotations

import pytest
from arb_structs import Instrument

from tests.conftest import IN_CI
from tests.unit.venues.coinbase.frames import (
    AT_SNAPSHOT,
    AT_UPDATE,
    FIXTURES,
    recorded_messages,
    sim_updates,
)
from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

if not FIXTURES.is_dir():
    message = f"recorded exchange data not found at {FIXTURES}; set ARB_FIXTURES_DIR"
    if IN_CI:
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)


def _control_frames() -> list[str]:
    legacy = recorded_messages(FIXTURES)
    wanted = {'"type":"subscriptions"', '"type":"ticker"', '"type":"match"', '"type":"last_match"'}
    picked = {kind: next(m for m in legacy if kind in m) for kind in wanted}
    return [
        *picked.values(),
        '{"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:00.000000Z",'
        '"sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]}',
        '{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z",'
        '"sequence_num":1,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC '
        'm=+91717.525857105","heartbeat_counter":"3049"}]}',
    ]


MALFORMED = [
    '{"channel":"l2_data","sequence_num":5,"events":[{"type":"update","product_id":"BTC-USD",'
    '"updates":[{"side":"middle","price_level":"1.00","new_quantity":"1"}]}]}',
    '{"channel":"l2_data","sequence_num":6,"events":[{"type":"update","product_id":"BTC-USD",'
    '"updates":[{"side":"bid","price_level":"abc","new_quantity":"1"}]}]}',
    '{"channel":"l2_data","sequence_num":7,"events":[{"type":"update","product_id":"BTC-USD",'
    '"updates":[{"side":"bid","price_level":"nan","new_quantity":"1"}]}]}',
    '{"channel":"l2_data","sequence_num":8,"events":[{"type":"bogus","product_id":"BTC-USD",'
    '"updates":[]}]}',
    '{"channel":"l2_data","events":"not a list"}',
    '{"type":"l2update","product_id":"BTC-USD","changes":[["hold","1.0","2"]]}',
    '{"type":"snapshot","product_id":"BTC-USD","bids":[["x","1"]],"asks":[]}',
    '{"type":"l2update","product_id":"NOT_A_PRODUCT","changes":[["buy","1.0","2"]]}',
    '{"type":"error","message":"Failed to subscribe","reason":"SKL-XYZ is not a valid product"}',
    '{"unrelated":1}',
    "[1, 2, 3]",
]

CASE = ContractCase(
    venue="coinbase",
    symbol="BTC-USD",
    instrument=Instrument(
        venue="coinbase",
        symbol="BTC-USD",
        venue_symbol="BTC-USD",
        base="BTC",
        quote="USD",
        tick_size="0.01",
        lot_size="0.00000001",
        min_size="0.00000001",
        min_notional="1",
        price_decimals=2,
        size_decimals=8,
    ),
    snapshot=RecordedFrame("ws", (FIXTURES / AT_SNAPSHOT).read_text()),
    deltas=[
        RecordedFrame("ws", (FIXTURES / AT_UPDATE).read_text()),
        *(RecordedFrame("ws", frame) for frame in sim_updates(first_sequence_num=2)),
    ],
    control_frames=_control_frames(),
    malformed_frames=MALFORMED,
)


class TestContract(AdapterContract):
    case = CASE
