"""Bitfinex v2 wire structs, with Bitfinex's own field names.

WS (https://docs.bitfinex.com/docs/ws-general, .../reference/ws-public-books): events are
JSON objects (``info``, ``conf``, ``subscribed``, ``unsubscribed``, ``error``, ``pong``); channel
data are arrays ``[CHAN_ID, DATA, SEQ?]``: a book snapshot ``[[PRICE, COUNT, AMOUNT], ...]``,
an update ``[PRICE, COUNT, AMOUNT]``, ``"hb"``, or ``"cs", CHECKSUM``. With SEQ_ALL on, every
array ends with the connection's sequence number. Prices and amounts are JSON numbers, kept as
``msgspec.Raw`` so their exact text survives for the checksum.
REST answers are arrays too (``/v2/book/{symbol}/P0``: the same level triples; ``/v2/conf``:
one list per key asked for); errors are ``["error", CODE, "text"]``.
"""

from __future__ import annotations

import msgspec


class Event(msgspec.Struct, frozen=True):
    """Any WS event object (the fields of every kind we read)."""

    event: str
    channel: str = ""
    chanId: int | None = None  # Bitfinex's field name
    symbol: str = ""
    pair: str = ""
    prec: str = ""
    len: str | int = ""
    flags: int = 0
    status: str = ""
    code: int = 0
    msg: str = ""
    version: int = 0


# A book level: price, count, amount (> 0 bid, < 0 ask); price and amount as exact text.
Level = tuple[msgspec.Raw, int, msgspec.Raw]

PARTS = msgspec.json.Decoder(list[msgspec.Raw])
EVENT = msgspec.json.Decoder(Event)
INT = msgspec.json.Decoder(int)
TEXT = msgspec.json.Decoder(str)
LEVEL = msgspec.json.Decoder(Level)
LEVELS = msgspec.json.Decoder(list[Level])
ANY = msgspec.json.Decoder()
