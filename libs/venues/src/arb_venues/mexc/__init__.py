"""MEXC spot (API v3): protobuf WS market data (aggregated depth with fromVersion/toVersion)
on REST snapshots, HMAC-SHA256 query-signed REST trading, and its simulator side."""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.mexc.market import MexcMarket
from arb_venues.mexc.parser import MexcParser
from arb_venues.mexc.signing import sign
from arb_venues.mexc.trading import MexcTrading
from arb_venues.spec import Grid, SymbolFormat, VenueDocs, VenueSpec

_DOCS = "https://www.mexc.com/api-docs/spot-v3"

VENUE = VenueSpec(
    name="mexc",
    market=MexcMarket,
    trading=MexcTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://wbs-api.mexc.com/ws", rest_url="https://api.mexc.com"),
    taker_fee="0.0005",
    maker_fee="0",
    fee_source="spot default rates, 0 % maker / 0.05 % taker: "
    "https://www.mexc.co/en-IN/learn/article/calculation-of-fees-in-spot-trading/1",
    # "in which currency market is traded, such a currency is deducted as the fee" (same page)
    fee_asset="quote",
    symbols=SymbolFormat(separator=""),
    # "Each connection to wss://wbs-api.mexc.com/ws is valid for no more than 24 hours."
    ws_lifetime_s=24 * 3600.0,
    # GET /api/v3/exchangeInfo quotePrecision / baseAssetPrecision / baseSizePrecision /
    # quoteAmountPrecision of these pairs, rounded to values that stay valid: the lots are
    # coarser than MEXC's own decimals (any multiple of its step is a valid quantity), as
    # coarse as the other venues', so a fill here never leaves a remainder below their lot.
    grids={
        "BTC": Grid("0.01", "0.00001", "0.00001", "1"),
        "ETH": Grid("0.01", "0.0001", "0.0001", "1"),
        "SOL": Grid("0.01", "0.001", "0.001", "1"),
    },
    docs=VenueDocs(
        title="MEXC spot",
        market_data="`spot@public.aggre.depth.v3.api.pb@100ms@<SYM>` (protobuf) + REST "
        "`/api/v3/depth`",
        sync="`fromVersion`/`toVersion` on `lastUpdateId`, gaps resync; audit by sequence",
        signing="HMAC-SHA256 query signing (`X-MEXC-APIKEY`)",
        ws="`wss://wbs-api.mexc.com/ws`; pushes are binary protobuf `PushDataV3ApiWrapper` "
        "(definitions: https://github.com/mexcdevelop/websocket-proto), replies JSON",
        channel="`spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@<SYM>` (default 100ms), "
        f"≤ 30 subscriptions a connection ({_DOCS}/websocket-market-streams)",
        snapshot="REST `GET /api/v3/depth?limit=1000` (`lastUpdateId`, weight 1, max 5000)",
        instruments="`GET /api/v3/exchangeInfo` (weight 10)",
        sequence="`(fromVersion-1, toVersion)`; pushes with `toVersion <= lastUpdateId` "
        "dropped, the first applied has `fromVersion <= lastUpdateId + 1`, then `fromVersion "
        "== previous toVersion + 1` "
        f"({_DOCS}/websocket-market-streams/how-to-properly-maintain-a-local-copy-of-the-order-book)",
        verified="continuity (versions); protobuf decoding against the published .proto field "
        "numbers; signing per the docs' worked example",
        keepalive='`{"method":"PING"}` every 10 s, answered `{"id":0,"code":0,"msg":"PONG"}` '
        "(no data for 60 s, or no subscription for 30 s, closes the connection)",
        subscribe="`SUBSCRIPTION` with 5 channels a message, 0.2 s apart (limit 100 msgs/s)",
        server_time_field="`serverTime` (ms)",
        timestamp_refused="700003, 10073",
        rest_budget="public 20 + 20/s (each endpoint 500 / 10 s per IP); orders + cancels "
        "12/s; account 2/s",
        sim_ws="`/ws` `SUBSCRIPTION`/`UNSUBSCRIPTION`/`PING`; `aggre.depth` `@100ms`/`@10ms` "
        "binary protobuf pushes with `fromVersion`/`toVersion`; ≤ 30 subscriptions; closed "
        "after 30 s without one",
        sim_rest="`/api/v3/depth` (`lastUpdateId`), `/api/v3/exchangeInfo`, `/api/v3/ping`, "
        "`/api/v3/time`",
        sim_private="`/api/v3/order` POST/GET/DELETE, `/api/v3/account`, `/api/v3/allOrders`, "
        "`/api/v3/myTrades` (HMAC-SHA256, `recvWindow`)",
        audit="by sequence (`lastUpdateId`): exact",
    ),
    notes=(
        "WS wss://wbs-api.mexc.com/ws, SUBSCRIPTION of spot@public.aggre.depth.v3.api.pb@100ms@"
        "<SYM> (<= 30 a connection); pushes are protobuf PushDataV3ApiWrapper, decoded with the "
        "protobuf package from MEXC's published definitions (declared in schemas.py) and kept "
        "as their proto3 JSON text; (fromVersion, toVersion) normalised to prev_seq = "
        "fromVersion - 1, seq = toVersion on REST /api/v3/depth lastUpdateId snapshots. "
        "Trading: HMAC-SHA256 signed REST (type IMMEDIATE_OR_CANCEL, read back by "
        "origClientOrderId, fees from myTrades). No recording exists: verified on the docs' "
        "example push and signing example and against the simulator."
    ),
)

__all__ = ["VENUE", "MexcMarket", "MexcParser", "MexcTrading", "sign"]
