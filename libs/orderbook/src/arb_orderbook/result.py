"""What applying one event did to a book, so callers count without re-deriving it."""

from __future__ import annotations

import enum
from typing import NamedTuple

from arb_structs.market import BookState


class Outcome(enum.StrEnum):
    """What happened to the event itself."""

    APPLIED = "applied"  # snapshot or in-sequence delta applied
    DROPPED_STALE = "dropped_stale"  # delta seq <= book seq: already contained in the book
    DROPPED_HALTED = "dropped_halted"  # the venue is down: delta ignored until it is up again
    BUFFERED = "buffered"  # no valid book yet (syncing / awaiting a snapshot): kept to replay
    GAP = "gap"  # delta prev_seq > book seq: an update is missing; book SUSPECT, resync
    STATUS = "status"  # a venue status changed the book's state
    EXPIRED = "expired"  # the staleness sweep found no update within the bound
    MARKED = "marked"  # its owner marked it SUSPECT (an audit mismatch, a refused frame)


class ChecksumCheck(enum.StrEnum):
    """Whether the venue checksum was verified after the message."""

    NOT_CHECKED = "not_checked"  # no checksum on the event, none known for the venue, or off
    OK = "ok"
    FAILED = "failed"
    # The venue checksums its updates but this delta carries none (a Kraken update without
    # one): counted, and the book is SUSPECT until a resync proves it again. Not for a venue
    # whose spec says it stopped sending them (OKX's 0 since 2026-06-23): those books are
    # proven by sequence continuity and the audit.
    MISSING = "missing"


class ApplyResult(NamedTuple):
    """The effect of one event on one book (also of buffered deltas replayed after a snapshot).

    ``levels`` counts level updates read (snapshot levels included); ``replayed`` and
    ``replay_dropped`` count buffered deltas applied / dropped as stale when a snapshot
    arrived; ``resync`` says the caller should ask ingest for a fresh snapshot. Immutable:
    the common results are shared instances (``applied_live`` and friends), so the hot path
    allocates nothing for them.
    """

    outcome: Outcome
    previous_state: BookState
    state: BookState
    levels: int = 0
    checksum: ChecksumCheck = ChecksumCheck.NOT_CHECKED
    crossed: bool = False
    gap: bool = False
    resync: bool = False
    overflow: bool = False
    replayed: int = 0
    replay_dropped: int = 0
    reason: str = ""

    @property
    def state_changed(self) -> bool:
        return self.state is not self.previous_state

    @property
    def changed_book(self) -> bool:
        """Whether a view of the book would differ (levels, seq or state changed)."""
        return self.outcome is Outcome.APPLIED or self.state is not self.previous_state


_CACHED_LEVELS = 256
_LIVE = BookState.LIVE
_APPLIED_LIVE: dict[ChecksumCheck, list[ApplyResult]] = {
    check: [
        ApplyResult(Outcome.APPLIED, _LIVE, _LIVE, levels, check)
        for levels in range(_CACHED_LEVELS)
    ]
    for check in (ChecksumCheck.NOT_CHECKED, ChecksumCheck.OK)
}
_UNCHANGED: dict[tuple[Outcome, BookState], ApplyResult] = {
    (outcome, state): ApplyResult(outcome, state, state)
    for outcome in (Outcome.DROPPED_STALE, Outcome.BUFFERED)
    for state in BookState
}


def applied_live(levels: int, checksum: ChecksumCheck = ChecksumCheck.NOT_CHECKED) -> ApplyResult:
    """LIVE stays LIVE after an applied message (the common case): a shared instance."""
    if levels < _CACHED_LEVELS:
        return _APPLIED_LIVE[checksum][levels]
    return ApplyResult(Outcome.APPLIED, _LIVE, _LIVE, levels, checksum)


def unchanged(outcome: Outcome, state: BookState) -> ApplyResult:
    """A stale-dropped or buffered delta that changed nothing else: a shared instance."""
    return _UNCHANGED[(outcome, state)]
