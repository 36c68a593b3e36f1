"""Kraken's asset and pair spellings.

WS v2 says ``BTC/USD``; WS v1, the REST ``wsname`` and ``altname`` say ``XBT`` (and ``XDG`` for
DOGE); REST asset codes of the oldest assets carry an X/Z prefix (``XXBT``, ``ZUSD``).
https://docs.kraken.com/api/docs/guides/spot-ws-intro (v1 vs v2 symbols) and
https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs.
Our instruments keep the v2 spelling (``BTC/USD``) as ``venue_symbol``.
"""

from __future__ import annotations

from arb_venues.common.symbols import split_glued

# Kraken's own names -> the common names.
_RENAMED = {"XBT": "BTC", "XDG": "DOGE"}
_V1_NAMES = {common: kraken for kraken, common in _RENAMED.items()}
# REST asset codes with the legacy X (crypto) / Z (fiat) prefix.
_PREFIXED = frozenset(
    {
        "XXBT",
        "XETH",
        "XLTC",
        "XXRP",
        "XXLM",
        "XXMR",
        "XZEC",
        "XETC",
        "XREP",
        "XMLN",
        "XXDG",
        "XXTZ",
        "ZUSD",
        "ZEUR",
        "ZGBP",
        "ZJPY",
        "ZCAD",
        "ZAUD",
        "ZCHF",
    }
)


def asset(code: str) -> str:
    """A Kraken asset code (XXBT, XBT, ZUSD, USDT) -> the common name (BTC, BTC, USD, USDT)."""
    code = code.upper()
    if code in _PREFIXED:
        code = code[1:]
    return _RENAMED.get(code, code)


def v2_symbol(wsname: str) -> str:
    """XBT/USD (v1, REST wsname) -> BTC/USD (v2). A v2 name is returned unchanged."""
    base, sep, quote = wsname.partition("/")
    if not sep:
        return wsname
    return f"{asset(base)}/{asset(quote)}"


def v1_symbol(v2: str) -> str:
    """BTC/USD (v2) -> XBT/USD (v1)."""
    base, sep, quote = v2.partition("/")
    if not sep:
        return v2
    return f"{_V1_NAMES.get(base, base)}/{_V1_NAMES.get(quote, quote)}"


def rest_pair(v2: str) -> str:
    """BTC/USD -> XBTUSD: the pair ``altname`` the private REST takes (AddOrder ``pair``)."""
    return v1_symbol(v2).replace("/", "")


def normalise(venue_symbol: str) -> str | None:
    """BASE-QUOTE for any Kraken pair spelling: BTC/USD, XBT/USD, XBTUSD, XXBTZUSD."""
    text = venue_symbol.strip().upper()
    if not text:
        return None
    if "/" in text:
        base, _, quote = text.partition("/")
        return f"{asset(base)}-{asset(quote)}" if base and quote else None
    if len(text) == 8 and text[:4] in _PREFIXED and text[4:] in _PREFIXED:
        return f"{asset(text[:4])}-{asset(text[4:])}"
    for kraken, common in _RENAMED.items():
        if text.startswith(kraken):
            text = common + text[len(kraken) :]
            break
    split = split_glued(text)
    return f"{asset(split[0])}-{asset(split[1])}" if split else None
