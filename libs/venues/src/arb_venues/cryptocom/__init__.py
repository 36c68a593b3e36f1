"""Crypto.com Exchange API v1, spot: ``book.{instrument}.{depth}`` delta books with ``u``/``pu``
continuity, HMAC-SHA256 signing over the documented parameter string, and its simulator side.

No recording of Crypto.com exists here: the parser is proven on the docs' own example
messages and the simulator (tests/unit/venues/cryptocom, tests/integration/venues/cryptocom).
"""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.cryptocom.market import CryptocomMarket
from arb_venues.cryptocom.parser import CryptocomParser
from arb_venues.cryptocom.signing import sign
from arb_venues.cryptocom.trading import CryptocomTrading
from arb_venues.spec import Grid, SymbolFormat, VenueDocs, VenueSpec

DOCS = "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html"

VENUE = VenueSpec(
    name="cryptocom",
    market=CryptocomMarket,
    trading=CryptocomTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://stream.crypto.com", rest_url="https://api.crypto.com"),
    taker_fee="0.001",
    maker_fee="0.001",
    fee_source="entry tier as third-party fee summaries give it (0.1 % both ways); not verified "
    "on Crypto.com's own fee page, which is not in the stored docs: set ARB_TAKER_FEES from "
    "private/get-fee-rate",
    fee_asset="received",
    symbols=SymbolFormat(separator="_"),
    # public/get-instruments price_tick_size / qty_tick_size of these spot pairs.
    grids={
        "BTC": Grid("0.01", "0.00001", "0.00001", "1"),
        "ETH": Grid("0.01", "0.0001", "0.0001", "1"),
        "SOL": Grid("0.001", "0.001", "0.001", "1"),
    },
    docs=VenueDocs(
        title="Crypto.com Exchange v1 spot",
        market_data="`book.<INST>.<depth>` delta subscription (`SNAPSHOT_AND_UPDATE`)",
        sync="WS snapshot + `book.update` `u`/`pu` chain, a broken chain re-subscribes; audit by "
        "content",
        signing="HMAC-SHA256 hex of method + id + api_key + parameter string + nonce, in the body",
        ws="`wss://stream.crypto.com/exchange/v1/market`",
        channel="`book.<INST>.<10|50>` (default 50), `book_subscription_type` "
        "`SNAPSHOT_AND_UPDATE`, `book_update_frequency` 10 ms "
        f"({DOCS}#book-instrument_name-depth)",
        snapshot="WS: snapshot (`channel: book`, its `u`) after each subscribe; REST "
        "`public/get-book` (no sequence) for audits",
        instruments="`GET /exchange/v1/public/get-instruments` (`inst_type` `CCY_PAIR`)",
        sequence="`(pu, u)`; snapshot `seq = u`; the parser also holds Crypto.com's rule `pu` == "
        "the last `u` (else re-subscribe); an empty delta comes when the book is quiet",
        verified="continuity (`u`/`pu`); the `cs` checksum field is read but not verified (its "
        "algorithm is not documented)",
        keepalive="the server's `public/heartbeat` every 30 s answered with "
        "`public/respond-heartbeat` and its id (parser replies); 1 s pause after connecting "
        f"before the first request (rate limit pro-rated on the second: {DOCS}#common-issues)",
        subscribe="10 channels a message, 0.1 s apart (100 requests/s a connection)",
        timestamp_refused="40102 `INVALID_NONCE` (60 s; local clock)",
        rest_budget="public 50 + 50/s (100/s per method per IP); create/cancel 15 + 150/s, "
        "get-order-detail 30 + 300/s, get-order-history 1 + 1/s, other private 3 + 30/s",
        sim_ws="`/exchange/v1/market`: `book.<INST>.<10|50>` snapshot then `book.update` with "
        "`u`/`pu` (or whole snapshots for `SNAPSHOT`); `public/heartbeat` every 30 s, closed "
        "when unanswered",
        sim_rest="`/exchange/v1/public/get-book`, `/public/get-instruments`",
        sim_private="`/exchange/v1/private/create-order`, `get-order-detail`, `cancel-order`, "
        "`get-open-orders`, `get-order-history`, `user-balance` (signature and 60 s nonce "
        "verified, Crypto.com reason codes and HTTP statuses)",
        audit="by content (`public/get-book` carries no sequence)",
    ),
    notes=(
        "WS /exchange/v1/market book.{instrument}.{depth} (10/50, default 50) with "
        "book_subscription_type SNAPSHOT_AND_UPDATE at 10 ms: a snapshot (u) then book.update "
        "deltas (u, pu); pu != last u re-subscribes (unsubscribe + subscribe). The server's "
        "public/heartbeat is answered with public/respond-heartbeat; 1 s pause after connect. "
        "Private: POST /exchange/v1/private/<method>, HMAC-SHA256 hex of method + id + api_key "
        "+ sorted parameter string + nonce in the body; create-order LIMIT "
        "IMMEDIATE_OR_CANCEL with client_oid (uuid, <= 36), get-order-detail by client_oid, "
        "cancel-order, user-balance, get-order-history. Verified against the docs' example "
        f"messages and the docs' signing algorithm ({DOCS}), and the simulator."
    ),
)

__all__ = ["VENUE", "CryptocomMarket", "CryptocomParser", "CryptocomTrading", "sign"]
