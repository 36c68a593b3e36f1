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
from itertools import chain

from arb_orderbook.checksums import ChecksumSpec
from arb_structs.market import LevelText

LEVELS = 10
# Level text -> its checksum field. Books repeat the same few hundred texts, so this saves
# 40 string operations per update; cleared whole when full, so it cannot grow without bound.
_FIELDS: dict[str, str] = {}
_FIELDS_MAX = 1 << 16


def checksum_field(text: str) -> str:
    """'0.00100000' -> '100000': '.' removed, leading zeros stripped."""
    return text.replace(".", "").lstrip("0")


def checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Kraken's CRC32 over best-first text levels (bids descending, asks ascending).

    ``checksum_field`` of each of the 40 texts, through a memo (this runs on every update)."""
    fields = _FIELDS
    if len(fields) > _FIELDS_MAX:
        fields.clear()
    known = fields.get
    parts = [
        known(text) or fields.setdefault(text, checksum_field(text))
        for text in chain.from_iterable(chain(asks[:LEVELS], bids[:LEVELS]))
    ]
    return zlib.crc32("".join(parts).encode())


CHECKSUM = ChecksumSpec(checksum, LEVELS)
