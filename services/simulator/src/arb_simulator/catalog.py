"""What the simulated venues list: symbol spellings, tick/lot grids, minimums, fees.

One table for every venue. Grids follow each exchange's published spot reference data for
these pairs (Binance ``/api/v3/exchangeInfo`` PRICE_FILTER/LOT_SIZE, OKX
``/api/v5/public/instruments`` tickSz/lotSz, Bybit ``/v5/market/instruments-info``
tickSize/basePrecision, Kraken ``/0/public/AssetPairs`` tick_size/lot_decimals, Coinbase
``/api/v3/brokerage/market/products`` quote_increment/base_increment), rounded to values that
stay valid over time.

Two simplifications, on purpose:
- Every venue quotes in USDT here, Kraken and Coinbase included (their deep books are in USD in
  reality), so the detector compares like with like across all five venues.
- Fees are those of a simulated account at a volume tier where the taker fee is about 10 bps
  everywhere (Kraken's and Coinbase's entry tiers charge more). Override them per venue in the
  config when a run needs the real schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arb_structs import Instrument

DEFAULT_VENUES = ("binance", "okx", "bybit", "kraken", "coinbase")
DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")


@dataclass(frozen=True, slots=True)
class VenueStyle:
    """How one venue spells symbols and charges fees."""

    separator: str  # "" (BTCUSDT), "-" (BTC-USDT), "/" (BTC/USDT)
    maker_fee: str
    taker_fee: str
    # "received": the fee is taken from the asset the order receives (Binance, OKX, Bybit);
    # "quote": always from the quote asset (Kraken's default, Coinbase).
    fee_asset: str


VENUE_STYLES: dict[str, VenueStyle] = {
    "binance": VenueStyle("", "0.001", "0.001", "received"),
    "okx": VenueStyle("-", "0.0008", "0.001", "received"),
    "bybit": VenueStyle("", "0.001", "0.001", "received"),
    "kraken": VenueStyle("/", "0.0008", "0.001", "quote"),
    "coinbase": VenueStyle("-", "0.0006", "0.001", "quote"),
}


@dataclass(frozen=True, slots=True)
class Grid:
    tick: str
    lot: str
    min_size: str
    min_notional: str


# (venue, base) -> grid. Unknown pairs fall back to GENERIC_GRID scaled to the start price.
GRIDS: dict[tuple[str, str], Grid] = {
    ("binance", "BTC"): Grid("0.01", "0.00001", "0.00001", "5"),
    ("binance", "ETH"): Grid("0.01", "0.0001", "0.0001", "5"),
    ("binance", "SOL"): Grid("0.01", "0.001", "0.001", "5"),
    ("okx", "BTC"): Grid("0.1", "0.00000001", "0.00001", "0"),
    ("okx", "ETH"): Grid("0.01", "0.000001", "0.0001", "0"),
    ("okx", "SOL"): Grid("0.01", "0.000001", "0.001", "0"),
    ("bybit", "BTC"): Grid("0.01", "0.000001", "0.000048", "1"),
    ("bybit", "ETH"): Grid("0.01", "0.00001", "0.00062", "1"),
    ("bybit", "SOL"): Grid("0.01", "0.001", "0.001", "1"),
    ("kraken", "BTC"): Grid("0.1", "0.00000001", "0.00005", "0.5"),
    ("kraken", "ETH"): Grid("0.01", "0.00000001", "0.002", "0.5"),
    ("kraken", "SOL"): Grid("0.01", "0.00000001", "0.02", "0.5"),
    ("coinbase", "BTC"): Grid("0.01", "0.00000001", "0.00000001", "1"),
    ("coinbase", "ETH"): Grid("0.01", "0.00000001", "0.00000001", "1"),
    ("coinbase", "SOL"): Grid("0.01", "0.00000001", "0.00000001", "1"),
}
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
    """The venue's own spelling: BTCUSDT, BTC-USDT or BTC/USDT."""
    base, quote = split_symbol(symbol)
    return f"{base}{VENUE_STYLES[venue].separator}{quote}"


def start_price(symbol: str) -> float:
    return START_PRICES.get(split_symbol(symbol)[0], GENERIC_START_PRICE)


def grid_for(venue: str, symbol: str) -> Grid:
    return GRIDS.get((venue, split_symbol(symbol)[0]), GENERIC_GRID)


def _decimals(text: str) -> int:
    exponent = Decimal(text).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def make_instrument(
    venue: str, symbol: str, taker_fee: str | None = None, maker_fee: str | None = None
) -> Instrument:
    """The Instrument record the simulated venue publishes for ``symbol``."""
    if venue not in VENUE_STYLES:
        raise ValueError(f"unknown venue {venue!r}; simulated venues: {', '.join(VENUE_STYLES)}")
    base, quote = split_symbol(symbol)
    style = VENUE_STYLES[venue]
    grid = grid_for(venue, symbol)
    return Instrument(
        venue=venue,
        symbol=f"{base}-{quote}",
        venue_symbol=venue_symbol(venue, symbol),
        base=base,
        quote=quote,
        tick_size=grid.tick,
        lot_size=grid.lot,
        min_size=grid.min_size,
        min_notional=grid.min_notional,
        price_decimals=_decimals(grid.tick),
        size_decimals=_decimals(grid.lot),
        maker_fee=maker_fee or style.maker_fee,
        taker_fee=taker_fee or style.taker_fee,
    )
