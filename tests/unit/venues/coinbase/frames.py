"""Where the Coinbase tests get their frames: the recorded files, and frames from our sim.

The recorded data stays in the shared fixtures folder (never copied here): ARB_FIXTURES_DIR,
or ../shared/fixtures beside the checkout.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from arb_venues.capture import iter_book_frames, read_capture
from arb_venues.coinbase.sim.app import Connection

from tests.unit.venues.coinbase.simulated import coinbase_market

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
RECORDING = "coinbase/cryptofeed_COINBASE.ws.28.0.jsonl"
AT_SNAPSHOT = "coinbase/nautilus_ws_l2_data_snapshot.json"
AT_UPDATE = "coinbase/nautilus_ws_l2_data_update.json"


def recorded_messages(fixtures: Path) -> list[str]:
    """Every received WS message of the legacy recording, in order (as arb replay reads it)."""
    frames = iter_book_frames(read_capture(fixtures / RECORDING))
    return [frame.raw for frame in frames]


def sim_updates(first_sequence_num: int) -> list[str]:
    """Two BTC-USD l2_data update frames written by our sim (not recorded), continuing the
    Advanced Trade example frames: the contract needs three deltas, the recording has one."""
    market = coinbase_market()
    connection = Connection(None, market)  # type: ignore[arg-type]  # only formats frames
    connection.sequence = first_sequence_num
    frames = []
    for bids, asks in (
        ([(Decimal("68899.50"), Decimal("0"))], [(Decimal("68901.50"), Decimal("0.25"))]),
        ([(Decimal("68900.50"), Decimal("0.1"))], []),
    ):
        frames.append(connection._l2("update", "BTC-USD", bids, asks, None).decode())
    return frames
