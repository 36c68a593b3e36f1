"""Turn a sized trade into an Opportunity: exact grid text, deterministic id, latency chain."""

from __future__ import annotations

import hashlib

from arb_structs.market import BookView
from arb_structs.trading import Opportunity

from arb_detector.instruments import PairSpec, format_price, format_size
from arb_detector.sizing import Trade


def opportunity_id(
    symbol: str,
    buy_venue: str,
    sell_venue: str,
    buy_seq: int,
    sell_seq: int,
    size: str,
    buy_price: str,
    sell_price: str,
) -> str:
    """Same books, same pair, same trade -> same id (32 hex digits), on any instance."""
    text = f"{symbol}|{buy_venue}|{sell_venue}|{buy_seq}|{sell_seq}|{size}|{buy_price}|{sell_price}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def build_opportunity(
    spec: PairSpec,
    trade: Trade,
    buy_view: BookView,
    sell_view: BookView,
    now: int,
    expiry_ns: int,
) -> Opportunity:
    """The Opportunity for ``trade``; ``now`` is the detection time (ns)."""
    size = format_size(trade.lots, spec.step, spec.step_exponent)
    buy_price = format_price(trade.buy_worst, spec.buy, round_up=True)
    sell_price = format_price(trade.sell_worst, spec.sell, round_up=False)
    symbol = buy_view.symbol
    return Opportunity(
        id=opportunity_id(
            symbol,
            buy_view.venue,
            sell_view.venue,
            buy_view.seq,
            sell_view.seq,
            size,
            buy_price,
            sell_price,
        ),
        symbol=symbol,
        buy_venue=buy_view.venue,
        sell_venue=sell_view.venue,
        size=size,
        buy_price=buy_price,
        sell_price=sell_price,
        buy_vwap=trade.buy_vwap,
        sell_vwap=trade.sell_vwap,
        gross_profit=trade.gross_profit,
        net_profit=trade.net_profit,
        edge_bps=trade.edge_bps,
        buy_seq=buy_view.seq,
        sell_seq=sell_view.seq,
        expires_ns=now + expiry_ns,
        ts_event_buy=buy_view.ts_event,
        ts_event_sell=sell_view.ts_event,
        ts_recv=max(buy_view.ts_recv, sell_view.ts_recv),
        ts_book=max(buy_view.ts_book, sell_view.ts_book),
        ts_detect=now,
        quote=spec.buy.quote,
        buy_fee=spec.buy.fee,
        sell_fee=spec.sell.fee,
    )
