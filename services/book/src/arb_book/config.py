"""Book service settings (env prefix ARB_BOOK_). One process per venue set (a shard)."""

from __future__ import annotations

from arb_runtime.config import CommaList, ServiceSettings, settings_config
from arb_venues import VENUE_NAMES
from arb_venues.settings import VenueMap, known_venue_list
from pydantic import Field, field_validator


class BookSettings(ServiceSettings):
    model_config = settings_config("ARB_BOOK_")

    venues: CommaList = Field(
        default_factory=lambda: list(VENUE_NAMES),
        min_length=1,
        description="Venues whose arb:md:{venue} streams this shard applies (JSON list or "
        "comma-separated). Each venue must belong to exactly one book shard.",
    )
    depth: int = Field(default=20, ge=1, description="Levels per side in each published view.")
    read_count: int = Field(
        default=500, ge=1, description="Entries per XREAD (one batch: one publish, one flush)."
    )
    block_ms: int = Field(
        default=100, ge=1, description="XREAD BLOCK in ms; also bounds the sweep's delay."
    )
    start_from: str = Field(
        default="0",
        description="Where to start a venue with no checkpoint: '0' = the oldest retained md "
        "entry, '$' = only entries added after the start.",
    )
    stale_after_seconds: float = Field(
        default=30.0, gt=0, description="A LIVE book with no update for this long is SUSPECT."
    )
    stale_after_by_venue: VenueMap[float] = Field(
        default_factory=dict,
        description="Per-venue staleness bounds in seconds overriding stale_after_seconds, "
        'e.g. {"<venue>": 120} (quiet books on some venues update rarely).',
    )
    resync_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="At most one resync request per symbol per this many seconds; also how "
        "long a new book waits for ingest's own snapshot before one is requested.",
    )
    sweep_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often books are checked for staleness and resyncs."
    )
    buffer_limit: int = Field(
        default=5_000, ge=1, description="Deltas buffered per book while it waits for a snapshot."
    )
    verify_checksums: bool = Field(
        default=True, description="Verify venue checksums where events carry one."
    )
    audit_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Audit each LIVE book this often against a fresh REST snapshot fetched by "
        "ingest (within the venue's REST budget); a mismatch makes the book SUSPECT and "
        "resyncs it. 0 = no audits.",
    )
    audit_levels: int = Field(
        default=10, ge=1, description="Levels per side an audit compares (top N)."
    )
    audit_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="An audit not matched this long after it was asked for is counted as "
        "skipped (timeout), never as passed.",
    )

    @field_validator("venues")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return known_venue_list(v.lower() for v in value)

    @field_validator("start_from")
    @classmethod
    def _start(cls, value: str) -> str:
        if value not in ("0", "$"):
            raise ValueError("must be '0' (oldest retained entry) or '$' (only new entries)")
        return value

    def stale_after_ns(self, venue: str) -> int:
        return int(self.stale_after_by_venue.get(venue, self.stale_after_seconds) * 1e9)
