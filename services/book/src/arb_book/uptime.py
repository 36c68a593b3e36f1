"""How long each book was LIVE: the engine's uptime, per venue and symbol.

A book is watched from the first time it is LIVE (the start-up sync is not downtime); from
then on every second is either LIVE or not. The shard tells ``observe`` each state a book's
view shows (every state change publishes a view) and ``gap`` each sequence gap; ``export``
brings every book's clock to now and sets the metrics:

    arb_book_live_seconds_total{venue,symbol}      seconds LIVE since first LIVE
    arb_book_watched_seconds_total{venue,symbol}   seconds since first LIVE
    arb_book_live_ratio{venue,symbol}              the first over the second (the share)
    arb_book_gaps_total{venue,symbol}              sequence gaps of the book

Declared downtime: a venue that closes for maintenance it declares (the feed's VenueStatus
reason DECLARED_MAINTENANCE: the venue is halted, not tradable) takes its books out of LIVE
like any outage, and that time counts against ``live_share`` all the same; it is also counted
apart (``declared_down_s``, from the declaration until the book is LIVE again), so
``live_share_outside_declared`` says how the engine did while the venue was open.

``arb status`` shows each book against UPTIME_TARGET (arb_structs.constants: > 95 % LIVE).
"""

from __future__ import annotations

from dataclasses import dataclass

from arb_structs.constants import DECLARED_MAINTENANCE
from arb_structs.constants import UPTIME_TARGET as UPTIME_TARGET
from arb_structs.market import BookState
from prometheus_client import Counter, Gauge

LIVE_SECONDS = Counter(
    "arb_book_live_seconds_total", "Seconds the book was LIVE since it first was.",
    ["venue", "symbol"],
)  # fmt: skip
WATCHED_SECONDS = Counter(
    "arb_book_watched_seconds_total", "Seconds since the book was first LIVE.",
    ["venue", "symbol"],
)  # fmt: skip
LIVE_RATIO = Gauge(
    "arb_book_live_ratio", "Share of the watched time the book was LIVE (0-1).",
    ["venue", "symbol"],
)  # fmt: skip
GAPS = Counter("arb_book_gaps_total", "Sequence gaps of the book.", ["venue", "symbol"])
DECLARED_SECONDS = Counter(
    "arb_book_declared_down_seconds_total",
    "Seconds the book was not LIVE because its venue declared maintenance (in the watched "
    "seconds and against the LIVE share all the same).",
    ["venue", "symbol"],
)  # fmt: skip


@dataclass(slots=True)
class _Track:
    live: bool
    since: int  # ns: when the current state was first seen
    live_ns: int = 0
    watched_ns: int = 0
    declared: bool = False  # not LIVE since the venue declared maintenance
    declared_ns: int = 0
    gaps: int = 0
    exported_live: int = 0
    exported_watched: int = 0
    exported_declared: int = 0

    def advance(self, now: int) -> None:
        elapsed = max(0, now - self.since)
        self.watched_ns += elapsed
        if self.live:
            self.live_ns += elapsed
        elif self.declared:
            self.declared_ns += elapsed
        self.since = now

    @property
    def share(self) -> float:
        return self.live_ns / self.watched_ns if self.watched_ns else 1.0

    @property
    def share_outside_declared(self) -> float:
        open_ns = self.watched_ns - self.declared_ns
        return self.live_ns / open_ns if open_ns > 0 else 1.0


class Uptime:
    """Per (venue, symbol): LIVE time, watched time, gaps (see the module docstring)."""

    def __init__(self) -> None:
        self._tracks: dict[tuple[str, str], _Track] = {}

    def observe(self, venue: str, symbol: str, state: BookState, now: int, reason: str = ""
                ) -> None:  # fmt: skip
        live = state is BookState.LIVE
        track = self._tracks.get((venue, symbol))
        if track is None:
            if live:  # watched from the first LIVE on
                self._tracks[(venue, symbol)] = _Track(True, now)
            return
        # Declared from the venue's declaration until the book is LIVE again.
        declared = not live and (track.declared or DECLARED_MAINTENANCE in reason)
        if live != track.live or declared != track.declared:
            track.advance(now)
            track.live, track.declared = live, declared

    def gap(self, venue: str, symbol: str) -> None:
        GAPS.labels(venue, symbol).inc()
        track = self._tracks.get((venue, symbol))
        if track is not None:
            track.gaps += 1

    def export(self, now: int) -> None:
        for (venue, symbol), track in self._tracks.items():
            track.advance(now)
            LIVE_SECONDS.labels(venue, symbol).inc((track.live_ns - track.exported_live) / 1e9)
            WATCHED_SECONDS.labels(venue, symbol).inc(
                (track.watched_ns - track.exported_watched) / 1e9
            )
            DECLARED_SECONDS.labels(venue, symbol).inc(
                (track.declared_ns - track.exported_declared) / 1e9
            )
            track.exported_live, track.exported_watched = track.live_ns, track.watched_ns
            track.exported_declared = track.declared_ns
            LIVE_RATIO.labels(venue, symbol).set(track.share)

    def describe(self, venue: str) -> dict[str, dict[str, float]]:
        """The venue's books for the shard's health (``arb status`` reads it): per symbol
        ``live_share`` (0-1), ``watched_s``, ``gaps``, ``declared_down_s`` and
        ``live_share_outside_declared``."""
        return {
            symbol: {"live_share": round(track.share, 6),
                     "watched_s": round(track.watched_ns / 1e9, 1), "gaps": track.gaps,
                     "declared_down_s": round(track.declared_ns / 1e9, 1),
                     "live_share_outside_declared": round(track.share_outside_declared, 6)}
            for (v, symbol), track in sorted(self._tracks.items())
            if v == venue
        }  # fmt: skip

    def shares(self) -> dict[tuple[str, str], float]:
        return {key: track.share for key, track in self._tracks.items()}
