"""Bitfinex v2: public WS ``book`` P0 with SEQ_ALL sequence numbers and OB_CHECKSUM, private
REST v2 trading (HMAC-SHA384), and its simulator side."""

from __future__ import annotations

from arb_venues.base import Endpoints
from arb_venues.bitfinex.checksum import CHECKSUM
from arb_venues.bitfinex.market import BitfinexMarket
from arb_venues.bitfinex.parser import BitfinexParser
from arb_venues.bitfinex.signing import sign
from arb_venues.bitfinex.symbols import SYMBOL_FORMAT
from arb_venues.bitfinex.trading import BitfinexTrading
from arb_venues.spec import CredentialFormat, Grid, Recording, VenueDocs, VenueSpec

VENUE = VenueSpec(
    name="bitfinex",
    market=BitfinexMarket,
    trading=BitfinexTrading,
    sign=sign,
    endpoints=Endpoints(
        ws_url="wss://api-pub.bitfinex.com/ws/2",
        rest_url="https://api.bitfinex.com",
        ws_private_url="wss://api.bitfinex.com/ws/2",
    ),
    taker_fee="0.002",
    maker_fee="0.001",
    fee_source="lowest tier (under 500,000 USD traded in 30 days): https://www.bitfinex.com/fees",
    # "Fees are charged in the currency you receive" on exchange trades: BTC when buying it.
    fee_asset="received",
    symbols=SYMBOL_FORMAT,
    credentials=CredentialFormat(),
    checksum=CHECKSUM,
    # book F0 is real time: a message per changed level (market.py's docstring).
    frame_per_change=True,
    # Prices have 5 significant digits (the tick at these pairs' prices) and amounts 8
    # decimals; minimum order sizes after /v2/conf/pub:info:pair, rounded up.
    grids={
        "BTC": Grid("1", "0.00000001", "0.00004", "0"),
        "ETH": Grid("0.1", "0.00000001", "0.0008", "0"),
        "SOL": Grid("0.01", "0.00000001", "0.02", "0"),
    },
    recording=Recording(("bitfinex/cryptofeed_BITFINEX.ws.11.0.jsonl",)),
    reconnect_notice="info event, code 20051",
    reconnect_notice_source="https://docs.bitfinex.com/docs/ws-general",
    docs=VenueDocs(
        title="Bitfinex v2",
        market_data="WS v2 `book` P0 (`len` 25/100)",
        sync=(
            "`conf` SEQ_ALL: the connection's sequence +1 a message, a jump resyncs every book; "
            "OB_CHECKSUM CRC32 over the top 25; audit by content"
        ),
        signing="HMAC-SHA384 over `/api/v2/auth/…` + nonce + body",
        ws="`wss://api-pub.bitfinex.com/ws/2`",
        channel="`book` P0, `len` 25 (default) or 100 (1 with depth 1), one channel a symbol, "
        "`chanId` from the `subscribed` event (https://docs.bitfinex.com/reference/ws-public-books)",
        snapshot="WS: snapshot after each subscribe",
        instruments="`GET /v2/conf/pub:list:pair:exchange,pub:info:pair` + `GET /v2/tickers` "
        "(the 5-significant-digit tick at the last price)",
        sequence="per-book counter; the `conf` flag SEQ_ALL (65536) ends every message of the "
        "connection with its sequence number (+1 each, heartbeats included): a jump resyncs "
        "every book (https://docs.bitfinex.com/reference/ws-config)",
        verified='connection sequence continuity; OB_CHECKSUM (131072): `[chanId,"cs",crc]` '
        "after book changes, CRC32 (signed) over the top 25 interleaved `price:amount` from "
        "the wire number text (https://docs.bitfinex.com/docs/ws-websocket-checksum; the 2021 "
        "recording has no checksums: the simulator's and ccxt's sessions prove them)",
        keepalive='`{"event":"ping"}` every 15 s (Bitfinex sends `[chanId,"hb"]` on quiet '
        "channels every 15 s; https://docs.bitfinex.com/docs/ws-general)",
        subscribe="`conf` first, then one book a message, 0.1 s apart (25 channels a connection)",
        timestamp_refused="— (the nonce only grows)",
        rest_budget="per endpoint: `book` 8 + 3/s, `conf`/`tickers` 5 + 1/s, each private "
        "endpoint 10 + 1.5/s (Bitfinex: 10-90 a minute an endpoint, book 240: "
        "https://docs.bitfinex.com/v1)",
        sim_ws="`/ws/2`: `info`, `conf` flags (SEQ_ALL, OB_CHECKSUM), `book` P0 snapshot then "
        "one message a level change, `cs` checksums, `hb`, `ping`/`pong`, error events",
        sim_rest="`/v2/book/{symbol}/P0`, `/v2/conf/…`, `/v2/tickers`, `/v2/platform/status`",
        sim_private="`/v2/auth/w/order/submit`, `/w/order/cancel`, `/r/orders[/hist]`, "
        "`/r/order/{symbol}:{id}/trades`, `/r/trades/hist`, `/r/wallets` (HMAC-SHA384, "
        "nonce checked)",
        audit="by content (`/v2/book` has no sequence)",
        levels="every level, from its exact number text (count, signed amount)",
    ),
    notes=(
        "WS /ws/2 book P0 (len 25/100), conf flags SEQ_ALL | OB_CHECKSUM sent first. "
        "Synthetic per-book counters; the connection's SEQ_ALL number is checked on every "
        "message (a jump resyncs every book). Checksum: signed CRC32 of the top 25 interleaved "
        "price:amount from the wire text, sent in its own cs frame (an empty delta carries it). "
        "Resync = unsubscribe (chanId) + subscribe. Private REST v2 HMAC-SHA384 with a growing "
        "nonce; EXCHANGE IOC orders with an int45 cid mapped from the engine's ids. "
        "Verified: the 2021 recording (7 snapshots, 1,593 updates, sequence 1..1670); "
        "checksums against the simulator and ccxt."
    ),
)

__all__ = ["VENUE", "BitfinexMarket", "BitfinexParser", "BitfinexTrading", "sign"]
