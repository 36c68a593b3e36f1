"""Venue knowledge, one folder per exchange; ``get_venue(name)`` loads one lazily.

``VENUE_NAMES`` is the registry: the one list of venues every service, the simulator, the
CLI, the compose file and the docs derive theirs from. Adding a venue = its folder
(``arb_venues/<venue>/``, layout in ``arb_venues.spec``) and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from arb_orderbook.checksums import ChecksumSpec

from arb_venues.base import Endpoints, MarketDataProtocol
from arb_venues.spec import VenueSpec

VENUE_NAMES: tuple[str, ...] = (
    "binance",
    "okx",
    "bybit",
    "kraken",
    "coinbase",
    "bitfinex",
    "htx",
    "cryptocom",
    "bitget",
    "gateio",
    "kucoin",
    "mexc",
)


def unknown_venue(name: str) -> ValueError:
    """The error for a venue name that is not in the registry: the closest one, if any is
    close (a typo such as ``binnance``), and every known one."""
    import difflib

    close = difflib.get_close_matches(str(name), VENUE_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"unknown venue {name!r}{hint}; known venues: {', '.join(VENUE_NAMES)}")


def get_venue(name: str) -> VenueSpec:
    """The VenueSpec of ``name``; ValueError lists the venues there are."""
    if name not in VENUE_NAMES:
        raise unknown_venue(name)
    module = importlib.import_module(f"arb_venues.{name}")
    spec: VenueSpec = module.VENUE
    return spec


def venue_specs(names: Iterable[str] = VENUE_NAMES) -> list[VenueSpec]:
    """The specs of ``names`` (default: every venue), in order."""
    return [get_venue(name) for name in names]


def checksums(names: Iterable[str] = VENUE_NAMES) -> dict[str, ChecksumSpec]:
    """The book checksum of each of ``names`` that has one: the registry the book engine is
    given (``BookSet(checksums=...)``)."""
    return {spec.name: spec.checksum for spec in venue_specs(names) if spec.checksum is not None}


def market_protocol(
    name: str,
    endpoints: Endpoints | None = None,
    *,
    depth: int = 0,
    protocol_version: str | None = None,
) -> MarketDataProtocol:
    """The public market-data adapter of venue ``name`` (real endpoints unless given), speaking
    ``protocol_version`` where the venue has several (``MarketDataProtocol.protocol_versions``).

    ValueError for an unknown venue or a version the venue does not speak.
    """
    spec = get_venue(name)
    market = spec.market.for_version(protocol_version)
    return market(endpoints or spec.endpoints, depth)


__all__ = [
    "VENUE_NAMES",
    "VenueSpec",
    "checksums",
    "get_venue",
    "market_protocol",
    "unknown_venue",
    "venue_specs",
]
