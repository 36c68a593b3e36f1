"""The interfaces every venue implements: FeedParser (frames -> MdEvents), MarketDataProtocol
(the public side: books, public trades, server time), TradingClient (the private side:
orders, balances, account) and the request/credential records they share.

Each venue's facts (``VenueSpec``) and the layout of its folder: arb_venues.spec.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from arb_structs import (
    AuditSnapshot,
    BalanceSnapshot,
    BookSnapshot,
    ClientOrderId,
    Instrument,
    MdEvent,
    OrderIntent,
    OrderReport,
    VenueSymbol,
)
from pydantic import SecretStr

from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import DEFAULT_TRADES_LIMIT, PublicTrade
from arb_venues.errors import MalformedFrame, UnknownSymbol

if TYPE_CHECKING:
    from arb_venues.common.rest import ErrorMapper, HealthCheck, RestClient


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
        # Messages to send back on the connection the last frame came on (an answer to the
        # server's ping where the venue wants one: HTX's {"pong": ts}); the feed runner drains
        # this after every frame too.
        self.replies: list[str] = []
        # The venue said this connection will close soon and asks for a new one (Binance's
        # serverShutdown, OKX's notice 64008, Bitfinex's info 20051): the feed drains it after
        # every frame and replaces the connection make-before-break.
        self.reconnect_notice = False

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
    # Seconds to wait after the connection opens before sending anything: Crypto.com pro-rates
    # its WS rate limit on the calendar second the connection opened and asks for a 1 s pause.
    connect_delay_s: ClassVar[float] = 0.0
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
    # The venue's documented ping or server-time endpoint (a public GET), which
    # ``health_check`` probes; "" = the venue documents none.
    ping_path: ClassVar[str] = ""
    # The venue's documented server-time endpoint (a public GET) that ``server_time`` reads
    # with ``read_server_time``; the signers' clock offset is measured with it
    # (arb_venues.common.clock). "" = the venue documents none.
    server_time_path: ClassVar[str] = ""
    # Recent public trades (``trades_request``); "" = the venue documents none.
    trades_path: ClassVar[str] = ""
    # How a rotation's new connection joins the live books (arb_venues.common.rotation):
    # "sequence": the normalised seq is the venue's, the same on every connection;
    # "snapshot": it is the connection's own (a synthetic counter), so the new connection's
    #   first snapshot of a book replaces it.
    rotation_join_mode: ClassVar[str] = "sequence"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        self.endpoints = endpoints
        self.depth = depth  # 0 = the venue default for the channel

    @classmethod
    def dialects(cls, raw_frames: Sequence[str | bytes]) -> str | None:
        """Which of the venue's message dialects ``raw_frames`` are in, where one parser reads
        several (reported by ``arb replay`` as its ``protocol``); None: the venue has one."""
        return None

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

    def heartbeat_interval(self) -> float | None:
        """The heartbeat period of the current connection: ``heartbeat_interval_s``, unless
        the venue sets it per connection (KuCoin's ``pingInterval`` in its token answer)."""
        return self.heartbeat_interval_s

    async def connect_url(self, rest: RestClient, instruments: list[Instrument]) -> str:
        """The URL of a new connection, asked for before every connect. Most venues:
        ``ws_url(instruments)``. A venue that hands out the WS endpoint and a token per
        connection (KuCoin's ``POST /api/v1/bullet-public``) fetches them here, through
        ``rest`` and its budget; a VenueError is a failed connect (the feed backs off)."""
        return self.ws_url(instruments)

    def connect_messages(self, instruments: list[Instrument]) -> list[str]:
        """Sent first on every new connection, before the subscribes: a connection-wide
        setting (Bitfinex's ``conf`` flags for sequence numbers and checksums); [] for most."""
        return []

    def decode_frame(self, data: str | bytes) -> str | bytes:
        """A received WS frame as the parser and the wire tap take it: inflated where the venue
        compresses every frame (HTX's gzip), so recordings hold the text; most venues send
        text and this returns the frame itself. Raises MalformedFrame for a frame it cannot
        decode."""
        return data

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
        """Reference data of every spot symbol (tick, lot, min notional, decimals). The fees on
        the records are not the account's: ingest sets those (arb_venues.fees)."""

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        """``(path, query, rate bucket, weight)`` of the REST depth call of an audit that
        compares ``levels`` levels per side (it asks for more, so deletes near the top cannot
        bring up levels the snapshot lacks)."""
        raise NotImplementedError(f"{self.venue}: no REST depth call for audits")

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """``(path, query, rate bucket, weight)`` of the venue's recent public trades call."""
        raise NotImplementedError(f"{self.venue}: no public trades call")

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """The trades of a ``trades_request`` answer, newest first (pure: KeyError,
        IndexError, TypeError or ValueError for a body without the documented fields)."""
        raise NotImplementedError(f"{self.venue}: no public trades call")

    async def public_trades(self, rest: RestClient, instrument: Instrument,
                            limit: int = DEFAULT_TRADES_LIMIT) -> list[PublicTrade]:  # fmt: skip
        """The venue's most recent public trades of ``instrument``, newest first."""
        from arb_venues.common.rest import MARKET_DATA

        path, query, bucket, weight = self.trades_request(instrument, limit)
        body = await rest.get(path, query=query, bucket=bucket, weight=weight, config=MARKET_DATA)
        try:
            return self.read_public_trades(body, instrument)
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
            raise MalformedFrame(self.venue, "trades", f"{path}: {exc!r} in {body[:200]!r}"
                                 ) from None  # fmt: skip

    def rotation_join(self) -> str:
        """``rotation_join_mode`` of this adapter as configured (OKX's depends on its channel)."""
        return self.rotation_join_mode

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

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """The time in a ``server_time_path`` answer, integer ns (pure: raise KeyError,
        IndexError, TypeError or ValueError for a body without it)."""
        raise NotImplementedError("the venue documents no server-time endpoint")

    async def server_time(self, rest: RestClient) -> int:
        """The venue's clock now, in integer ns, from its documented time endpoint (sent
        once, no retry: the clock keeps the sample with the shortest round trip)."""
        from arb_venues.common.rest import ONCE

        if not self.server_time_path:
            raise NotImplementedError(f"{self.venue}: the venue documents no server-time endpoint")
        body = await rest.get(self.server_time_path, config=ONCE)
        try:
            return self.read_server_time(body)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MalformedFrame(
                self.venue, "server_time", f"{self.server_time_path}: {exc!r} in {body[:200]!r}"
            ) from None

    async def health_check(self, rest: RestClient) -> HealthCheck:
        """Status and latency of the venue's ping/time endpoint (``ping_path``)."""
        if not self.ping_path:
            raise NotImplementedError(f"{self.venue}: the venue documents no ping endpoint")
        return await rest.health_check(self.ping_path)

    def track_clock(self, rest: RestClient) -> None:
        """Have ``rest``'s clock measure its offset against this venue's server time (a
        venue without a time endpoint keeps local time)."""
        if self.server_time_path:
            rest.clock.track(lambda: self.server_time(rest))


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
    # The least time between two reconciliation reads of this account's balances and order
    # history, so they never eat into the request budget orders need (from the venue's rate
    # limits; 0 = ARB_EXECUTOR_RECONCILE_INTERVAL_S alone decides).
    reconcile_min_interval_s: ClassVar[float] = 0.0
    # The venue refuses a request whose nonce is not above the key's last one (Kraken,
    # Bitfinex): two requests in flight at once can overtake each other on the way, and the
    # lower nonce is refused. Such a client sends its signed requests one at a time
    # (``in_nonce_order``), the nonce made inside the turn.
    nonce_ordered: ClassVar[bool] = False

    def __init__(
        self, rest: RestClient, credentials: Credentials, instruments: Mapping[str, Instrument]
    ) -> None:
        self.rest = rest
        self.credentials = credentials
        self.instruments = instruments  # by normalised symbol
        self._nonce_turn = asyncio.Lock()

    def in_nonce_order(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Around a signed request (signing and answer): one at a time when the venue's
        nonces must arrive in order, else no wait."""
        return self._nonce_turn if self.nonce_ordered else contextlib.nullcontext()

    def _venue_symbol(self, symbol: str) -> VenueSymbol:
        """The venue's spelling of ``symbol``; UnknownSymbol if no instrument is loaded."""
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(
                self.venue, f"{symbol}: no instrument loaded; refresh reference data"
            )
        return instrument.venue_symbol

    @abc.abstractmethod
    async def place_order(self, intent: OrderIntent) -> OrderReport:
        """Send one order. Raises RequestTimeout/VenueUnavailable when the outcome is unknown."""

    @abc.abstractmethod
    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        """The order by client order id; raises UnknownOrder when the venue has none."""

    @abc.abstractmethod
    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport: ...

    @abc.abstractmethod
    async def balances(self) -> BalanceSnapshot: ...

    @abc.abstractmethod
    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """Every order of this account on ``symbols`` created at or after ``since_ns``, open
        or closed, each with its fill totals (``filled_size``, ``quote_filled`` where the venue
        says it) and its fees as the venue charged them, and ``ts_created``. Any order; the
        reconciliation keeps those whose client id is the engine's. Each venue uses its own
        order-history endpoint (documented in its trading.py) and pages through it."""

    @classmethod
    @abc.abstractmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """Deterministic and valid for the venue (length, alphabet, UUID where required),
        in one of the engine's shapes (arb_venues.common.clientids), so the orders found at
        the venue are recognisably ours and fall into their saga's group."""
