"""The venue's own instrument ids in a recording, for the peer drivers' set-up (never timed):
the peers learn their markets from REST listings, which a replay has no network for."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

Frames = list[tuple[str, str, float, str]]


def _ids(venue: str, msg: Any) -> list[str]:
    if isinstance(msg, list):  # Kraken v1: [channelID, ..., "book-10", "XBT/USDT"]
        return [msg[-1]] if venue == "kraken" and str(msg[-2]).startswith("book") else []
    if not isinstance(msg, dict):
        return []
    if venue == "binance" and "@depth" in msg.get("stream", ""):
        return [msg["stream"].split("@", 1)[0].upper()]
    if venue == "okx" and "books" in str(msg.get("arg")):
        return [msg["arg"]["instId"]]
    if venue == "bybit" and "orderbook" in msg.get("topic", ""):
        return [msg["topic"].split(".")[-1]]
    if venue == "coinbase" and msg.get("type") in ("snapshot", "l2update"):
        return [msg["product_id"]]
    if venue == "kraken" and msg.get("channel") == "book":
        return [d["symbol"] for d in msg.get("data", [])]
    if venue == "bitfinex" and msg.get("event") == "subscribed" and msg.get("channel") == "book":
        return [msg["symbol"]]
    if venue == "htx" and ".depth." in msg.get("ch", ""):  # market.<sym>.depth.step0
        return [msg["ch"].split(".")[1]]
    if venue == "gateio" and msg.get("channel") == "spot.order_book_update":
        result = msg.get("result")
        return [result["s"]] if isinstance(result, dict) and "s" in result else []
    if venue == "kucoin" and str(msg.get("topic", "")).startswith("/market/level2:"):
        return str(msg["topic"]).split(":", 1)[1].split(",")
    return []


def market_ids(venue: str, frames: Frames) -> list[str]:
    """Ids in order of first appearance: book frames, and REST snapshot URLs' ``symbol``
    (``currency_pair`` for Gate)."""
    found: dict[str, None] = {}
    for kind, url, _, raw in frames:
        if kind == "rest":
            query = parse_qs(urlparse(url).query)
            found.update(dict.fromkeys(query.get("symbol") or query.get("currency_pair") or []))
            continue
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        found.update(dict.fromkeys(_ids(venue, msg)))
    return list(found)
