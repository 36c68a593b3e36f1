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

from collections.abc import Sequence

from arb_structs import Instrument

from arb_simulator.accounts import Account, SimCredentials, default_credentials
from arb_simulator.book import BookParams
from arb_simulator.catalog import DEFAULT_SYMBOLS, DEFAULT_VENUES, make_instrument, venue_symbol
from arb_simulator.faults import Faults
from arb_simulator.market import Market, MarketConfig, VenueParams
from arb_simulator.venue import VenueMarket


def venue_market(
    venue: str,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    seed: int = 1,
    rate: float = 50.0,
    instruments: Sequence[Instrument] = (),
    accounts: list[Account] | None = None,
) -> VenueMarket:
    """A one-venue market. ``instruments`` replace the catalog's (and then name the symbols);
    ``accounts`` replace the default one (see ``default_credentials(venue)``).

    Drive it with ``venue_market.market.step()`` (one clock tick), or script exact books with
    ``set_book`` / ``apply``; nothing moves unless a test does it.
    """
    if instruments:
        symbols = tuple(i.symbol for i in instruments)
    config = MarketConfig(
        venues=(venue,),
        symbols=tuple(symbols),
        seed=seed,
        venue=VenueParams(rate=rate),
        instruments={(venue, i.symbol): i for i in instruments},
    )
    return VenueMarket(Market(config), venue, accounts=accounts)


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
