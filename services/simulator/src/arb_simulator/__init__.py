"""Exchanges on loopback: one shared market, each venue's protocol served on its own port.

The market (pure): ``Market`` (fair prices, venue books, dislocations) and ``VenueMarket`` (one
venue's ``arb_venues.simapi.SimMarket``: books, accounts, order matching, faults). The server
(``Simulator``, server.py) hosts each venue's protocol app from ``arb_venues.<venue>.sim`` plus
a control app; ``python -m arb_simulator`` runs it.

For a venue's own tests, ``venue_market("binance")`` is the quickest real market::

    market = venue_market("binance", symbols=("BTC-USDT",))
    app = create_app(market)
"""

from __future__ import annotations

from arb_simulator.accounts import Account, SimCredentials, default_credentials
from arb_simulator.book import BookParams
from arb_simulator.catalog import DEFAULT_SYMBOLS, DEFAULT_VENUES, make_instrument, venue_symbol
from arb_simulator.faults import Faults
from arb_simulator.market import Market, MarketConfig, VenueParams
from arb_simulator.venue import VenueMarket


def venue_market(
    venue: str,
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS,
    seed: int = 1,
    rate: float = 50.0,
) -> VenueMarket:
    """A one-venue market with the default account (see ``default_credentials(venue)``).

    Drive it with ``venue_market.market.step()`` (one clock tick) in tests.
    """
    config = MarketConfig(venues=(venue,), symbols=symbols, seed=seed, venue=VenueParams(rate=rate))
    return VenueMarket(Market(config), venue)


__all__ = [
    "DEFAULT_SYMBOLS",
    "DEFAULT_VENUES",
    "Account",
    "BookParams",
    "Faults",
    "Market",
    "MarketConfig",
    "SimCredentials",
    "VenueMarket",
    "VenueParams",
    "default_credentials",
    "make_instrument",
    "venue_market",
    "venue_symbol",
]
