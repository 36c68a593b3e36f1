"""The interfaces every venue implements, one folder per venue (``arb_venues/<venue>/``).

A venue folder has the same files everywhere:
    schemas.py   typed msgspec wire structs with the venue's own field names
    parser.py    FeedParser: raw WS frames / REST bodies -> normalised MdEvents (pure)
    market.py    MarketDataProtocol: URLs, subscribe/heartbeat/resync messages, instruments
    signing.py   sign() and verify() of the venue's private REST scheme (pure)
    trading.py   TradingClient: place / query / cancel orders, balances (live mode)
    sim.py       create_app(market): the simulator's side of the same protocols
    __init__.py  VENUE = VenueSpec(...)
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from arb_structs import (
    AuditSnapshot,
    BalanceSnapshot,
    BookSnapshot,
    Instrument,
    MdEvent,
    OrderIntent,
    OrderReport,
)
from pydantic import SecretStr

from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.symbols import SymbolMap

if TYPE_CHECKING:
    from aiohttp import web

    from arb_venues.common.rest import ErrorMapper, RestClient
    from arb_venues.simapi import SimMarket


class FeedParser(abc.ABC):
    """Turns one venue's raw market-data frames into normalised events. Pure, no I/O.

    Stateful only where the venue makes it so (synthetic per-book sequence numbers for venues
    without one, the per-connection sequence of Coinbase). Raises MalformedFrame for a frame
    it cannot parse; returns [] for frames that carry no book data (acks, pongs, trades).
    """

    venue: ClassVar[str]

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else SymbolMap()
        if self.symbols.fallback is None:  # replay without reference data
            self.symbols.fallback = self.normalise
        # Venue symbols whose feed continuity the parser knows is broken (e.g. a connection
        # sequence gap): the feed runner drains this after every frame and resyncs them.
        # The name "*" means every symbol on the connection.
        self.resync_needed: set[str] = set()

    @abc.abstractmethod
    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Events in one WS frame, in order."""

    @abc.abstractmethod
    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Events in one REST response body (a depth snapshot); [] for other endpoints."""

    def reset(self, venue_symbol: str | None = None) -> None:  # noqa: B027 - optional hook
        """Forget per-connection (None) or per-symbol state, e.g. after a reconnect."""

    def parse_audit(self, url: str, body: str | bytes, ts_recv: int) -> list[BookSnapshot]:
        """An audit's REST depth body, read with every rule of ``parse_rest`` but with no
        effect on this parser's state (sequence chains, synthetic counters): a fresh parser of
        the same class over the same symbols reads it."""
        scratch = type(self)(self.symbols)
        return [e for e in scratch.parse_rest(url, body, ts_recv) if isinstance(e, BookSnapshot)]

    def use_url(self, url: str) -> None:  # noqa: B027 - optional hook
        """The WS URL the frames that follow arrive on (the feed calls it on connect, replay
        whenever a capture's URL changes), for venues whose frames do not say everything
        themselves: Bybit's market category is only in the path (/v5/public/linear)."""

    @staticmethod
    @abc.abstractmethod
    def normalise(venue_symbol: str) -> str | None:
        """BASE-QUOTE for a venue symbol without reference data; None if unknown."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a venue is reached: the real exchange by default, the simulator in tests."""

    ws_url: str
    rest_url: str
    ws_private_url: str = ""


class MarketDataProtocol(abc.ABC):
    """Everything venue-specific about one public market-data connection."""

    venue: ClassVar[str]
    # "rest": the feed fetches a REST depth snapshot per symbol after subscribing and on a
    # resync (Binance, OKX's current procedure). "ws": the WS sends the snapshot after a
    # subscribe; a resync re-subscribes the symbol (Bybit, Kraken, Coinbase).
    snapshot_source: ClassVar[str] = "ws"
    # Symbols per subscribe message, and the pause between messages (stay within limits).
    subscribe_batch: ClassVar[int] = 10
    subscribe_interval_s: ClassVar[float] = 0.2
    # Application-level heartbeat; None when the protocol-level ping is enough.
    heartbeat_interval_s: ClassVar[float | None] = None
    # No frame for this long means the connection is dead: reconnect.
    idle_timeout_s: ClassVar[float] = 30.0
    # REST pacing (per process) for snapshots and instruments: the venue's published limits.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(20, 10)}
    # Wire protocol versions the adapter speaks, the default first; () = just one (no choice).
    protocol_versions: ClassVar[tuple[str, ...]] = ()
    # How an audit's REST snapshot joins the live book (the book service's audit):
    # "sequence": its sequence is the stream's (Binance lastUpdateId, OKX seqId), so the book
    #   is rebuilt from it to the live book's seq and compared exactly;
    # "content": it shares no sequence with the WS (Kraken, Coinbase, Bybit below depth
    #   1000), so it is compared with the book's recent states: no match is a skip, not a pass;
    # "": the adapter does not audit.
    audit_match: ClassVar[str] = ""

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        self.endpoints = endpoints
        self.depth = depth  # 0 = the venue default for the channel

    @classmethod
    def for_version(cls, version: str | None) -> type[MarketDataProtocol]:
        """The adapter class that speaks ``version`` (None or "" = the default one).

        ValueError names the versions there are; a venue with one protocol has none to pick.
        """
        if not version:
            return cls
        if version not in cls.protocol_versions:
            choices = (
                f"choose one of {', '.join(cls.protocol_versions)}"
                if cls.protocol_versions
                else "it speaks one protocol only; leave the version unset"
            )
            raise ValueError(f"{cls.venue}: no protocol version {version!r}; {choices}")
        return cls

    @abc.abstractmethod
    def make_parser(self, symbols: SymbolMap) -> FeedParser: ...

    @abc.abstractmethod
    def ws_url(self, instruments: list[Instrument]) -> str:
        """The URL to connect to (may carry the subscriptions, e.g. Binance combined)."""

    @abc.abstractmethod
    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        """Messages to send after connecting, one per batch; [] when the URL subscribes."""

    def heartbeat_message(self) -> str | None:
        return None

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """For snapshot_source "ws": what makes the venue send a fresh snapshot of one book."""
        return []

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        """For snapshot_source "rest": GET the depth snapshot and parse it."""
        raise NotImplementedError(f"{self.venue} takes its snapshots from the WS")

    @abc.abstractmethod
    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        """Reference data of every spot symbol (tick, lot, min notional, decimals, fees)."""

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        """``(path, query, rate bucket, weight)`` of the REST depth call of an audit that
        compares ``levels`` levels per side (it asks for more, so deletes near the top cannot
        bring up levels the snapshot lacks)."""
        raise NotImplementedError(f"{self.venue}: no REST depth call for audits")

    def audit_mode(self) -> str:
        """``audit_match`` of this adapter as configured (Bybit's depends on its depth)."""
        return self.audit_match

    def audit_depth(self, levels: int) -> int:
        """Levels per side an audit's REST call asks for: four times those compared."""
        return max(20, 4 * levels)

    async def fetch_audit(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
        levels: int,
    ) -> list[AuditSnapshot]:
        """GET the audit snapshot of one book (through ``rest``'s rate budget) and read it
        with the venue's rules; its ``seq`` is -1 unless ``audit_match`` is "sequence"."""
        path, query, bucket, weight = self.audit_request(instrument, levels)
        body = await rest.get(path, query=query, bucket=bucket, weight=weight)
        sequenced = self.audit_mode() == "sequence"
        url = f"{rest.base_url}{path}?{query}"
        audits = []
        for snapshot in parser.parse_audit(url, body, ts_recv()):
            audits.append(
                AuditSnapshot(
                    venue=snapshot.venue,
                    symbol=snapshot.symbol,
                    seq=snapshot.seq if sequenced else -1,
                    bids=snapshot.bids,
                    asks=snapshot.asks,
                    ts_event=snapshot.ts_event,
                    ts_recv=snapshot.ts_recv,
                    depth=self.audit_depth(levels),
                )
            )
        return audits

    def error_mapper(self) -> ErrorMapper | None:
        """Maps the venue's REST error bodies to VenueErrors; None = the generic mapping."""
        return None


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: SecretStr
    passphrase: SecretStr | None = None

    def __repr__(self) -> str:  # never show secrets, even in tracebacks
        return f"Credentials(api_key={self.api_key[:4]}..., secret=**********)"


@dataclass(frozen=True, slots=True)
class SignRequest:
    """One private REST request to sign. query and body are exactly what is sent."""

    method: str
    path: str
    query: str = ""
    body: str = ""
    timestamp_ms: int = 0  # where the venue carries it in query/body, it is read from there


@dataclass(frozen=True, slots=True)
class Signed:
    signature: str  # the value as the venue receives it
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # appended to the query string
    query: str = ""  # the final query string to send (with params appended)


class TradingClient(abc.ABC):
    """Private REST of one venue account (live mode). Prices/sizes arrive as exact text."""

    venue: ClassVar[str]
    # Max length and alphabet of client order ids on this venue.
    client_order_id_max_len: ClassVar[int] = 32
    # How long (s) after it was signed an order request may still be accepted by the venue:
    # an order whose request got no answer and that the venue does not know yet can land
    # until then (the executor watches it that long). Each venue declares its own, from its
    # docs; the default is the most conservative bound among them (a JWT's 120 s).
    request_window_s: ClassVar[float] = 120.0

    def __init__(
        self, rest: RestClient, credentials: Credentials, instruments: Mapping[str, Instrument]
    ) -> None:
        self.rest = rest
        self.credentials = credentials
        self.instruments = instruments  # by normalised symbol

    @abc.abstractmethod
    async def place_order(self, intent: OrderIntent) -> OrderReport:
        """Send one order. Raises RequestTimeout/VenueUnavailable when the outcome is unknown."""

    @abc.abstractmethod
    async def get_order(self, symbol: str, client_order_id: str) -> OrderReport:
        """The order by client order id; raises UnknownOrder when the venue has none."""

    @abc.abstractmethod
    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport: ...

    @abc.abstractmethod
    async def balances(self) -> BalanceSnapshot: ...

    @classmethod
    @abc.abstractmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> str:
        """Deterministic and valid for the venue (length, alphabet, UUID where required)."""


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """Everything the services need to know to use one venue."""

    name: str
    market: type[MarketDataProtocol]
    trading: type[TradingClient] | None
    sign: Callable[[Credentials, SignRequest], Signed] | None
    endpoints: Endpoints  # the real exchange
    create_sim_app: Callable[[SimMarket], web.Application] | None = None
    taker_fee: str = "0.001"
    maker_fee: str = "0.001"
    notes: str = ""
