"""OKX v5 spot: public ``books`` market data, private REST trading, and its simulator side."""

from __future__ import annotations

from arb_venues.base import Endpoints, VenueSpec
from arb_venues.okx.market import MAKER_FEE, TAKER_FEE, OkxMarket
from arb_venues.okx.parser import OkxParser
from arb_venues.okx.signing import sign
from arb_venues.okx.sim.app import create_app
from arb_venues.okx.trading import OkxTrading

VENUE = VenueSpec(
    name="okx",
    market=OkxMarket,
    trading=OkxTrading,
    sign=sign,
    endpoints=Endpoints(
        ws_url="wss://ws.okx.com:8443/ws/v5/public",
        rest_url="https://www.okx.com",
        ws_private_url="wss://ws.okx.com:8443/ws/v5/private",
    ),
    create_sim_app=create_app,
    taker_fee=TAKER_FEE,
    maker_fee=MAKER_FEE,
    notes=(
        "WS /ws/v5/public channel books (400 levels; books5 / bbo-tbt by depth), text ping/pong. "
        "seq = seqId, prev_seq = prevSeqId (synthetic counter for pre-2022 recordings). "
        "Snapshots from REST GET /api/v5/market/books (seqId), per OKX's changelog of "
        "2026-02-12; a WS snapshot action is parsed too. Checksum: CRC32 of the top 25 levels, "
        "passed on when non-zero (recordings); OKX sends 0 since 2026-06-23. "
        "Verified: 290/290 checksums of the 2022 recording rebuild; signing per the docs."
    ),
)

__all__ = ["VENUE", "OkxMarket", "OkxParser", "OkxTrading", "create_app", "sign"]
