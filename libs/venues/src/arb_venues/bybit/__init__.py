"""Bybit v5, spot category: public WS order books, instruments, private REST for a UTA account.

Channels: ``orderbook.{1|50|200|1000}.{SYMBOL}`` on ``/v5/public/spot`` (default depth 50),
snapshot on subscribe, deltas with ``u`` + 1 per message; no checksum. Verified against the
recorded 2024-12-01 XRPUSDT orderbook.500 session (linear, same message format).
"""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.bybit.market import BybitMarket
from arb_venues.bybit.parser import BybitParser
from arb_venues.bybit.signing import sign
from arb_venues.bybit.trading import BybitTrading
from arb_venues.spec import Grid, Recording, SymbolFormat, VenueDocs, VenueSpec

VENUE = VenueSpec(
    name="bybit",
    market=BybitMarket,
    trading=BybitTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://stream.bybit.com", rest_url="https://api.bybit.com"),
    taker_fee="0.001",
    maker_fee="0.001",
    fee_source="spot VIP 0, 0.1 % both ways: "
    "https://www.bybit.com/en/help-center/article/Trading-Fee-Structure",
    fee_asset="received",
    symbols=SymbolFormat(separator=""),
    # /v5/market/instruments-info tickSize / basePrecision / minOrderQty / minOrderAmt.
    grids={
        "BTC": Grid("0.01", "0.000001", "0.000048", "1"),
        "ETH": Grid("0.01", "0.00001", "0.00062", "1"),
        "SOL": Grid("0.01", "0.001", "0.001", "1"),
    },
    recording=Recording(("bybit/nautilus_2024-12-01_XRPUSDT_ob500.jsonl",)),
    docs=VenueDocs(
        title="Bybit v5 spot",
        market_data="`orderbook.{1,50,200}`",
        sync="snapshot/delta on `u`, `u == 1` resets; audit by content",
        signing="HMAC-SHA256 headers",
        ws="`wss://stream.bybit.com/v5/public/spot`",
        channel="`orderbook.{1,50,200,1000}.<SYM>` (default 50)",
        snapshot="WS: snapshot after each subscribe",
        instruments="`GET /v5/market/instruments-info?category=spot`",
        sequence="`(u-1, u)`, `u` +1 a message; any snapshot resets (also `u == 1` after a "
        "Bybit restart)",
        verified="continuity (`u`)",
        keepalive='`{"op":"ping"}` every 20 s',
        subscribe="10 args a message, 0.1 s apart",
        server_time_field="`result.timeNano` (ns)",
        timestamp_refused="10002 (recv_window back, 1 s ahead)",
        rest_budget="300 + 60/s",
        sim_ws="`/v5/public/spot`: `orderbook.{1,50,200,1000}.<sym>` snapshot then deltas, `u` +1 "
        "per message",
        sim_rest="`/v5/market/orderbook`, `/v5/market/instruments-info` (linear, inverse, option: "
        "empty), `/v5/market/time`",
        sim_private="`/v5/order/create`, `/cancel`, `/realtime`, `/history`, "
        "`/v5/account/wallet-balance` (HMAC, `recv_window`, retCodes)",
        audit=(
            "by content (the REST `u` is the 1000-level stream's; by sequence on `orderbook.1000`)"
        ),
        levels="every level (the model: it refused every fuzz case)",
    ),
    notes=(
        "spot v5: WS orderbook.{depth}.{symbol} on /v5/public/spot (depth 1/50/200/1000, "
        "default 50), snapshot on subscribe then deltas, u +1 per message, a snapshot always "
        "resets (u=1 after a Bybit restart); resync = unsubscribe + subscribe; ping every 20 s; "
        "<=10 args per subscribe. No checksum. Instruments /v5/market/instruments-info. "
        "Private: HMAC-SHA256 X-BAPI-* headers, /v5/order/create (IOC limit, orderLinkId uuid5), "
        "/v5/order/realtime then /v5/order/history, /v5/order/cancel, "
        "/v5/account/wallet-balance (UNIFIED). Parser checked on the recorded XRPUSDT "
        "orderbook.500 session: 1 snapshot + 49 deltas, 0 gaps."
    ),
)

__all__ = ["VENUE", "BybitMarket", "BybitParser", "BybitTrading"]
