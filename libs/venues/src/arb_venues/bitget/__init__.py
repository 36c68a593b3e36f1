"""Bitget spot, API v2: public ``books`` market data with its CRC-32 checksum, private REST
trading signed with HMAC-SHA256 base64 and a passphrase, and its simulator side."""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.bitget.checksum import CHECKSUM
from arb_venues.bitget.market import BitgetMarket
from arb_venues.bitget.parser import BitgetParser
from arb_venues.bitget.signing import sign
from arb_venues.bitget.trading import BitgetTrading
from arb_venues.spec import CredentialFormat, Grid, SymbolFormat, VenueDocs, VenueSpec

_DOCS = "https://www.bitget.com/api-doc"

VENUE = VenueSpec(
    name="bitget",
    market=BitgetMarket,
    trading=BitgetTrading,
    sign=sign,
    endpoints=Endpoints(
        ws_url="wss://ws.bitget.com/v2/ws/public",
        rest_url="https://api.bitget.com",
        ws_private_url="wss://ws.bitget.com/v2/ws/private",
    ),
    taker_fee="0.001",
    maker_fee="0.001",
    fee_source="spot VIP 0, 0.1 % both ways: https://www.bitget.com/fee",
    fee_asset="received",
    symbols=SymbolFormat(separator=""),
    credentials=CredentialFormat(passphrase=True),
    checksum=CHECKSUM,
    # ``books`` pushes every 200 ms (market.BOOKS_PUSH_INTERVAL_S): no frame per change.
    frame_per_change=False,
    # The WS closes every connection after 24 h (common/websocket-intro).
    ws_lifetime_s=86_400.0,
    # /api/v2/spot/public/symbols pricePrecision / quantityPrecision / minTradeUSDT of these
    # pairs, rounded to values that stay valid.
    grids={
        "BTC": Grid("0.01", "0.000001", "0.000001", "1"),
        "ETH": Grid("0.01", "0.0001", "0.0001", "1"),
        "SOL": Grid("0.01", "0.001", "0.001", "1"),
    },
    docs=VenueDocs(
        title="Bitget spot v2",
        market_data="`books` (+ `books1`/`books5`/`books15`)",
        sync="WS snapshot + updates, CRC32 of the top 25 on every update; `seq` must rise; "
        "audit by content",
        signing="HMAC-SHA256 base64 + passphrase",
        ws="`wss://ws.bitget.com/v2/ws/public`",
        channel="`books` (all levels, snapshot then updates); `books1`/`books5`/`books15` for "
        f"depth 1/5/15 ({_DOCS}/spot/websocket/public/Depth-Channel)",
        snapshot="WS: `snapshot` action after each subscribe (REST "
        "`GET /api/v2/spot/market/orderbook` has no sequence: audits only)",
        instruments="`GET /api/v2/spot/public/symbols`",
        sequence="`(last seq of the book, seq)`: Bitget's `seq` rises on updates \"except during "
        'symbol maintenance" and has no documented step or previous field, so a `seq` that '
        "does not rise resyncs the book and continuity is proven by the checksum",
        verified="CRC32 (signed) of the top 25 interleaved `price:amount`, from the pushed "
        "text, on every update (the docs' worked strings and example frames, the simulator, "
        "and ccxt's own Bitget checksum against the simulator; no recording exists)",
        keepalive='text `ping` every 25 s (Bitget: "a timer of 30 seconds", `pong` back; '
        f"{_DOCS}/common/websocket-intro)",
        subscribe="10 books a message, 0.2 s apart (10 messages/s and 240 subscribes an hour a "
        "connection)",
        server_time_field="`data.serverTime` (ms)",
        timestamp_refused="40008 (30 s)",
        rest_budget="public 20 + 20/s (20/s per IP); orders 10 + 10/s, queries 10 + 10/s "
        "(10-20/s per UID)",
        sim_ws="`/v2/ws/public`: `books` snapshot then updates with `seq` and the top-25 "
        "checksum, `books1`/`books5`/`books15`, `ping`/`pong`, error events 30001/30016",
        sim_rest="`/api/v2/spot/market/orderbook`, `/api/v2/spot/public/symbols`, "
        "`/api/v2/public/time`, `/api/v2/margin/currencies` (empty)",
        sim_private="`/api/v2/spot/trade/place-order`, `orderInfo`, `cancel-order`, "
        "`history-orders`, `unfilled-orders`, `/api/v2/spot/account/assets` (HMAC-SHA256 "
        "base64 + passphrase verified)",
        audit="by content (`/api/v2/spot/market/orderbook` has no sequence)",
        levels="every level, from its exact text (the checksum's)",
    ),
    notes=(
        "WS /v2/ws/public channel books (all levels; books1/5/15 by depth), text ping/pong. "
        "seq = Bitget seq, prev_seq = the book's last seq; a seq that does not rise resyncs. "
        "Checksum: signed CRC32 of the top 25 interleaved price:amount on every update. "
        "Snapshots from the WS; REST orderbook (no seq) for audits by content. Signing: "
        "ACCESS-SIGN = base64(HMAC-SHA256(timestamp + METHOD + path [+ ?query] + body)) with "
        "ACCESS-KEY / ACCESS-TIMESTAMP / ACCESS-PASSPHRASE. Verified against the docs' worked "
        "checksum strings, example frames and signing strings, and the simulator."
    ),
)

__all__ = ["VENUE", "BitgetMarket", "BitgetParser", "BitgetTrading", "sign"]
