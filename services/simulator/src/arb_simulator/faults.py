"""Faults armed on demand, per venue and optionally per symbol (implements simapi.SimFaults).

A fault is armed for ``count`` occurrences (default one), or for ``duration_s`` seconds
(every occurrence in that window), or both (whichever ends first). ``take(kind, symbol)``
consumes one occurrence and says whether the fault fires. A fault armed without a symbol
fires for any symbol (and for calls that name none); one armed for a symbol fires only for it.
An HTTP fault armed with ``path`` (and ``method``) fires only for requests whose path contains
it (with that method): "slow the next order placement", not whichever request comes next.

Kinds the core applies itself: http_429, http_418, http_5xx, slow (HTTP middleware, see
server.py), reject_order, partial_fill (order matching). The venue protocol servers apply
drop_connection, skip_seq, bad_checksum, malformed_frame, lose_response, and (OKX) the two
that corrupt a book without breaking its sequence: corrupt_book (each update while armed
also says the best bid holds twice its size: the WS book drifts from the REST one, which
only an audit can see) and bad_level (one update carries an extra level whose price, or
with field "size" the best ask's size, is the text ``value``: "NaN", "Infinity", "-5"...).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CORE_KINDS = ("http_429", "http_418", "http_5xx", "slow", "reject_order", "partial_fill")
PROTOCOL_KINDS = (
    "drop_connection", "skip_seq", "bad_checksum", "malformed_frame", "lose_response",
    "corrupt_book", "bad_level",
)  # fmt: skip
FAULT_KINDS = CORE_KINDS + PROTOCOL_KINDS


@dataclass(slots=True)
class ArmedFault:
    kind: str
    symbol: str | None = None
    remaining: int | None = 1  # None: unlimited within the duration
    until: float | None = None  # monotonic deadline; None: no deadline
    retry_after_s: float = 1.0  # http_429 / http_418
    delay_s: float = 1.0  # slow
    status: int = 503  # http_5xx
    fired: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # HTTP faults: only requests whose path contains this
    method: str | None = None  # ... and with this method

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "remaining": self.remaining,
            "fired": self.fired,
            "retry_after_s": self.retry_after_s,
            "delay_s": self.delay_s,
            "status": self.status,
            "path": self.path,
            "method": self.method,
        }


class Faults:
    """The armed faults of one venue."""

    def __init__(self, venue: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.venue = venue
        self._clock = clock
        self._armed: list[ArmedFault] = []
        self._lock = threading.Lock()  # the control endpoint and a venue app may share it
        self.fired_total: dict[str, int] = {}

    def arm(
        self,
        kind: str,
        symbol: str | None = None,
        count: int | None = None,
        duration_s: float | None = None,
        retry_after_s: float = 1.0,
        delay_s: float = 1.0,
        status: int = 503,
        path: str | None = None,
        method: str | None = None,
        **params: Any,
    ) -> ArmedFault:
        """Arm ``kind``; ValueError names a bad kind or count."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} unknown; kinds: {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError(f"fault count {count}: must be >= 1 (or omitted)")
        if duration_s is not None and duration_s <= 0:
            raise ValueError(f"fault duration_s {duration_s}: must be > 0 (or omitted)")
        if kind == "http_5xx" and not 500 <= status <= 599:
            raise ValueError(f"http_5xx status {status}: must be 500-599")
        remaining = count if count is not None else (None if duration_s is not None else 1)
        until = self._clock() + duration_s if duration_s is not None else None
        fault = ArmedFault(
            kind,
            symbol,
            remaining,
            until,
            retry_after_s=retry_after_s,
            delay_s=delay_s,
            status=status,
            params=params,
            path=path,
            method=method.upper() if method else None,
        )
        with self._lock:
            self._armed.append(fault)
        return fault

    def take_fault(self, kind: str, symbol: str | None = None, path: str | None = None,
                   method: str | None = None) -> ArmedFault | None:  # fmt: skip
        """Consume one occurrence of ``kind`` (for ``symbol``, or an HTTP request's ``path``
        and ``method``); the fault or None."""
        if not self._armed:  # the common case: nothing armed, no lock
            return None
        now = self._clock()
        with self._lock:
            self._armed = [f for f in self._armed if f.until is None or f.until > now]
            for fault in self._armed:
                if fault.kind != kind or (fault.symbol is not None and fault.symbol != symbol):
                    continue
                if fault.path is not None and (path is None or fault.path not in path):
                    continue
                if fault.method is not None and fault.method != method:
                    continue
                fault.fired += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._armed.remove(fault)
                self.fired_total[kind] = self.fired_total.get(kind, 0) + 1
                return fault
        return None

    def take(self, kind: str, symbol: str | None = None) -> bool:
        return self.take_fault(kind, symbol) is not None

    def take_params(self, kind: str, symbol: str | None = None) -> dict[str, object] | None:
        fault = self.take_fault(kind, symbol)
        return None if fault is None else dict(fault.params)

    def armed(self) -> list[ArmedFault]:
        now = self._clock()
        with self._lock:
            return [f for f in self._armed if f.until is None or f.until > now]

    def clear(self, kind: str | None = None) -> int:
        """Disarm every fault (of ``kind``); how many were disarmed."""
        with self._lock:
            before = len(self._armed)
            self._armed = [f for f in self._armed if kind is not None and f.kind != kind]
            return before - len(self._armed)
