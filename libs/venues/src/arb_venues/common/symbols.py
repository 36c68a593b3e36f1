"""Venue symbol <-> normalised BASE-QUOTE symbol, and the market type a book belongs to.

Spot, linear and inverse books of one pair are different books (Bybit serves ``BTCUSDT`` on
``/v5/public/spot`` and on ``/v5/public/linear``; OKX has ``BTC-USDT`` and ``BTC-USDT-SWAP``).
A spot book keeps its plain symbol (``BTC-USDT``); a non-spot book's symbol ends with
``:<market>`` (``BTC-USDT:linear``, ``BTC-USD-SWAP:inverse``), so it never equals a spot
symbol and the detector, which pairs books by symbol, can never pair a spot book with a
perpetual. ``market_of`` reads the market back from a symbol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from arb_structs import Instrument

# Quote assets tried longest-first when a venue glues base and quote together (BTCUSDT).
KNOWN_QUOTES = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDE", "DAI", "EUR", "GBP", "USD", "TRY",
    "BRL", "JPY", "AUD", "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE",
)  # fmt: skip


SPOT = "spot"
LINEAR = "linear"  # contracts margined and settled in the quote (USDT, USDC)
INVERSE = "inverse"  # contracts margined and settled in the base (coin-margined)
MARKETS = (SPOT, LINEAR, INVERSE)
MARKET_SEPARATOR = ":"


def market_symbol(symbol: str, market: str) -> str:
    """The book's symbol in ``market``: unchanged for spot, ``<symbol>:<market>`` otherwise."""
    if market == SPOT:
        return symbol
    if market not in MARKETS:
        raise ValueError(f"market {market!r}: use one of {', '.join(MARKETS)}")
    return f"{symbol}{MARKET_SEPARATOR}{market}"


def market_of(symbol: str) -> str:
    """The market a book symbol belongs to (``spot`` when it carries no suffix)."""
    _, separator, market = symbol.rpartition(MARKET_SEPARATOR)
    return market if separator and market in MARKETS else SPOT


def split_glued(venue_symbol: str) -> tuple[str, str] | None:
    """BTCUSDT -> (BTC, USDT) by the longest known quote suffix; None when no quote fits."""
    upper = venue_symbol.upper()
    for quote in sorted(KNOWN_QUOTES, key=len, reverse=True):
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    return None


class SymbolMap:
    """Both directions between venue symbols and normalised symbols, from instruments.

    ``fallback`` normalises a venue symbol no instrument covers (replay of a recording made
    without reference data); it returns None when it cannot, and the caller says so.
    A venue that spells one symbol the same in several markets (Bybit) looks it up with the
    market of the connection: ``to_symbol("BTCUSDT", "linear") == "BTC-USDT:linear"``.

    ``known`` is the spot table itself (venue symbol -> symbol), to read only: a parser's hot
    path looks a symbol up there without a call, ``known.get(name) or to_symbol(name)``, and
    sees every ``add`` (the table is never replaced, only added to).
    """

    __slots__ = ("_markets", "_to_symbol", "_to_venue", "fallback", "known")

    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        fallback: object | None = None,
    ) -> None:
        self._to_symbol: dict[str, str] = {}  # spot (and venues with unique spellings)
        self._markets: dict[str, dict[str, str]] = {}  # market -> venue symbol -> symbol
        self._to_venue: dict[str, str] = {}
        self.known: Mapping[str, str] = self._to_symbol
        self.fallback = fallback
        for instrument in instruments:
            self.add(instrument.venue_symbol, instrument.symbol, instrument.market)

    def add(self, venue_symbol: str, symbol: str, market: str = SPOT) -> None:
        if market == SPOT:
            self._to_symbol[venue_symbol] = symbol
        else:
            self._markets.setdefault(market, {})[venue_symbol] = symbol
        self._to_venue[symbol] = venue_symbol

    def to_symbol(self, venue_symbol: str, market: str = SPOT) -> str | None:
        if market != SPOT:
            return self._market_symbol(venue_symbol, market)
        symbol = self._to_symbol.get(venue_symbol)
        if symbol is None and callable(self.fallback):
            symbol = self.fallback(venue_symbol)
            if isinstance(symbol, str):
                self.add(venue_symbol, symbol)
            else:
                symbol = None
        return symbol

    def _market_symbol(self, venue_symbol: str, market: str) -> str | None:
        known = self._markets.get(market, {}).get(venue_symbol)
        if known is not None:
            return known
        if not callable(self.fallback):
            return None
        plain = self.fallback(venue_symbol)
        if not isinstance(plain, str):
            return None
        symbol = market_symbol(plain, market)
        self.add(venue_symbol, symbol, market)
        return symbol

    def to_venue(self, symbol: str) -> str | None:
        return self._to_venue.get(symbol)

    def __len__(self) -> int:
        return len(self._to_symbol)
