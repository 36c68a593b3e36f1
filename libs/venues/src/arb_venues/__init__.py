"""Venue knowledge, one folder per exchange; ``get_venue(name)`` loads one lazily."""

from __future__ import annotations

import importlib

from arb_venues.base import VenueSpec

VENUE_NAMES = ("binance", "okx", "bybit", "kraken", "coinbase")


def get_venue(name: str) -> VenueSpec:
    """The VenueSpec of ``name``; ValueError lists the venues there are."""
    if name not in VENUE_NAMES:
        raise ValueError(f"unknown venue {name!r}; known venues: {', '.join(VENUE_NAMES)}")
    module = importlib.import_module(f"arb_venues.{name}")
    spec: VenueSpec = module.VENUE
    return spec


__all__ = ["VENUE_NAMES", "VenueSpec", "get_venue"]
