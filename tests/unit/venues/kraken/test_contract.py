"""The adapter contract for Kraken (WS v2, the default protocol).

Kraken has no recorded multi-message session (shared/fixtures/CHECKSUMS.md section 3): the
snapshot and the first delta are the recorded (hand-made) nautilus v2 frames; the further
deltas are v2 update frames produced by OUR simulator's encoder (arb_venues.kraken.sim.frames)
for the same book, because the contract needs >= 3 deltas.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from arb_venues.kraken.sim import frames

from ..contract import AdapterContract, ContractCase, RecordedFrame
from .helpers import BTC_USD

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
if not FIXTURES.is_dir():
    message = f"recorded exchange data not found at {FIXTURES} (set ARB_FIXTURES_DIR)"
    if IN_CI:
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)


def _sim_updates(snapshot_raw: str, update_raw: str) -> list[str]:
    """Three sim-encoded updates continuing the recorded book (after its recorded update)."""
    snapshot = msgspec.json.decode(snapshot_raw)["data"][0]
    update = msgspec.json.decode(update_raw)["data"][0]
    bids = {Decimal(str(lv["price"])): Decimal(str(lv["qty"])) for lv in snapshot["bids"]}
    asks = {Decimal(str(lv["price"])): Decimal(str(lv["qty"])) for lv in snapshot["asks"]}
    for level in update["bids"]:
        bids[Decimal(str(level["price"]))] = Decimal(str(level["qty"]))
    sent = frames.SentBook(10, 2, 3)
    sent.reset(sorted(bids.items(), reverse=True), sorted(asks.items()))
    out = []
    for side, price, qty in (
        ("bids", "105940.00", "0.400"),
        ("asks", "105946.90", "0"),
        ("asks", "105944.80", "0.010"),
    ):
        book = bids if side == "bids" else asks
        if Decimal(qty):
            book[Decimal(price)] = Decimal(qty)
        else:
            book.pop(Decimal(price))
        b, a = sent.update(sorted(bids.items(), reverse=True), sorted(asks.items()))
        out.append(
            frames.v2_book(
                "update", "BTC/USD", b, a, sent.checksum(), "2023-10-06T17:35:56.000001Z"
            )
        )
    return out


_SNAPSHOT = (FIXTURES / "kraken" / "nautilus_ws_book_snapshot.json").read_text()
_UPDATE = (FIXTURES / "kraken" / "nautilus_ws_book_update.json").read_text()

CASE = ContractCase(
    venue="kraken",
    symbol="BTC-USD",
    instrument=BTC_USD,
    snapshot=RecordedFrame("ws", _SNAPSHOT),
    deltas=[RecordedFrame("ws", _UPDATE)]
    + [RecordedFrame("ws", f) for f in _sim_updates(_SNAPSHOT, _UPDATE)],
    control_frames=[
        '{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,'
        '"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z",'
        '"time_out":"2023-09-25T09:04:31.742648Z"}',
        '{"method":"pong","time_in":"2023-09-24T14:10:23.799685Z",'
        '"time_out":"2023-09-24T14:10:23.799703Z"}',
        '{"channel":"heartbeat"}',
        '{"channel":"status","data":[{"api_version":"v2","connection_id":12393906104898154338,'
        '"system":"online","version":"2.0.0"}],"type":"update"}',
    ],
    malformed_frames=[
        '{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":'
        '"45283.5","qty":0.1}],"asks":[],"checksum":1}]}',
        '{"channel":"book","type":"update"}',
        '{"channel":"book","type":"delta","data":[]}',
        '{"channel":"book","type":"update","data":[{"bids":[]}]}',
        '{"something":"else"}',
        '{"error":"Currency pair not supported BTC/XYZ","method":"subscribe","success":false}',
    ],
)


class TestContract(AdapterContract):
    case = CASE
