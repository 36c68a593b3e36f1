"""What the book engine needs to know of a venue checksum, and nothing venue-specific.

A venue that sends a book checksum describes it with a ``ChecksumSpec``: a pure function over
the top levels of one book as the venue's own text, best first (``bids`` price descending,
``asks`` price ascending), returning the checksum in the venue's own convention (signed or
unsigned 32-bit), and how many levels per side it reads. The functions live with their
venue (``arb_venues/<venue>/checksum.py``); the book engine takes them from the registry it
is given (``BookSet(checksums=...)``, built by ``arb_venues.checksums()``). The algorithms,
their doc links and worked examples are in ``fixtures/CHECKSUMS.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arb_structs.market import LevelText

ChecksumFunction = Callable[[Sequence[LevelText], Sequence[LevelText]], int]


@dataclass(frozen=True, slots=True)
class ChecksumSpec:
    """How one venue's checksum is computed and read."""

    function: ChecksumFunction
    levels: int  # levels per side the function reads
    zero_means_absent: bool = False  # the venue sends 0 when it no longer computes one (OKX)
    # The venue checksums every update (Kraken): an update without one leaves the book
    # unproven (SUSPECT, resync). False where checksums come now and then (OKX since it sends
    # 0, Bitfinex's separate checksum frames): a delta without one is normal there.
    on_every_update: bool = True


def same_checksum(expected: int, computed: int) -> bool:
    """Equal as 32-bit values, whichever sign convention each side used."""
    return (expected & 0xFFFF_FFFF) == (computed & 0xFFFF_FFFF)
