"""Venue knowledge, one folder per exchange; ``get_venue(name)`` loads one lazily."""

from __future__ import annotations

import importlib

from arb_venues.base import Endpoints, MarketDataProtocol, VenueSpec

VENUE_NAMES = ("binance", "okx", "bybit", "kraken", "coinbase")


def get_venue(name: str) -> VenueSpec:
    """The VenueSpec of ``name``; ValueError lists the venues there are."""
    if name not in VENUE_NAMES:
        raise ValueError(f"unknown venue {name!r}; known venues: {', '.join(VENUE_NAMES)}")
    module = importlib.import_module(f"arb_venues.{name}")
    spec: VenueSpec = module.VENUE
    return spec


def market_protocol(
    name: str,
    endpoints: Endpoints | None = None,
    *,
    depth: int = 0,
    protocol_version: str | None = None,
) -> MarketDataProtocol:
    """The public market-data adapter of venue ``name`` (real endpoints unless given), speaking
    ``protocol_version`` where the venue has several (Kraken: "v2" default, "v1").

    ValueError for an unknown venue or a version the venue does not speak.
    """
    spec = get_venue(name)
    market = spec.market.for_version(protocol_version)
    return market(endpoints or spec.endpoints, depth)


__all__ = ["VENUE_NAMES", "VenueSpec", "get_venue", "market_protocol"]
