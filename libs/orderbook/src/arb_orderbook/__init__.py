"""The L2 order-book engine: sequence rule, checksums, health state (book service, replay)."""

from __future__ import annotations

from arb_orderbook.audit import AuditResult, BookAuditor
from arb_orderbook.book import DEFAULT_BUFFER_LIMIT, OrderBook
from arb_orderbook.bookset import BookSet, VenueCounts
from arb_orderbook.checksums import ChecksumSpec
from arb_orderbook.errors import BookEventError, OrderBookError
from arb_orderbook.result import ApplyResult, ChecksumCheck, Outcome

__all__ = [
    "DEFAULT_BUFFER_LIMIT",
    "ApplyResult",
    "AuditResult",
    "BookAuditor",
    "BookEventError",
    "BookSet",
    "ChecksumCheck",
    "ChecksumSpec",
    "OrderBook",
    "OrderBookError",
    "Outcome",
    "VenueCounts",
]
