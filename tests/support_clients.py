"""Third-party clients pointed at the simulator: ccxt.pro exchanges whose every API URL is
moved to one simulated venue's port, paths kept (the simulator serves each venue's real
paths on one port). Nothing else of the client is changed: it loads its markets and
currencies and watches books as it does against the real venue."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# ccxt's id of a venue where it differs from the registry's name.
CCXT_IDS = {"gateio": "gate"}


def moved(urls: Any, host: str) -> Any:
    """``urls`` (ccxt's nested ``urls["api"]``) with every http(s)/ws(s) URL on ``host``."""
    if isinstance(urls, dict):
        return {key: moved(value, host) for key, value in urls.items()}
    if isinstance(urls, list):
        return [moved(value, host) for value in urls]
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    scheme, rest = urls.split("://", 1)
    path = rest[rest.find("/") :] if "/" in rest else ""
    return f"{'ws' if scheme.startswith('ws') else 'http'}://{host}{path}"


def ccxt_pointed_at(ccxtpro: Any, venue: str, rest_url: str) -> Any:
    """A ccxt.pro exchange of ``venue`` talking only to the simulator at ``rest_url``."""
    host = urlsplit(rest_url).netloc
    exchange = getattr(ccxtpro, CCXT_IDS.get(venue, venue))()
    exchange.urls["api"] = moved(exchange.urls["api"], host)
    exchange.hostname = host
    return exchange
