"""OKX v5 spot: public ``books`` market data, private REST trading, and its simulator side."""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.okx.checksum import CHECKSUM
from arb_venues.okx.market import OkxMarket
from arb_venues.okx.parser import OkxParser
from arb_venues.okx.signing import sign
from arb_venues.okx.trading import OkxTrading
from arb_venues.spec import CredentialFormat, Grid, Recording, SymbolFormat, VenueDocs, VenueSpec

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
    taker_fee="0.001",
    maker_fee="0.0008",
    fee_source="Lv1 regular user, spot: https://www.okx.com/fees",
    fee_asset="received",
    symbols=SymbolFormat(separator="-"),
    credentials=CredentialFormat(passphrase=True),
    checksum=CHECKSUM,
    # ``books`` pushes the changes of 100 ms at a time (market.BOOKS_PUSH_INTERVAL_S).
    frame_per_change=False,
    # /api/v5/public/instruments tickSz / lotSz / minSz of these pairs.
    grids={
        "BTC": Grid("0.1", "0.00000001", "0.00001", "0"),
        "ETH": Grid("0.01", "0.000001", "0.0001", "0"),
        "SOL": Grid("0.01", "0.000001", "0.001", "0"),
    },
    recording=Recording(("okx/cryptofeed_OKX.ws.1.0.jsonl",)),
    reconnect_notice="event notice, code 64008 (30 s ahead)",
    reconnect_notice_source="https://www.okx.com/docs-v5/en/#overview-websocket-notification",
    docs=VenueDocs(
        title="OKX v5",
        market_data="`books` (+ `books5`, `bbo-tbt`)",
        sync=(
            "REST snapshot + `seqId`/`prevSeqId`, CRC32 checksum when non-zero "
            "(0 = none since 2026-06-23); audit by sequence"
        ),
        signing="HMAC-SHA256 base64 + passphrase",
        ws="`wss://ws.okx.com:8443/ws/v5/public`",
        channel="`books` (400 levels, the changes of each 100 ms); `books5` for depth 2-5, "
        "`bbo-tbt` for depth 1",
        snapshot="REST `GET /api/v5/market/books?instId=…&sz=400` (`seqId`); a WS `snapshot` "
        "action is read too",
        instruments="`GET /api/v5/public/instruments?instType=SPOT`",
        sequence="`(prevSeqId, seqId)`; join rule `prevSeqId <= snapshot.seqId < seqId`; "
        "keep-alive (`seqId == prevSeqId`, empty) ignored; `seqId < prevSeqId` (maintenance "
        "reset) → resync",
        verified=(
            "continuity (seq ids); CRC32 of the top 25 where the field is non-zero: 0 or no "
            'field means "no checksum" (OKX sends 0 since 2026-06-23), never "no validation";'
            " the 2022 recording still verifies 290/290"
        ),
        duplicate_snapshot="a second snapshot the unbroken `seqId` chain already passed (WS + "
        "REST of one book) is dropped, not a second reset",
        keepalive="text `ping` every 20 s (server drops after 30 s of silence)",
        subscribe="20 books a message, 0.1 s apart",
        server_time_field="`data[0].ts` (ms)",
        timestamp_refused="50102 (30 s)",
        rest_budget="`books` 40 + 20/s, other 20 + 10/s",
        sim_ws="`/ws/v5/public`: `books` snapshot then updates with `seqId`/`prevSeqId` (checksum "
        "0 as in production), `books-l2-tbt`, `books50-l2-tbt` (the same with 400 / 50 levels), "
        "`books5`, `bbo-tbt`, `ping`/`pong`, error events 60012/60018",
        sim_rest="`/api/v5/market/books`, `/api/v5/public/instruments`, `/api/v5/public/time`, "
        "`/api/v5/market/ticker`",
        sim_private="`/api/v5/trade/order` POST/GET, `/api/v5/trade/cancel-order`, "
        "`/api/v5/account/balance` (HMAC-SHA256 base64 + passphrase)",
        audit="by sequence (`seqId`): exact",
    ),
    notes=(
        "WS /ws/v5/public channel books (400 levels; books5 / bbo-tbt by depth), text ping/pong. "
        "seq = seqId, prev_seq = prevSeqId (synthetic counter for pre-2022 recordings). "
        "Snapshots from REST GET /api/v5/market/books (seqId), per OKX's changelog of "
        "2026-02-12; a WS snapshot action is parsed too. Checksum: CRC32 of the top 25 levels, "
        "passed on when non-zero (recordings); OKX sends 0 since 2026-06-23. "
        "Verified: 290/290 checksums of the 2022 recording rebuild; signing per the docs."
    ),
)

__all__ = ["VENUE", "OkxMarket", "OkxParser", "OkxTrading", "sign"]
