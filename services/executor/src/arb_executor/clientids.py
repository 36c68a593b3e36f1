"""Deterministic client order ids: the same opportunity and leg give the same id, always.

A venue's own TradingClient.client_order_id is used when the venue has one (its length and
alphabet rules); otherwise ``arb`` + 24 hex digits of a BLAKE2b hash (27 chars, [0-9a-z]).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache

Maker = Callable[[str, str], str]


def generic_client_order_id(opportunity_id: str, leg: str) -> str:
    digest = hashlib.blake2b(f"{opportunity_id}:{leg}".encode(), digest_size=12).hexdigest()
    return f"arb{digest}"


@cache
def _maker(venue: str) -> Maker:
    try:
        from arb_venues import get_venue

        trading = get_venue(venue).trading
    except (ValueError, ImportError, AttributeError):  # unknown venue or no adapter yet
        return generic_client_order_id
    return trading.client_order_id if trading is not None else generic_client_order_id


def client_order_id(venue: str, opportunity_id: str, leg: str) -> str:
    return _maker(venue)(opportunity_id, leg)
