"""Which book the engine runs: the compiled one (``_native.pyx``: OrderBook and its sides) or
the pure-Python reference (``book.py``, ``sides.py``), chosen once at import.

The compiled module is built from source by ``make setup`` (``arb_orderbook.native_build``);
where it is not built (no compiler, a package installed without its sources) the
pure book runs, with the same results. ``ARB_NATIVE=0`` runs the pure book even when the
compiled one is built. ``PATH`` names the one in use (``arb replay`` and the bench report
it as ``book``); ``BookSet(native=...)`` overrides the choice for one set (tests).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from arb_core.variables import NATIVE

from arb_orderbook import book

# The compiled book's source: the module and the files it includes.
SOURCES = tuple(
    Path(__file__).with_name(name)
    for name in ("_native.pyx", "_native_book.pxi", "_native_frames.pxi")
)


def source_hash() -> str:
    """The hash of the compiled book's source as it is now ("" where it is not here: an
    installed package). The build compiles it into the module (``SOURCE_HASH``), so a module
    built from another source is never used."""
    digest = hashlib.sha256()
    for path in SOURCES:
        try:
            digest.update(path.read_bytes())
        except OSError:
            return ""
    return digest.hexdigest()


_native: ModuleType | None
_stale = False
try:
    from arb_orderbook import _native  # type: ignore[attr-defined, no-redef, unused-ignore]
except ImportError:  # not built: the pure book
    _native = None
if _native is not None and getattr(_native, "SOURCE_HASH", None) != source_hash():
    _native, _stale = None, True  # built from another source: make setup rebuilds it

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
# The compiled module the engine's books use (None: the pure book).
COMPILED: Any = _native if REQUESTED else None
PATH = "native" if COMPILED is not None else "pure"
# Why the pure book runs ("" when the compiled one does).
WHY_PURE = (
    ""
    if COMPILED is not None
    else f"{NATIVE}=0"
    if _native is not None
    else "the compiled book is out of date (make setup rebuilds it)"
    if _stale
    else "the compiled book is not built (make setup builds it)"
)


# The OrderBook class the engine's books are (the compiled one has the same interface).
OrderBook: type[book.OrderBook] = COMPILED.OrderBook if COMPILED is not None else book.OrderBook


def book_type(native: bool | None = None) -> type[book.OrderBook]:
    """The OrderBook class for ``native`` (None: the process's choice, ``OrderBook``)."""
    if native is None:
        return OrderBook
    if not native:
        return book.OrderBook
    if _native is None:
        raise ValueError("native=True: the compiled book is not built (run make setup)")
    compiled: type[book.OrderBook] = _native.OrderBook
    return compiled


def describe() -> str:
    """The book in use, for reports: ``native``, or ``pure (why)``."""
    return PATH if not WHY_PURE else f"{PATH} ({WHY_PURE})"


def counts_type(native: bool | None = None) -> type[Any]:
    """The VenueCounts class that goes with ``book_type(native)`` (the compiled one counts
    in C; both have the same fields and totals)."""
    from arb_orderbook.bookset import VenueCounts  # here: bookset imports this module

    if book_type(native) is book.OrderBook:
        return VenueCounts
    assert _native is not None  # book_type gave the compiled OrderBook
    compiled: type[Any] = _native.VenueCounts
    return compiled


def router(native: bool | None = None) -> Any:
    """The compiled ``BookSet.apply`` (``Router``) for the books of ``book_type(native)``;
    None for the pure book."""
    if book_type(native) is book.OrderBook:
        return None
    assert _native is not None
    return _native.Router


def built() -> ModuleType | None:
    """The compiled module when it is built, whatever ``ARB_NATIVE`` says (for the tests)."""
    return _native
