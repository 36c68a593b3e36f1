"""Deterministic client order ids: the same opportunity and leg give the same id, always.

A venue's own TradingClient.client_order_id is used when the venue has one (its length and
alphabet rules); otherwise the engine's text shape (arb_venues.common.clientids: ``arb`` +
saga group + leg hash, 32 chars of [0-9a-z]).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from arb_structs import ClientOrderId
from arb_venues.common.clientids import text_client_order_id

Maker = Callable[[str, str], ClientOrderId]


def generic_client_order_id(opportunity_id: str, leg: str) -> ClientOrderId:
    return text_client_order_id(opportunity_id, leg)


@cache
def _maker(venue: str) -> Maker:
    try:
        from arb_venues import get_venue

        trading = get_venue(venue).trading
    except (ValueError, ImportError, AttributeError):  # unknown venue or no adapter yet
        return generic_client_order_id
    return trading.client_order_id if trading is not None else generic_client_order_id


def client_order_id(venue: str, opportunity_id: str, leg: str) -> ClientOrderId:
    return _maker(venue)(opportunity_id, leg)
