"""Which book sides the engine runs: the compiled ones (``_native.pyx``) or the pure-Python
reference (``sides.py``), chosen once at import.

The compiled module is built from source by ``make setup`` (``arb_orderbook.native_build``);
where it is not built (no compiler, an installed package such as the container image's) the
pure sides run, with the same results. ``ARB_NATIVE=0`` runs the pure sides even when the
compiled ones are built. ``PATH`` names the one in use (``arb replay`` and the bench report
it as ``book``); ``OrderBook(native=...)`` overrides the choice for one book (tests).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from arb_core.variables import NATIVE

_native: ModuleType | None
try:
    from arb_orderbook import _native  # type: ignore[attr-defined, no-redef, unused-ignore]
except ImportError:  # not built: the pure sides
    _native = None

_ON, _OFF = ("1", "true", "yes", "on", ""), ("0", "false", "no", "off")


def _requested() -> bool:
    value = os.environ.get(NATIVE, "").strip().lower()
    if value not in _ON + _OFF:
        raise ValueError(
            f"{NATIVE}={os.environ[NATIVE]!r}: not 0 or 1; set 0 for the pure-Python book "
            "sides or unset it for the compiled ones where built"
        )
    return value in _ON


REQUESTED = _requested()
# The module the engine's books use (None: the pure sides).
COMPILED: Any = _native if REQUESTED else None
PATH = "native" if COMPILED is not None else "pure"
# Why the pure sides run ("" when the compiled ones do).
WHY_PURE = (
    ""
    if COMPILED is not None
    else f"{NATIVE}=0"
    if _native is not None
    else "the compiled book is not built (make setup builds it)"
)


def built() -> ModuleType | None:
    """The compiled module when it is built, whatever ``ARB_NATIVE`` says (for the tests)."""
    return _native
