"""What the simulated venues list: symbol spellings, tick/lot grids, minimums, fees.

Every venue fact here comes from the venue's ``VenueSpec`` (``arb_venues.<venue>``): its
symbol format, the grids of its pairs (after the exchange's published reference data), the
asset its fees are taken from; the fee itself is the one the account pays
(``arb_venues.fees``: ARB_TAKER_FEES, else the venue's default), so an instrument this
simulator lists carries the same taker fee ingest publishes for the same settings.

One simplification, on purpose: every venue quotes in USDT here, those whose deep books are
in USD in reality included, so the detector compares like with like across all venues.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from arb_structs import Instrument, VenueSymbol
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.fees import taker_fee
from arb_venues.spec import Grid

DEFAULT_VENUES = VENUE_NAMES
DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")

# A pair no venue spec has a grid for: scaled to the generic start price below.
GENERIC_GRID = Grid("0.0001", "0.01", "0.01", "1")

# Where each symbol's fair price starts (quote units per base unit).
START_PRICES: dict[str, float] = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0}
GENERIC_START_PRICE = 10.0


def split_symbol(symbol: str) -> tuple[str, str]:
    """BTC-USDT -> (BTC, USDT); ValueError for anything that is not BASE-QUOTE."""
    base, sep, quote = symbol.partition("-")
    if not sep or not base or not quote or "-" in quote:
        raise ValueError(f"symbol {symbol!r} is not BASE-QUOTE (e.g. BTC-USDT)")
    return base.upper(), quote.upper()


def venue_symbol(venue: str, symbol: str) -> str:
    """The venue's own spelling (``VenueSpec.symbols``): BTCUSDT, BTC-USDT, BTC/USDT..."""
    base, quote = split_symbol(symbol)
    return get_venue(venue).symbols.spell(base, quote)


def start_price(symbol: str) -> float:
    return START_PRICES.get(split_symbol(symbol)[0], GENERIC_START_PRICE)


def grid_for(venue: str, symbol: str) -> Grid:
    return get_venue(venue).grids.get(split_symbol(symbol)[0], GENERIC_GRID)


def _decimals(text: str) -> int:
    exponent = Decimal(text).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def make_instrument(
    venue: str, symbol: str, taker_fees: Mapping[str, str] | None = None
) -> Instrument:
    """The Instrument record the simulated venue publishes for ``symbol``; its taker fee is
    what the simulated account pays there (``taker_fees``: the ARB_TAKER_FEES overrides)."""
    spec = get_venue(venue)  # ValueError names the known venues
    base, quote = split_symbol(symbol)
    grid = grid_for(venue, symbol)
    return Instrument(
        venue=venue,
        symbol=f"{base}-{quote}",
        venue_symbol=VenueSymbol(venue_symbol(venue, symbol)),
        base=base,
        quote=quote,
        tick_size=grid.tick,
        lot_size=grid.lot,
        min_size=grid.min_size,
        min_notional=grid.min_notional,
        price_decimals=_decimals(grid.tick),
        size_decimals=_decimals(grid.lot),
        maker_fee=spec.maker_fee,
        taker_fee=taker_fee(venue, taker_fees),
    )
