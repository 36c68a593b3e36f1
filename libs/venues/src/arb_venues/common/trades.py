"""Public trades: the venue's recent prints of one symbol over REST, as one record shape.

Each venue's market class says where and how (``trades_request``: path, query, rate bucket,
weight; ``read_public_trades``: its documented answer -> ``PublicTrade``, newest first);
``MarketDataProtocol.public_trades`` sends the call through the REST client's budget and turns a
body without the documented fields into MalformedFrame. Prices and sizes stay exact text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arb_structs import Side

DEFAULT_TRADES_LIMIT = 50
# A recent-trades answer that is a JSON array of objects (``msgspec.json.decode(body,
# type=TRADE_ROWS)``: anything else is a ValueError).
TRADE_ROWS = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One print of the venue's tape."""

    venue: str
    symbol: str  # normalised
    trade_id: str
    price: str  # decimal text as the venue wrote it
    size: str  # base quantity
    side: Side  # the taker's side (the aggressor)
    ts: int  # the venue's trade time, ns


def text(value: object) -> str:
    """A number of a venue's answer (JSON number or text) as plain decimal text."""
    return format(Decimal(str(value)), "f")


def taker_side(value: object) -> Side:
    """``buy``/``sell`` in any case (``Buy``, ``BUY``, ``b``/``s``) -> Side; ValueError else."""
    word = str(value).lower()
    if word in ("buy", "b", "bid"):
        return Side.BUY
    if word in ("sell", "s", "ask", "offer"):
        return Side.SELL
    raise ValueError(f"trade side {value!r}")


def other_side(side: Side) -> Side:
    """The counterparty's side (a venue that names the maker's side of a print)."""
    return Side.SELL if side is Side.BUY else Side.BUY


def rfc3339_ns(value: str) -> int:
    """``2021-05-31T09:59:59.123456Z`` -> ns since the epoch (microsecond precision)."""
    stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(stamp.timestamp()) * 1_000_000_000 + stamp.microsecond * 1000


def newest_first(trades: list[PublicTrade]) -> list[PublicTrade]:
    return sorted(trades, key=lambda t: t.ts, reverse=True)
