"""Kraken spot: WS v2 ``book`` (default) or WS v1 ``book-N``, REST AssetPairs/Depth, private
REST with HMAC-SHA512 signing. See market.py for choosing the protocol version."""

from __future__ import annotations

from arb_venues.base import Endpoints, VenueSpec
from arb_venues.kraken.market import KrakenMarket, KrakenMarketV1
from arb_venues.kraken.signing import sign
from arb_venues.kraken.sim.app import create_app
from arb_venues.kraken.trading import KrakenTrading

VENUE = VenueSpec(
    name="kraken",
    market=KrakenMarket,
    trading=KrakenTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://ws.kraken.com", rest_url="https://api.kraken.com"),
    create_sim_app=create_app,
    # Lowest tier of Kraken Pro's schedule (https://www.kraken.com/features/fee-schedule);
    # fetch_instruments reads each pair's own tiers from AssetPairs.
    taker_fee="0.004",
    maker_fee="0.0025",
    notes=(
        "WS v2 book at <ws_url>/v2 (default) or v1 book-N at <ws_url> "
        "(KrakenMarket(..., protocol_version='v1') or KrakenMarketV1); depths 10/25/100/500/1000. "
        "No sequence numbers: a synthetic per-book counter; integrity from Kraken's CRC32 "
        "checksum over the top 10 levels (exact wire text carried in bids_text/asks_text; "
        "v2: snapshot + every update, v1: updates only). Resync = unsubscribe + subscribe. "
        "Verified: the docs' signing example; the checksum worked example (3310070434); "
        "parsing of the hand-made v2 snapshot/update fixtures (their checksum is fake). "
        "No multi-message real Kraken recording exists: checksum continuity is proven on "
        "frames the simulator generates."
    ),
)

__all__ = ["VENUE", "KrakenMarket", "KrakenMarketV1", "KrakenTrading"]
