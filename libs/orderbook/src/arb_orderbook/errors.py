"""Errors of the book engine.

OrderBookError
└── BookEventError (ValueError)    an event the engine cannot apply (malformed, wrong kind);
                                   raised before the book changes, so nothing is half-applied
"""

from __future__ import annotations


class OrderBookError(Exception):
    """Root of every error the book engine raises on purpose."""


class BookEventError(OrderBookError, ValueError):
    """An event cannot be applied; the message names the book, the field and the fix."""
