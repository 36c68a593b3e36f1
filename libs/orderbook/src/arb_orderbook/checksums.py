"""What the book engine needs to know of a venue checksum, and nothing venue-specific.

A venue that sends a book checksum describes it with a ``ChecksumSpec``: a pure function over
the top levels of one book as the venue's own text, best first (``bids`` price descending,
``asks`` price ascending), returning the checksum in the venue's own convention (signed or
unsigned 32-bit), and how many levels per side it reads. The functions live with their
venue (``arb_venues/<venue>/checksum.py``); the book engine takes them from the registry it
is given (``BookSet(checksums=...)``, built by ``arb_venues.checksums()``). The algorithms,
their doc links and worked examples are in ``fixtures/CHECKSUMS.md``.

Every venue checksum so far is a CRC over the concatenation of one piece per level, each
piece depending only on that level's text. A spec may say so (``field`` and
``from_fields``): the book then turns a level's text into its piece once, when the level is
stored, and on each message only joins the pieces of the top levels and runs the CRC,
instead of rebuilding every piece of the top levels from text on every message (on Kraken,
40 string operations per update; on OKX, 50 ``px:sz`` pieces). ``function`` stays the whole
rule in one call (the simulators' frame encoders use it); a venue defines it through its
``field`` and ``from_fields``, so the rule has one home, and ``test_checksums`` checks that
both ways give the same value for every venue that has them.

The compiled book (``arb_orderbook._native``, docs/native.md) runs the two steps without
calling back into Python where a spec names them as generic rules it knows: ``native_field``
(``"digits"``: price text then size text, each with '.' removed and leading zeros stripped;
``"colon"``: price text, ':', size text)
and ``native_join`` (``"asks_bids"``: the asks' pieces then the bids'; ``"interleaved"``:
bid0:ask0:bid1:..., ':' between) with ``native_signed``. They restate what ``field`` and
``from_fields`` compute, so ``test_native`` checks them against those on every recording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arb_structs.market import LevelText

ChecksumFunction = Callable[[Sequence[LevelText], Sequence[LevelText]], int]
# One level's text (price, size) -> its piece of the checksummed text. A builtin where it
# can be (OKX's ``":".join``), so storing a level runs no Python frame for it.
FieldFunction = Callable[[LevelText], str]
# The pieces of the top levels, best first (bids, asks) -> the checksum.
FromFieldsFunction = Callable[[Sequence[str], Sequence[str]], int]


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
    # The same checksum in two steps (both or neither): ``function(bids, asks) ==
    # from_fields([field(t) for t in bids[:levels]], [field(t) for t in asks[:levels]])``.
    field: FieldFunction | None = None
    from_fields: FromFieldsFunction | None = None
    # The same two steps as rules the compiled book runs in C ("" = it calls the functions;
    # both are ignored without ``field``, where the book keeps text and calls ``function``).
    native_field: str = ""
    native_join: str = ""
    native_signed: bool = False  # the joined pieces' CRC-32 as a signed int32

    def __post_init__(self) -> None:
        if (self.field is None) != (self.from_fields is None):
            raise ValueError(
                "ChecksumSpec: give both field and from_fields, or neither (the book keeps "
                "per-level pieces only when it can also combine them)"
            )
        if self.levels < 1:
            raise ValueError(f"ChecksumSpec: levels={self.levels}: must be at least 1")


def same_checksum(expected: int, computed: int) -> bool:
    """Equal as 32-bit values, whichever sign convention each side used."""
    return (expected & 0xFFFF_FFFF) == (computed & 0xFFFF_FFFF)
