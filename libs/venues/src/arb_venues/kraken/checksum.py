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


def checksum_field(text: str) -> str:
    """'0.00100000' -> '100000': '.' removed, leading zeros stripped."""
    return text.replace(".", "").lstrip("0")


def checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Kraken's CRC32 over best-first text levels (bids descending, asks ascending)."""
    parts: list[str] = []
    append = parts.append
    for price, size in asks[:LEVELS]:
        append(checksum_field(price))
        append(checksum_field(size))
    for price, size in bids[:LEVELS]:
        append(checksum_field(price))
        append(checksum_field(size))
    return zlib.crc32("".join(parts).encode())


CHECKSUM = ChecksumSpec(checksum, LEVELS)
