"""The simulated market of every venue: fair prices, venue books, dislocations. Pure, no I/O.

``Market.step()`` advances the clock by one tick (``1 / tick_hz`` s): every symbol's fair price
takes one random-walk step, every venue's price noise (an Ornstein-Uhlenbeck offset) moves,
dislocations that ran out end, and each venue produces the book updates its rate allows in
this tick (round-robin over its symbols, all in one batch), which go to that venue's
listeners. Nothing here sleeps or reads the wall clock except through the ``clock_ns``
callable, so tests drive it step by step and a seed fixes every price and size.

Venue price = fair price ``lag_steps`` ago x (1 + noise), clamped to within ``noise_bps`` of
the fair price now. Books quote ``half_spread_bps`` around it; with noise_bps < half_spread_bps
no two venues' books cross, so the only tradable crossings are the injected ones.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from arb_structs import Instrument, Side, TruthEvent
from arb_venues.simapi import SimBookUpdate

from arb_simulator.book import BookParams, Dislocation, VenueBook
from arb_simulator.catalog import (
    DEFAULT_SYMBOLS,
    DEFAULT_VENUES,
    make_instrument,
    start_price,
)
from arb_simulator.pricing import FairPrice

log = logging.getLogger(__name__)

Listener = Callable[[SimBookUpdate], None]


@dataclass(frozen=True, slots=True)
class VenueParams:
    rate: float = 50.0  # book updates per second for the whole venue (all its symbols)
    noise_bps: float = 0.8  # max |venue price - fair price|; keep below book.half_spread_bps
    noise_reversion: float = 0.05  # per tick, how fast the noise returns to 0
    lag_steps: int = 2  # ticks the venue's price trails the fair price
    book: BookParams = field(default_factory=BookParams)


@dataclass(frozen=True, slots=True)
class MarketConfig:
    venues: tuple[str, ...] = DEFAULT_VENUES
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    seed: int = 1
    tick_hz: float = 50.0
    volatility: float = 0.6  # annualised
    venue: VenueParams = field(default_factory=VenueParams)
    per_venue: dict[str, VenueParams] = field(default_factory=dict)
    start_prices: dict[str, float] = field(default_factory=dict)
    # Instruments other than the catalog's, by (venue, symbol): their tick and lot shape the
    # book (tests pin a venue's real grid, e.g. Binance BNB-BTC at tick 0.000001).
    instruments: dict[tuple[str, str], Instrument] = field(default_factory=dict)
    # The taker fee each venue's accounts pay, overriding the venue's default (ARB_TAKER_FEES).
    taker_fees: dict[str, str] = field(default_factory=dict)

    def params(self, venue: str) -> VenueParams:
        return self.per_venue.get(venue, self.venue)

    def instrument(self, venue: str, symbol: str) -> Instrument:
        """The instrument ``venue`` lists for ``symbol``: the override, else the catalog's."""
        override = self.instruments.get((venue, symbol))
        if override is not None:
            return override
        return make_instrument(venue, symbol, self.taker_fees)


class _VenueState:
    __slots__ = ("books", "budget", "listeners", "next_book", "noise", "params", "rng")

    def __init__(self, params: VenueParams, rng: random.Random) -> None:
        self.params = params
        self.rng = rng
        self.books: list[VenueBook] = []
        self.noise: list[float] = []  # per book, as a fraction
        self.listeners: list[Listener] = []
        self.budget = 0.0
        self.next_book = 0


class Market:
    """Every simulated venue's books around one fair price per symbol."""

    def __init__(self, config: MarketConfig, clock_ns: Callable[[], int] | None = None) -> None:
        self.config = config
        self.clock_ns = clock_ns or time.time_ns
        self.dt_s = 1.0 / config.tick_hz
        self.fair: dict[str, FairPrice] = {
            symbol: FairPrice(
                config.start_prices.get(symbol, start_price(symbol)),
                config.volatility,
                self.dt_s,
                seed=f"{config.seed}:{symbol}",
            )
            for symbol in config.symbols
        }
        self._venues: dict[str, _VenueState] = {}
        self._books: dict[tuple[str, str], VenueBook] = {}
        self._book_index: dict[tuple[str, str], int] = {}
        self.truth_listeners: list[Callable[[TruthEvent], None]] = []
        self.truth: list[TruthEvent] = []
        self._dislocation_end: dict[tuple[str, str], int] = {}
        self._dislocation_seq = 0
        self.steps = 0
        self.updates_total: dict[str, int] = {}
        for venue in config.venues:
            params = config.params(venue)
            state = _VenueState(params, random.Random(f"venue:{config.seed}:{venue}"))
            for symbol in config.symbols:
                instrument = config.instrument(venue, symbol)
                rng = random.Random(f"book:{config.seed}:{venue}:{symbol}")
                book = VenueBook(
                    instrument.symbol,
                    Decimal(instrument.tick_size),
                    Decimal(instrument.lot_size),
                    self.fair[symbol].price,
                    params.book,
                    rng,
                )
                self._book_index[(venue, symbol)] = len(state.books)
                state.books.append(book)
                state.noise.append(0.0)
                self._books[(venue, symbol)] = book
            self._venues[venue] = state
            self.updates_total[venue] = 0
        # How far from the fair price any venue's touch can be (noise + half spread + one
        # level of grid rounding): a level beyond it by `bps` crosses every other book by
        # at least `bps`.
        self._band = max(
            (p.noise_bps + p.book.half_spread_bps + p.book.level_spacing_bps) / 1e4
            for p in map(config.params, config.venues)
        )

    # -- access ---------------------------------------------------------------------------

    @property
    def venues(self) -> tuple[str, ...]:
        return self.config.venues

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.config.symbols

    def book(self, venue: str, symbol: str) -> VenueBook:
        """KeyError for a venue or symbol the market does not simulate."""
        return self._books[(venue, symbol)]

    def subscribe(self, venue: str, listener: Listener) -> Callable[[], None]:
        listeners = self._venues[venue].listeners
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def publish(self, venue: str, update: SimBookUpdate) -> None:
        """Deliver one update (e.g. after a fill) to the venue's listeners."""
        self.updates_total[venue] += 1
        for listener in list(self._venues[venue].listeners):
            try:
                listener(update)
            except Exception:
                log.exception("book listener of %s failed on %s", venue, update.symbol)

    def venue_price(self, venue: str, symbol: str) -> float:
        """The price the venue quotes around now (fair, lagged, with noise, clamped)."""
        state = self._venues[venue]
        index = self._book_index[(venue, symbol)]
        return self._venue_price(state, symbol, state.noise[index])

    def _venue_price(self, state: _VenueState, symbol: str, noise: float) -> float:
        fair = self.fair[symbol]
        now = fair.price
        bound = state.params.noise_bps / 1e4
        price = fair.lagged(state.params.lag_steps) * (1.0 + noise)
        return min(max(price, now * (1.0 - bound)), now * (1.0 + bound))

    # -- the clock ------------------------------------------------------------------------

    def step(self) -> int:
        """One tick: prices move, books update, listeners hear. Returns updates produced."""
        self.steps += 1
        for fair in self.fair.values():
            fair.step()
        ts_ns = self.clock_ns()
        if self._dislocation_end:
            self._end_due_dislocations(ts_ns)
        produced = 0
        symbols = self.config.symbols
        for venue, state in self._venues.items():
            params = state.params
            rng = state.rng
            bound = params.noise_bps / 1e4
            shock = bound * 0.3
            reversion = 1.0 - params.noise_reversion
            noise = state.noise
            for i in range(len(noise)):
                value = noise[i] * reversion + rng.gauss(0.0, shock)
                noise[i] = min(max(value, -bound), bound)
            state.budget += params.rate * self.dt_s
            count = int(state.budget)
            if count <= 0:
                continue
            state.budget -= count
            books = state.books
            prices: list[float | None] = [None] * len(books)
            updates: list[SimBookUpdate] = []
            index = state.next_book
            for _ in range(count):
                book = books[index]
                price = prices[index]
                if price is None:  # first update of this book in this tick: re-centre
                    price = prices[index] = self._venue_price(state, symbols[index], noise[index])
                    if book.dislocation is not None:
                        self._track_dislocation(book, symbols[index])
                updates.append(book.update(price, ts_ns))
                index = (index + 1) % len(books)
            state.next_book = index
            produced += len(updates)
            self.updates_total[venue] += len(updates)
            listeners = state.listeners
            if listeners:
                for listener in list(listeners):
                    try:
                        for update in updates:
                            listener(update)
                    except Exception:
                        log.exception("book listener of %s failed", venue)
        return produced

    # -- dislocations ---------------------------------------------------------------------

    def dislocation_price(self, symbol: str, direction: str, bps: float) -> float:
        """Where a crossing level of ``bps`` sits now (direction "down": an ask below every
        other venue's bid; "up": a bid above every other venue's ask)."""
        fair = self.fair[symbol].price
        if direction == "down":
            return fair * (1.0 - self._band) * (1.0 - bps / 1e4)
        return fair * (1.0 + self._band) * (1.0 + bps / 1e4)

    def _track_dislocation(self, book: VenueBook, symbol: str) -> None:
        dislocation = book.dislocation
        if dislocation is not None:
            direction = "down" if dislocation.side is Side.SELL else "up"
            dislocation.price = self.dislocation_price(symbol, direction, dislocation.bps)

    def active_dislocations(self) -> list[tuple[str, str]]:
        return list(self._dislocation_end)

    def inject(
        self,
        venue: str,
        symbol: str,
        direction: str,
        bps: float,
        size: float,
        duration_s: float,
    ) -> TruthEvent:
        """Dislocate one venue's book now; the TruthEvent says what and for how long.

        ``size`` (base units, rounded down to the lot) is what the crossing level offers.
        ValueError names a bad argument or a book that is already dislocated.
        """
        if (venue, symbol) not in self._books:
            raise ValueError(
                f"dislocation on {venue}/{symbol}: not simulated; venues {list(self.venues)}, "
                f"symbols {list(self.symbols)}"
            )
        if direction not in ("up", "down"):
            raise ValueError(f"dislocation direction {direction!r}: use 'up' or 'down'")
        if bps <= 0 or duration_s <= 0:
            raise ValueError(f"dislocation bps={bps} duration_s={duration_s}: both must be > 0")
        book = self._books[(venue, symbol)]
        if book.dislocation is not None:
            raise ValueError(f"{venue}/{symbol} is already dislocated; wait for it to end")
        lots = int(Decimal(repr(size)) / book.lot)
        if lots < 1:
            raise ValueError(f"dislocation size {size}: below one lot ({book.lot}) of {symbol}")
        self._dislocation_seq += 1
        event_id = f"sim-{self.config.seed}-{self._dislocation_seq:06d}"
        book.dislocation = Dislocation(
            id=event_id,
            side=Side.SELL if direction == "down" else Side.BUY,
            price=self.dislocation_price(symbol, direction, bps),
            remaining=lots,
            bps=bps,
        )
        ts_ns = self.clock_ns()
        self.publish(venue, book.update(self.venue_price(venue, symbol), ts_ns, jitter=False))
        end_ns = ts_ns + int(duration_s * 1e9)
        self._dislocation_end[(venue, symbol)] = end_ns
        event = TruthEvent(
            id=event_id,
            venue=venue,
            symbol=symbol,
            direction=direction,
            bps=float(bps),
            size=float(book.size_of(lots)),
            start_ns=ts_ns,
            end_ns=end_ns,
        )
        self.truth.append(event)
        if len(self.truth) > 10_000:
            del self.truth[:1_000]
        for listener in list(self.truth_listeners):
            try:
                listener(event)
            except Exception:
                log.exception("truth listener failed on %s", event.id)
        return event

    def _end_due_dislocations(self, ts_ns: int) -> None:
        for key, end_ns in list(self._dislocation_end.items()):
            if end_ns <= ts_ns:
                del self._dislocation_end[key]
                venue, symbol = key
                book = self._books[key]
                self.publish(venue, book.end_dislocation(self.venue_price(venue, symbol), ts_ns))
