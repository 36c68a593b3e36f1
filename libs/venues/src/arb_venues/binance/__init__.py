"""Binance spot: combined diff-depth streams + REST snapshots, HMAC-signed REST trading."""

from arb_venues.base import Endpoints, VenueSpec
from arb_venues.binance.market import MAKER_FEE, TAKER_FEE, BinanceMarket
from arb_venues.binance.parser import BinanceParser
from arb_venues.binance.signing import sign
from arb_venues.binance.sim.app import create_app
from arb_venues.binance.trading import BinanceTrading

VENUE = VenueSpec(
    name="binance",
    market=BinanceMarket,
    trading=BinanceTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://stream.binance.com:9443", rest_url="https://api.binance.com"),
    create_sim_app=create_app,
    taker_fee=TAKER_FEE,
    maker_fee=MAKER_FEE,
    notes=(
        "Market data: combined stream /stream?streams=<sym>@depth@100ms/... (URL-subscribed, "
        "<= 1024 streams per connection), diff events U/u normalised to prev_seq=U-1, seq=u; "
        "snapshots from REST /api/v3/depth?limit=1000 (lastUpdateId, weight 50). No checksum "
        "(Binance has none): continuity from update ids only. Trading: HMAC-SHA256 signed "
        "REST (POST/GET/DELETE /api/v3/order, GET /api/v3/account), LIMIT IOC, FULL answers. "
        "Verified against the docs' signing vectors and the 2021-10-12 cryptofeed recording "
        "(177 diffs, 4 snapshots: 172 applied, 0 gaps)."
    ),
)

__all__ = ["VENUE", "BinanceMarket", "BinanceParser", "BinanceTrading", "create_app"]
