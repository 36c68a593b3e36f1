"""Coinbase: Advanced Trade (current) market data and trading, plus the legacy Exchange feed.

Market data: Advanced Trade WS ``level2`` (+ ``heartbeats``); the same parser also reads the
legacy Coinbase Exchange ``level2`` frames of the 2021 recording (it tells them apart by
their keys). Trading: Advanced Trade REST with CDP API keys (ES256 JWT).
"""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.coinbase.market import CoinbaseMarket
from arb_venues.coinbase.parser import CoinbaseParser
from arb_venues.coinbase.signing import sign
from arb_venues.coinbase.trading import CoinbaseTrading
from arb_venues.spec import CredentialFormat, Grid, Recording, SymbolFormat, VenueDocs, VenueSpec

VENUE = VenueSpec(
    name="coinbase",
    market=CoinbaseMarket,
    trading=CoinbaseTrading,
    sign=sign,
    endpoints=Endpoints(
        ws_url="wss://advanced-trade-ws.coinbase.com",
        rest_url="https://api.coinbase.com",
    ),
    # The lowest-volume Advanced Trade tier as published at the time of writing; an account's
    # real rates come from GET /api/v3/brokerage/transaction_summary. Conservative on purpose:
    # a too-low taker fee would make the detector trade edges that are not there.
    taker_fee="0.012",
    maker_fee="0.006",
    fee_source="https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/"
    "advanced-trade-fees",
    fee_asset="quote",
    symbols=SymbolFormat(separator="-"),
    credentials=CredentialFormat(
        secret="ec_p256_pem", key_name="organizations/{org}/apiKeys/{key}"
    ),
    # level2 sends every update, no interval (market.py's docstring, its pages).
    frame_per_change=True,
    # /api/v3/brokerage/market/products quote_increment / base_increment / base_min_size.
    grids={
        "BTC": Grid("0.01", "0.00000001", "0.00000001", "1"),
        "ETH": Grid("0.01", "0.00000001", "0.00000001", "1"),
        "SOL": Grid("0.01", "0.00000001", "0.00000001", "1"),
    },
    recording=Recording(("coinbase/cryptofeed_COINBASE.ws.28.0.jsonl",)),
    docs=VenueDocs(
        title="Coinbase Advanced Trade",
        market_data="Advanced Trade `level2` (and Exchange `level2` recordings)",
        sync="`sequence_num` continuity; audit by content",
        signing="ES256 JWT",
        ws="`wss://advanced-trade-ws.coinbase.com`",
        channel="`level2` (+ `heartbeats`)",
        snapshot="WS: snapshot after each subscribe",
        instruments="`GET /api/v3/brokerage/market/products?product_type=SPOT`",
        sequence="per-book counter; the per-connection `sequence_num` must not jump, a jump "
        "resyncs every book",
        verified="connection `sequence_num` continuity; no checksum exists",
        keepalive="re-subscribe `heartbeats` every 20 s (quiet channels close after 60-90 s)",
        subscribe="10 products a message, 0.25 s apart (8 msgs/s cap unauthenticated)",
        server_time_field="`epochMillis` (ms)",
        timestamp_refused="— (401 for an expired JWT)",
        rest_budget="10 + 10/s",
        sim_ws="`/`: `level2` → `l2_data` snapshot then updates, `sequence_num` per connection, "
        "heartbeats, subscriptions acks",
        sim_rest="`/api/v3/brokerage/market/products` (`limit`, `offset`, `product_ids`), "
        "`/market/products/{id}`, `/market/product_book`, `/api/v3/brokerage/time`, "
        "`/products[/{id}]`, `/v2/currencies[/crypto]`, `/v2/exchange-rates`",
        sim_private="`/api/v3/brokerage/orders` & co, `/accounts` (ES256 JWT per request)",
        audit="by content (`product_book` has no sequence)",
        levels='every level (`new_quantity` "Infinity" refused)',
    ),
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
