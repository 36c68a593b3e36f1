"""Coinbase: Advanced Trade (current) market data and trading, plus the legacy Exchange feed.

Market data: Advanced Trade WS ``level2`` (+ ``heartbeats``); the same parser also reads the
legacy Coinbase Exchange ``level2`` frames of the 2021 recording (it tells them apart by
their keys). Trading: Advanced Trade REST with CDP API keys (ES256 JWT).
"""

from __future__ import annotations

from arb_venues.base import Endpoints, VenueSpec
from arb_venues.coinbase.market import MAKER_FEE, TAKER_FEE, CoinbaseMarket
from arb_venues.coinbase.parser import CoinbaseParser
from arb_venues.coinbase.signing import sign
from arb_venues.coinbase.sim.app import create_app
from arb_venues.coinbase.trading import CoinbaseTrading

VENUE = VenueSpec(
    name="coinbase",
    market=CoinbaseMarket,
    trading=CoinbaseTrading,
    sign=sign,
    endpoints=Endpoints(
        ws_url="wss://advanced-trade-ws.coinbase.com",
        rest_url="https://api.coinbase.com",
    ),
    create_sim_app=create_app,
    taker_fee=TAKER_FEE,
    maker_fee=MAKER_FEE,
    notes=(
        "WS level2 -> l2_data snapshot/update (+ heartbeats to keep quiet subscriptions "
        "open); no per-book sequence: synthetic per-book counters; the per-connection "
        "sequence_num is checked and a jump resyncs every book (unsubscribe + subscribe). "
        "No book checksum exists. The parser also reads legacy Exchange level2 "
        "(snapshot/l2update). Private REST: ES256 JWT (iss cdp, uri claim), IOC orders via "
        "sor_limit_ioc; order lookup by client id lists the product's recent orders."
    ),
)

__all__ = ["VENUE", "CoinbaseMarket", "CoinbaseParser", "CoinbaseTrading"]
