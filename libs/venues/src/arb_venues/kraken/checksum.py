"""Kraken spot WS v1 and v2 ``book`` checksum, the one copy the book engine and the
simulator's frame encoder both use.

The top 10 asks ascending then the top 10 bids descending; per level the price text then the
qty text, each with '.' removed and leading zeros stripped; CRC-32 unsigned.
https://docs.kraken.com/api/docs/guides/spot-ws-book-v2 (v1: .../spot-ws-book-v1); the worked
example is in fixtures/CHECKSUMS.md section 3.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from arb_orderbook.checksums import ChecksumSpec
from arb_structs.market import LevelText

LEVELS = 10


def field(level: LevelText) -> str:
    """One level's piece of the checksummed string: its price field, then its qty field; a
    field is the text with '.' removed and leading zeros stripped."""
    price, qty = level
    return price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0")


def checksum_field(text: str) -> str:
    """'0.00100000' -> '100000': '.' removed, leading zeros stripped (``field``'s rule)."""
    return field((text, ""))


def from_fields(bids: Sequence[str], asks: Sequence[str]) -> int:
    """CRC-32 (unsigned) of the asks' pieces then the bids' (the top levels, best first)."""
    return zlib.crc32(("".join(asks) + "".join(bids)).encode())


def checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Kraken's CRC32 over best-first text levels (bids descending, asks ascending)."""
    return from_fields(list(map(field, bids[:LEVELS])), list(map(field, asks[:LEVELS])))


# The compiled book runs the same rule in C: ``field`` is its "digits" piece, ``from_fields``
# its "asks_bids" join, unsigned (arb_orderbook.checksums; test_native checks they agree).
CHECKSUM = ChecksumSpec(
    checksum, LEVELS, field=field, from_fields=from_fields, native_field="digits",
    native_join="asks_bids",
)  # fmt: skip
