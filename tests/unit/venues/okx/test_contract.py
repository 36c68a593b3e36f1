"""The shared adapter contract, driven by OKX's recorded 2022 ``books`` frames (BTC-USDT)."""

from __future__ import annotations

import json

import pytest

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.okx.helpers import BTC_USDT, fixtures_path, recorded_ws

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FIXTURES = fixtures_path()
if FIXTURES is None:
    pytest.skip(
        "recorded OKX data not found (cryptofeed sample_data; set ARB_FIXTURES_DIR)",
        allow_module_level=True,
    )


def _case() -> ContractCase:
    assert FIXTURES is not None
    frames = recorded_ws(FIXTURES)
    mine = [f for f in frames if '"books","instId":"BTC-USDT"' in f and '"action"' in f]
    snapshot = next(f for f in mine if '"snapshot"' in f)
    deltas = [f for f in mine[mine.index(snapshot) + 1 :] if '"update"' in f]
    control = [f for f in frames if '"event":"subscribe"' in f][:3]
    control += [
        next(f for f in frames if '"channel":"trades"' in f and '"data"' in f),
        next(f for f in frames if '"channel":"tickers"' in f and '"data"' in f),
        "pong",
    ]
    good_update = json.loads(deltas[0])
    no_data = {k: v for k, v in good_update.items() if k != "data"}
    bad_action = {**good_update, "action": "partial"}
    bad_level = json.loads(deltas[0])
    bad_level["data"][0]["asks"] = [["not-a-price", "1", "0", "1"]]
    bad_seq = json.loads(deltas[0])
    bad_seq["data"][0]["seqId"] = "seven"
    malformed = [json.dumps(x) for x in (no_data, bad_action, bad_level, bad_seq)]
    malformed += [
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{}]}',
        '{"arg":{"channel":"books","instId":""},"action":"update","data":[]}',
    ]
    return ContractCase(
        venue="okx",
        symbol="BTC-USDT",
        instrument=BTC_USDT,
        snapshot=RecordedFrame("ws", snapshot),
        deltas=[RecordedFrame("ws", f) for f in deltas],
        control_frames=control,
        malformed_frames=malformed,
    )


class TestContract(AdapterContract):
    case = _case()
