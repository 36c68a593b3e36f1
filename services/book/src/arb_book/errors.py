"""Book service errors.

BookServiceError (ArbError)
└── CheckpointError    a stored checkpoint is not a stream entry id
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class BookServiceError(ArbError):
    """Root of the book service's own errors."""


class CheckpointError(BookServiceError, ValueError):
    """The checkpoint key holds something that is not an entry id; the message says which."""
