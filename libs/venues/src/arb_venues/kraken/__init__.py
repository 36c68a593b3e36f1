"""Kraken spot: WS v2 ``book`` (default) or WS v1 ``book-N``, REST AssetPairs/Depth, private
REST with HMAC-SHA512 signing. See market.py for choosing the protocol version."""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.kraken.checksum import CHECKSUM
from arb_venues.kraken.market import KrakenMarket, KrakenMarketV1
from arb_venues.kraken.signing import sign
from arb_venues.kraken.trading import KrakenTrading
from arb_venues.spec import CredentialFormat, Grid, SymbolFormat, VenueDocs, VenueSpec

VENUE = VenueSpec(
    name="kraken",
    market=KrakenMarket,
    trading=KrakenTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://ws.kraken.com", rest_url="https://api.kraken.com"),
    taker_fee="0.004",
    maker_fee="0.0025",
    fee_source="lowest tier of Kraken Pro's schedule: https://www.kraken.com/features/fee-schedule",
    # Kraken takes fees in the quote currency by default (order flag fcib/fciq aside).
    fee_asset="quote",
    symbols=SymbolFormat(separator="/"),
    credentials=CredentialFormat(secret="base64"),
    checksum=CHECKSUM,
    # Kraken documents no interval: book streams changes in real time (market.py's docstring).
    # The simulator sends a book's changes of one market tick (20 ms at the default 50 Hz) as
    # one frame, its checksum over the book after them, so it is not a per-change feed here.
    frame_per_change=False,
    # /0/public/AssetPairs tick_size / lot_decimals / ordermin / costmin (USDT-quoted here).
    grids={
        "BTC": Grid("0.1", "0.00000001", "0.00005", "0.5"),
        "ETH": Grid("0.01", "0.00000001", "0.002", "0.5"),
        "SOL": Grid("0.01", "0.00000001", "0.02", "0.5"),
    },
    docs=VenueDocs(
        title="Kraken spot",
        market_data="WS v2 `book` (v1 `book-N` with `ARB_INGEST_PROTOCOL=v1`)",
        sync=(
            "CRC32 over the top 10 from the wire number text "
            "(an update without one resyncs); audit by content"
        ),
        signing="HMAC-SHA512 with nonce",
        ws="v2 `wss://ws.kraken.com/v2` (default), v1 `wss://ws.kraken.com`",
        channel="v2 `book`, v1 `book-N` (depth 10/25/100/500/1000, default 10)",
        snapshot="WS: snapshot after each subscribe",
        instruments="`GET /0/public/AssetPairs`",
        sequence="no venue sequence: a per-book counter in the parser",
        verified=(
            "CRC32 over the top 10 on every update (v1: updates; v2: snapshot + updates), "
            "from the exact number text; an update without one is counted "
            "(`arb_book_checksums_missing_total`) and resyncs its book"
        ),
        keepalive='v2 `{"method":"ping"}`, v1 `{"event":"ping"}` every 15 s',
        subscribe="25 pairs a message, 0.2 s apart",
        server_time_field="`result.unixtime` (s)",
        timestamp_refused="— (nonce; AddOrder's `deadline` uses the clock)",
        rest_budget="1 + 1/s",
        sim_ws="v2 at `/v2` (`book` channel, JSON numbers, CRC32 checksum), v1 at `/` (`book-N`, "
        "decimals as strings); heartbeats",
        sim_rest="`/0/public/Depth`, `/0/public/AssetPairs`, `/0/public/Assets`, `/0/public/Time`",
        sim_private="`/0/private/*` (API-Sign: HMAC-SHA512 over path + SHA256(nonce + body), "
        "base64 secret)",
        audit="by content (`/0/public/Depth` has no sequence)",
        levels="every level, from its exact number text",
    ),
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
