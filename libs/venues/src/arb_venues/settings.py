"""Validation that every per-venue setting shares: a key or list entry must name a venue of
the registry (``arb_venues.VENUE_NAMES``), and the error lists the known ones.

    stale_after_by_venue: VenueMap[float] = Field(default_factory=dict, ...)
    @field_validator("venues")
    def _known(cls, value): return known_venue_list(value)
    taker_fees: TakerFees = taker_fees_field()   # the shared ARB_TAKER_FEES

Pure pydantic (no settings machinery): the services' settings classes use these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field

from arb_venues import VENUE_NAMES, unknown_venue
from arb_venues.fees import SETTING, check_fee

V = TypeVar("V")


def known_venue(name: str) -> str:
    if name not in VENUE_NAMES:
        raise unknown_venue(name)
    return name


def known_venue_list(names: Iterable[str]) -> list[str]:
    """The names, each checked against the registry (ValueError names the first unknown)."""
    return [known_venue(name) for name in names]


def known_venue_keys(value: Mapping[str, V]) -> Mapping[str, V]:
    """A per-venue mapping whose keys are all venues of the registry."""
    for name in value:
        known_venue(name)
    return value


def _fee_fractions(value: dict[str, str]) -> dict[str, str]:
    for venue, text in value.items():
        check_fee(venue, text)
    return value


def _known_keys_first(value: Any) -> Any:
    """The keys checked before the values: a typo'd venue of a nested setting
    (ARB_EXECUTOR_CREDENTIALS__BINNANCE__API_KEY) is named as such, not as a missing field."""
    if isinstance(value, Mapping):
        known_venue_keys(value)
    return value


# A per-venue setting: {"<venue>": value}; an unknown key is an error listing the venues.
VenueMap = Annotated[dict[str, V], BeforeValidator(_known_keys_first)]
# Taker fee fractions by venue (the shared ARB_TAKER_FEES).
TakerFees = Annotated[
    dict[str, str], AfterValidator(known_venue_keys), AfterValidator(_fee_fractions)
]


def taker_fees_field() -> Any:
    """The ``taker_fees`` field of every service that reads ARB_TAKER_FEES."""
    return Field(
        default_factory=dict,
        validation_alias=AliasChoices(SETTING, "taker_fees"),
        description=(
            "The taker fee your account pays, per venue, as a fraction "
            '(JSON, e.g. {"<venue>": "0.00075"}); a venue left out pays its '
            "default (docs/venues.md). Shared by ingest, which publishes it on every "
            "Instrument (the detector prices it, the paper executor charges it), and the "
            "simulator, whose accounts are charged it."
        ),
    )


def shared_rate_limits_field() -> Any:
    """The ``shared_rate_limits`` field of every service that calls a venue's REST API
    (ingest's snapshots and audits, the executor's orders and queries): one table of limits
    per venue (``VenueSpec.rest_limits``), shared through Redis."""
    return Field(
        default=True,
        description="A venue's REST budgets and Retry-After pauses shared through Redis by "
        "every ingest and executor process (False: each process keeps its own, and N "
        "processes may send N times the venue's limit).",
    )
