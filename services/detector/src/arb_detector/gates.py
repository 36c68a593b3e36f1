"""The gates between a sized trade and an emitted opportunity (pure, clock passed in).

- freshness (checked in ``Detector._tops``, once per book per batch): a book is tradable only
  while LIVE and younger (since ``ts_update``, else ``ts_recv``) than its venue's bound;
- verified levels (``Detector._tops`` and ``_evaluate``): never sized against a level the
  book has not verified: a book whose last audit failed is out, and so is a view whose levels
  are not finite and positive, best-first and uncrossed (the book service never publishes
  one; the detector does not take that on trust);
- in flight: once an opportunity is emitted for (symbol, buy venue, sell venue), the pair
  stays quiet until its ExecutionResult arrives, the top prices move by the configured
  fraction, or the in-flight timeout passes; meanwhile the quote and base it would spend are
  reserved, so other pairs are sized on what is really left;
- leg in flight: the liquidity an in-flight opportunity takes (the buy venue's asks, the sell
  venue's bids) is not offered to another pair until that flight ends or the leg's top price
  moves: three pairs selling into one rich bid would otherwise all be sent, and only the
  first would fill;
- cooldown: after a failed execution, the pair rests for a while.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from arb_structs.trading import ExecutionResult, ExecutionStatus

PairKey = tuple[str, str, str]  # (symbol, buy venue, sell venue)
LegKey = tuple[str, str, str]  # (symbol, venue, "ask" | "bid")


class Gate(enum.StrEnum):
    """Gated-out reasons decided outside the sizing search."""

    NOT_LIVE = "not_live"
    AUDIT_FAILED = "audit_failed"  # the book's last audit against a REST snapshot failed
    BAD_LEVEL = "bad_level"  # a level that is not finite and positive, or out of order
    STALE = "stale"
    NO_INSTRUMENT = "no_instrument"
    QUOTE_MISMATCH = "quote_mismatch"
    NO_BALANCE = "no_balance"
    COOLDOWN = "cooldown"
    IN_FLIGHT = "in_flight"
    LEG_IN_FLIGHT = "leg_in_flight"
    BELOW_MIN_PROFIT = "below_min_profit"


@dataclass(slots=True)
class InFlight:
    """One emitted opportunity whose execution has not been reported yet."""

    opportunity_id: str
    ask: float  # top ask on the buy venue when emitted
    bid: float  # top bid on the sell venue when emitted
    until: int  # ns: forget it after this
    quote_key: tuple[str, str]  # (buy venue, quote asset)
    quote_amount: float  # reserved: notional + fee
    base_key: tuple[str, str]  # (sell venue, base asset)
    base_amount: float


DEFAULT_COOLDOWN_STATUSES = frozenset(
    {
        ExecutionStatus.FAILED,
        ExecutionStatus.UNHEDGED,
        ExecutionStatus.NOT_FILLED,
        ExecutionStatus.REFUSED,
    }
)


class InFlightGate:
    """In-flight suppression, balance reservations and per-pair cooldowns."""

    __slots__ = (
        "_cooldown_ns",
        "_cooldown_statuses",
        "_cooldowns",
        "_flights",
        "_legs",
        "_move",
        "_reserved",
        "timeout_ns",
    )

    def __init__(
        self,
        *,
        timeout_ns: int,
        reprice_fraction: float,
        cooldown_ns: int,
        cooldown_statuses: Iterable[ExecutionStatus] = DEFAULT_COOLDOWN_STATUSES,
    ) -> None:
        self.timeout_ns = timeout_ns
        self._move = reprice_fraction
        self._cooldown_ns = cooldown_ns
        self._cooldown_statuses = frozenset(cooldown_statuses)
        self._flights: dict[PairKey, InFlight] = {}
        self._legs: dict[LegKey, PairKey] = {}  # liquidity taken by an in-flight pair
        self._cooldowns: dict[PairKey, int] = {}
        self._reserved: dict[tuple[str, str], float] = {}

    def check(self, key: PairKey, ask: float, bid: float, now: int) -> Gate | None:
        """None if the pair may emit now; drops an in-flight entry that timed out or moved."""
        until = self._cooldowns.get(key)
        if until is not None:
            if now < until:
                return Gate.COOLDOWN
            del self._cooldowns[key]
        flight = self._flights.get(key)
        if flight is not None:
            moved = (
                abs(ask - flight.ask) >= self._move * flight.ask
                or abs(bid - flight.bid) >= self._move * flight.bid
            )
            if now < flight.until and not moved:
                return Gate.IN_FLIGHT
            self._drop(key)
        symbol, buy, sell = key
        if self._leg_taken((symbol, buy, "ask"), key, ask, now) or self._leg_taken(
            (symbol, sell, "bid"), key, bid, now
        ):
            return Gate.LEG_IN_FLIGHT
        return None

    def _leg_taken(self, leg: LegKey, key: PairKey, price: float, now: int) -> bool:
        """Another live flight takes this leg's liquidity at (about) this top price."""
        owner = self._legs.get(leg)
        if owner is None or owner == key:
            return False
        flight = self._flights.get(owner)
        if flight is None or now >= flight.until:
            if flight is not None:
                self._drop(owner)
            else:
                del self._legs[leg]
            return False
        taken = flight.ask if leg[2] == "ask" else flight.bid
        return abs(price - taken) < self._move * taken  # moved: new liquidity, offer it

    def _drop(self, key: PairKey) -> None:
        del self._flights[key]
        symbol, buy, sell = key
        for leg in ((symbol, buy, "ask"), (symbol, sell, "bid")):
            if self._legs.get(leg) == key:
                del self._legs[leg]
        self._recount()

    def sweep(self, now: int) -> None:
        """Forget flights past their timeout even if their pair never shows an edge again, so
        their reservations do not outlive them."""
        if self._flights:
            expired = [key for key, flight in self._flights.items() if now >= flight.until]
            for key in expired:
                self._drop(key)

    def reserved(self, venue: str, asset: str) -> float:
        """What in-flight opportunities would spend of ``asset`` on ``venue``."""
        return self._reserved.get((venue, asset), 0.0)

    def in_flight(self, key: PairKey) -> str | None:
        """The id in flight for this pair, if any."""
        flight = self._flights.get(key)
        return None if flight is None else flight.opportunity_id

    def record(self, key: PairKey, flight: InFlight) -> None:
        """An opportunity was emitted for ``key``: suppress repeats and reserve its balances."""
        self._flights[key] = flight
        symbol, buy, sell = key
        self._legs[(symbol, buy, "ask")] = key
        self._legs[(symbol, sell, "bid")] = key
        self._recount()

    def resolve(self, result: ExecutionResult, now: int) -> None:
        """An execution was reported: clear its in-flight entry and start a cooldown if failed."""
        key = (result.symbol, result.buy_venue, result.sell_venue)
        flight = self._flights.get(key)
        if flight is not None and flight.opportunity_id == result.opportunity_id:
            self._drop(key)
        if result.status in self._cooldown_statuses:
            self._cooldowns[key] = now + self._cooldown_ns

    def _recount(self) -> None:
        # Rebuilt from the few open flights rather than added and subtracted, so float
        # residue never accumulates in a long-running process.
        reserved: dict[tuple[str, str], float] = {}
        for flight in self._flights.values():
            reserved[flight.quote_key] = reserved.get(flight.quote_key, 0.0) + flight.quote_amount
            reserved[flight.base_key] = reserved.get(flight.base_key, 0.0) + flight.base_amount
        self._reserved = reserved
