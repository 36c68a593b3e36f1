"""The detector's state and decisions, with no I/O: views in, opportunities out.

The app feeds it one read batch at a time: every view is stored (the latest per venue and
symbol wins, so a batch conflates), and ``detect`` then prices only the ordered venue pairs
that involve a book that changed, each at most once per batch. Counters (views, gated
reasons, emitted pairs) accumulate here and the app drains them into Prometheus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from arb_structs.market import BookState, BookView, Instrument
from arb_structs.trading import BalanceSnapshot, ExecutionResult, Opportunity

from arb_detector.emission import build_opportunity
from arb_detector.gates import Gate, InFlight, InFlightGate, PairKey
from arb_detector.instruments import LegSpec, PairSpec, leg_spec, pair_spec
from arb_detector.sharding import Shard
from arb_detector.sizing import Rejection, SizingLimits, find_best_trade


@dataclass(frozen=True, slots=True)
class DetectorParams:
    """The detector's decision settings, in the units the engine uses."""

    min_edge_bps: float = 5.0
    min_net_profit: float = 0.0  # quote
    max_notional: float = math.inf  # quote, per opportunity, buy side before fees
    max_book_age_ns: int = 2_000_000_000
    max_book_age_ns_by_venue: Mapping[str, int] = field(default_factory=dict)
    expiry_ns: int = 500_000_000


# Per book, for one detect call: (gate or None, top ask * (1 + fee + min edge), top bid * (1 - fee))
_Top = tuple[Gate | None, float, float]


class Detector:
    """Latest books, instruments and balances; prices venue pairs when a book changes."""

    def __init__(self, params: DetectorParams, gate: InFlightGate, shard: Shard | None = None):
        self.params = params
        self.gate = gate
        self.shard = shard or Shard()
        self._min_edge = params.min_edge_bps / 1e4
        self._books: dict[str, dict[str, BookView]] = {}  # symbol -> venue -> view
        self._legs: dict[tuple[str, str], LegSpec] = {}  # (venue, symbol)
        self._pairs: dict[PairKey, PairSpec] = {}
        self._free: dict[str, dict[str, float]] = {}  # venue -> asset -> free
        self._dirty: dict[tuple[str, str], None] = {}  # (venue, symbol), insertion-ordered
        self._max_ages: dict[str, int] = {}  # venue -> staleness bound, filled on first use
        self.views_total: Counter[str] = Counter()  # venue -> views applied
        self.gated_total: Counter[str] = Counter()  # reason -> pair evaluations gated out
        self.emitted_total: Counter[tuple[str, str]] = Counter()  # (buy, sell) -> emitted

    # -- inputs ---------------------------------------------------------------------------

    def set_instrument(self, instrument: Instrument) -> None:
        """Store (or replace) one venue's rules for one symbol; raises InstrumentError."""
        if not self.shard.owns(instrument.symbol):
            return
        leg = leg_spec(instrument)  # its taker fee is the account's (arb_venues.fees)
        self._legs[(instrument.venue, instrument.symbol)] = leg
        symbol = instrument.symbol
        for key in [k for k in self._pairs if k[0] == symbol]:
            del self._pairs[key]

    def set_balances(self, venue: str, free: Mapping[str, float]) -> None:
        """Replace what is free on ``venue`` (asset -> amount)."""
        self._free[venue] = dict(free)

    def set_balance_snapshot(self, snapshot: BalanceSnapshot) -> None:
        self.set_balances(
            snapshot.venue, {asset: float(b.free) for asset, b in snapshot.balances.items()}
        )

    def apply_view(self, view: BookView) -> bool:
        """Store a view; True if this instance owns its symbol (it is then priced next)."""
        if not self.shard.owns(view.symbol):
            return False
        venues = self._books.get(view.symbol)
        if venues is None:
            venues = self._books[view.symbol] = {}
        venues[view.venue] = view
        self._dirty[(view.venue, view.symbol)] = None
        self.views_total[view.venue] += 1
        return True

    def resolve(self, result: ExecutionResult, now: int) -> None:
        """An execution was reported: clear in-flight, maybe start a cooldown."""
        self.gate.resolve(result, now)

    def book(self, venue: str, symbol: str) -> BookView | None:
        return self._books.get(symbol, {}).get(venue)

    def available(self, venue: str, asset: str) -> float:
        """Free minus what in-flight opportunities would spend."""
        free = self._free.get(venue, {}).get(asset, 0.0)
        return free - self.gate.reserved(venue, asset)

    @property
    def symbols(self) -> list[str]:
        """The symbols this instance owns and holds a book of, sorted."""
        return sorted(self._books)

    @property
    def book_count(self) -> int:
        return sum(len(v) for v in self._books.values())

    @property
    def instrument_count(self) -> int:
        return len(self._legs)

    @property
    def balance_venues(self) -> str:
        """Venues with balances known, comma-separated (for health)."""
        return ",".join(sorted(self._free)) or "none"

    # -- decisions ------------------------------------------------------------------------

    def detect(self, now: int) -> list[Opportunity]:
        """Price every ordered pair touching a book changed since the last call."""
        out: list[Opportunity] = []
        self.gate.sweep(now)
        if not self._dirty:
            return out
        gated = self.gated_total
        done: set[PairKey] = set()
        several = len(self._dirty) > 1  # a pair can only come up twice if several books changed
        tops_by_symbol: dict[str, dict[str, _Top]] = {}
        for venue, symbol in self._dirty:
            venues = self._books[symbol]
            if len(venues) < 2:
                continue
            tops = tops_by_symbol.get(symbol)
            if tops is None:  # per book once per call, not once per pair
                tops = tops_by_symbol[symbol] = self._tops(symbol, venues, now)
            for other in venues:
                if other == venue:
                    continue
                for key in ((symbol, venue, other), (symbol, other, venue)):
                    if several:
                        if key in done:
                            continue
                        done.add(key)
                    buy_top = tops[key[1]]
                    sell_top = tops[key[2]]
                    gate = buy_top[0] or sell_top[0]
                    if gate is not None:
                        gated[gate] += 1
                    elif sell_top[2] <= buy_top[1]:
                        # the first unit does not clear both fees and the threshold, so no
                        # size does: most evaluations end here
                        gated[Rejection.NO_EDGE] += 1
                    else:
                        opportunity = self._evaluate(key, venues[key[1]], venues[key[2]], now)
                        if opportunity is not None:
                            out.append(opportunity)
        self._dirty.clear()
        return out

    def _tops(self, symbol: str, venues: dict[str, BookView], now: int) -> dict[str, _Top]:
        """Per venue: why its book is not tradable (or None), the top ask grossed up by its fee
        and the edge threshold, the top bid net of its fee."""
        tops: dict[str, _Top] = {}
        legs = self._legs
        hurdle = 1.0 + self._min_edge
        ages = self._max_ages
        live = BookState.LIVE
        for venue, view in venues.items():
            max_age = ages.get(venue)
            if max_age is None:
                max_age = ages[venue] = self._max_age(venue)
            if view.state is not live:
                gate: Gate | None = Gate.NOT_LIVE
            elif view.audit == "mismatch":
                gate = Gate.AUDIT_FAILED
            elif now - (view.ts_update or view.ts_recv) > max_age:
                gate = Gate.STALE
            elif not _sane_top(view):
                gate = Gate.BAD_LEVEL
            else:
                gate = None
            leg = legs.get((venue, symbol))
            if leg is None:
                tops[venue] = (gate or Gate.NO_INSTRUMENT, math.inf, -math.inf)
                continue
            ask = view.asks[0][0] * (hurdle + leg.fee) if view.asks else math.inf
            bid = view.bids[0][0] * (1.0 - leg.fee) if view.bids else -math.inf
            tops[venue] = (gate, ask, bid)
        return tops

    def _gated(self, reason: str) -> None:
        self.gated_total[reason] += 1

    def _max_age(self, venue: str) -> int:
        return self.params.max_book_age_ns_by_venue.get(venue, self.params.max_book_age_ns)

    def _pair(self, key: PairKey) -> PairSpec | None:
        spec = self._pairs.get(key)
        if spec is None:
            symbol, buy, sell = key
            buy_leg = self._legs.get((buy, symbol))
            sell_leg = self._legs.get((sell, symbol))
            if buy_leg is None or sell_leg is None:
                return None
            spec = self._pairs[key] = pair_spec(buy_leg, sell_leg)
        return spec

    def _evaluate(
        self, key: PairKey, buy_view: BookView, sell_view: BookView, now: int
    ) -> Opportunity | None:
        """One tradable ordered pair: edge, in-flight, balances, sizing, emission."""
        _, buy, sell = key
        asks = buy_view.asks
        bids = sell_view.bids
        if not asks or not bids:
            self._gated(Rejection.NO_EDGE)
            return None
        if not (_verified_side(asks, ascending=True) and _verified_side(bids, ascending=False)):
            self._gated(Gate.BAD_LEVEL)  # never sized against a level that is not a level
            return None
        spec = self._pairs.get(key) or self._pair(key)
        if spec is None:
            self._gated(Gate.NO_INSTRUMENT)
            return None
        buy_leg = spec.buy
        sell_leg = spec.sell
        if buy_leg.quote != sell_leg.quote:
            self._gated(Gate.QUOTE_MISMATCH)
            return None
        # The first unit's edge bounds every size's edge: most evaluations stop here.
        first = bids[0][0] * (1.0 - sell_leg.fee) / asks[0][0] - (1.0 + buy_leg.fee)
        if first <= 0.0 or first < self._min_edge:
            self._gated(Rejection.NO_EDGE)
            return None
        blocked = self.gate.check(key, asks[0][0], bids[0][0], now)
        if blocked is not None:
            self._gated(blocked)
            return None
        quote_available = self.available(buy, buy_leg.quote)
        base_available = self.available(sell, sell_leg.base)
        if quote_available <= 0.0 or base_available <= 0.0:
            self._gated(Gate.NO_BALANCE)
            return None
        trade = find_best_trade(
            asks,
            bids,
            SizingLimits(
                buy_fee=buy_leg.fee,
                sell_fee=sell_leg.fee,
                step=spec.step_float,
                min_size=spec.min_size,
                min_notional_buy=buy_leg.min_notional,
                min_notional_sell=sell_leg.min_notional,
                quote_available=quote_available,
                base_available=base_available,
                max_notional=self.params.max_notional,
                min_edge=self._min_edge,
            ),
        )
        if isinstance(trade, Rejection):
            self._gated(trade)
            return None
        if trade.net_profit < self.params.min_net_profit:
            self._gated(Gate.BELOW_MIN_PROFIT)
            return None
        opportunity = build_opportunity(
            spec, trade, buy_view, sell_view, now, self.params.expiry_ns
        )
        self.gate.record(
            key,
            InFlight(
                opportunity_id=opportunity.id,
                ask=asks[0][0],
                bid=bids[0][0],
                until=now + self.gate.timeout_ns,
                quote_key=(buy, buy_leg.quote),
                quote_amount=trade.buy_notional * (1.0 + buy_leg.fee),
                base_key=(sell, sell_leg.base),
                base_amount=trade.size,
            ),
        )
        self.emitted_total[(buy, sell)] += 1
        return opportunity


def _sane_top(view: BookView) -> bool:
    """The view's best levels are finite and positive and do not cross (NaN fails too)."""
    bids, asks = view.bids, view.asks
    if bids:
        price, size = bids[0]
        if not (0.0 < price < math.inf and 0.0 < size < math.inf):
            return False
    if asks:
        price, size = asks[0]
        if not (0.0 < price < math.inf and 0.0 < size < math.inf):
            return False
    return not (bids and asks and not bids[0][0] < asks[0][0])


def _verified_side(levels: list[tuple[float, float]], *, ascending: bool) -> bool:
    """Every level finite and positive, strictly best-first: what the sizing walk assumes."""
    previous = 0.0 if ascending else math.inf
    for price, size in levels:
        if not (0.0 < price < math.inf and 0.0 < size < math.inf):
            return False
        if not (price > previous if ascending else price < previous):
            return False
        previous = price
    return True
