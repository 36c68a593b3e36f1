"""Bitfinex's pair and currency spellings.

A trading pair is ``t`` + base + quote: ``tBTCUSD``, and ``tBTCUST`` for USDT, because Bitfinex
calls Tether USD ``UST`` (and USD Coin ``UDC``). A pair with a currency longer than three
letters separates the two with a colon: ``tTESTBTC:TESTUSD``, ``tDOGE:UST``.
https://docs.bitfinex.com/docs/ws-general ("Supported Pairs": trading pairs are prepended by a
``t``) and the lists of ``/v2/conf/pub:list:pair:exchange`` (``BTCUST``, ``ETHUST``...);
``/v2/conf/pub:map:currency:sym`` maps the short currency codes to their common names.

Our instruments keep the Bitfinex spelling (``tBTCUST``) as ``venue_symbol``; the normalised
symbol uses the common names (``BTC-USDT``).
"""

from __future__ import annotations

from arb_venues.spec import SymbolFormat

PREFIX = "t"
SEPARATOR = ":"
# Bitfinex's own codes -> the common names (pub:map:currency:sym), for the quotes and bases a
# cross-venue engine meets; any other code is its own name.
RENAMED = {"UST": "USDT", "UDC": "USDC", "TSD": "TUSD", "DSH": "DASH", "IOT": "IOTA"}
COMMON_TO_BITFINEX = {common: code for code, common in RENAMED.items()}


def asset(code: str) -> str:
    """A Bitfinex currency code (UST, BTC) -> the common name (USDT, BTC)."""
    code = code.upper()
    return RENAMED.get(code, code)


def currency_code(common: str) -> str:
    """A common currency name (USDT) -> Bitfinex's code (UST)."""
    common = common.upper()
    return COMMON_TO_BITFINEX.get(common, common)


def pair(base: str, quote: str) -> str:
    """BTC, USDT -> BTCUST (the pair as the conf lists write it: no ``t``)."""
    b, q = currency_code(base), currency_code(quote)
    return f"{b}{q}" if len(b) == 3 and len(q) == 3 else f"{b}{SEPARATOR}{q}"


def spell(base: str, quote: str) -> str:
    """BTC, USDT -> tBTCUST; DOGE, USDT -> tDOGE:UST."""
    return PREFIX + pair(base, quote)


def split(venue_symbol: str) -> tuple[str, str] | None:
    """tBTCUST / BTCUST / tTESTBTC:TESTUSD -> the two Bitfinex codes; None when it is not a
    trading pair (funding symbols start with ``f``)."""
    text = venue_symbol.strip()
    if text.startswith(PREFIX):
        text = text[1:]
    elif not text or text[0] == "f":
        return None
    text = text.upper()
    if SEPARATOR in text:
        base, _, quote = text.partition(SEPARATOR)
    elif len(text) == 6:
        base, quote = text[:3], text[3:]
    else:
        return None
    if not (base.isalnum() and quote.isalnum()):
        return None
    return base, quote


def normalise(venue_symbol: str) -> str | None:
    """BASE-QUOTE in common names: tBTCUST -> BTC-USDT, tTESTBTC:TESTUSD -> TESTBTC-TESTUSD."""
    parts = split(venue_symbol)
    if parts is None:
        return None
    return f"{asset(parts[0])}-{asset(parts[1])}"


class BitfinexSymbolFormat(SymbolFormat):
    """``VenueSpec.symbols`` of Bitfinex: the ``t`` prefix, Bitfinex's currency codes (UST for
    USDT) and the colon between long currency codes, which a plain separator cannot say."""

    __slots__ = ()

    def spell(self, base: str, quote: str) -> str:
        return spell(base, quote)


SYMBOL_FORMAT = BitfinexSymbolFormat(prefix=PREFIX)
