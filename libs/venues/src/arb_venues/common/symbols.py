"""Venue symbol <-> normalised BASE-QUOTE symbol."""

from __future__ import annotations

from collections.abc import Iterable

from arb_structs import Instrument

# Quote assets tried longest-first when a venue glues base and quote together (BTCUSDT).
KNOWN_QUOTES = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDE", "DAI", "EUR", "GBP", "USD", "TRY",
    "BRL", "JPY", "AUD", "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE",
)  # fmt: skip


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
    """

    __slots__ = ("_to_symbol", "_to_venue", "fallback")

    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        fallback: object | None = None,
    ) -> None:
        self._to_symbol: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        self.fallback = fallback
        for instrument in instruments:
            self.add(instrument.venue_symbol, instrument.symbol)

    def add(self, venue_symbol: str, symbol: str) -> None:
        self._to_symbol[venue_symbol] = symbol
        self._to_venue[symbol] = venue_symbol

    def to_symbol(self, venue_symbol: str) -> str | None:
        symbol = self._to_symbol.get(venue_symbol)
        if symbol is None and callable(self.fallback):
            symbol = self.fallback(venue_symbol)
            if isinstance(symbol, str):
                self.add(venue_symbol, symbol)
            else:
                symbol = None
        return symbol

    def to_venue(self, symbol: str) -> str | None:
        return self._to_venue.get(symbol)

    def __len__(self) -> int:
        return len(self._to_symbol)
