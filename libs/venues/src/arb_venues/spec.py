"""The one record of each venue's facts (``VenueSpec``) and the layout of a venue's folder.


Every venue lives in one folder, ``arb_venues/<venue>/``, with the same files everywhere
(``VENUE_FILES``; a test enforces it on every folder):

    __init__.py   VENUE = VenueSpec(...): every fact about the venue the rest of the system
                  needs (fees, symbol format, checksum, credential format, grids of the
                  simulated instruments, recordings, docs); the registry line in
                  ``arb_venues.VENUE_NAMES`` names the folder
    schemas.py    typed msgspec wire structs with the venue's own field names
    parser.py     FeedParser: raw WS frames / REST bodies -> normalised MdEvents (pure)
    market.py     MarketDataProtocol: URLs, subscribe/heartbeat/resync messages, instruments,
                  REST pacing
    signing.py    sign() and verify() of the venue's private REST scheme (pure)
    trading.py    TradingClient: place / query / cancel orders, balances (live mode)
    errors.py     the venue's error table: its REST error bodies and codes -> VenueErrors
    sim/          the simulator's side of the same protocols, imported only by the simulator
                  (``VenueSpec.sim_app`` loads it lazily): ``sim/app.py`` holds
                  ``create_app(market)``; other modules as the venue needs them, by role:
                  ``bodies.py`` (how the venue writes numbers and bodies), ``rest.py`` /
                  ``private.py`` (REST handlers), ``stream.py`` / ``frames.py`` (WS server,
                  frame encoders)

and, where the venue has one (``OPTIONAL_VENUE_FILES``):

    checksum.py   the book checksum: ``CHECKSUM = ChecksumSpec(...)``, the one copy that the
                  book engine (through ``arb_venues.checksums()``) and the simulator use
    symbols.py    symbol spellings beyond ``VenueSpec.symbols`` (Kraken's XBT, X/Z prefixes)
    numbers.py    how the venue writes decimals, shared by market, trading and sim
    parser_<version>.py   a parser for another wire protocol version (Kraken ``parser_v1``)

Nothing outside the folder imports it by name: services and the CLI reach a venue through
``arb_venues.get_venue(name)`` and the registry. Adding a venue = one folder, its tests and
fixtures, and one line in ``VENUE_NAMES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from arb_orderbook.checksums import ChecksumSpec

from arb_venues.base import (
    Credentials,
    Endpoints,
    MarketDataProtocol,
    Signed,
    SignRequest,
    TradingClient,
)
from arb_venues.common.ratelimit import BucketLimit

if TYPE_CHECKING:
    from aiohttp import web

    from arb_venues.simapi import SimMarket


# The lifetime assumed for a venue that documents none: connections are replaced this often
# anyway (make before break costs nothing), so an undocumented cut-off (a load balancer's,
# a server restart) is met by a rotation that has already happened more often than not.
DEFAULT_WS_LIFETIME_S = 12 * 3600.0

# The canonical layout of a venue folder (see the module docstring); tests enforce it.
VENUE_FILES = (
    "__init__.py",
    "schemas.py",
    "parser.py",
    "market.py",
    "trading.py",
    "signing.py",
    "errors.py",
    "sim/__init__.py",
    "sim/app.py",
)
OPTIONAL_VENUE_FILES = ("checksum.py", "symbols.py", "numbers.py", "parser_*.py")


@dataclass(frozen=True, slots=True)
class SymbolFormat:
    """How the venue spells a pair: BTCUSDT (separator ""), BTC-USDT ("-"), BTC/USDT ("/"),
    with a prefix (tBTCUSD) or in lower case (btcusdt) where the venue does so."""

    separator: str = ""
    prefix: str = ""
    lowercase: bool = False

    def spell(self, base: str, quote: str) -> str:
        text = f"{self.prefix}{base}{self.separator}{quote}"
        return text.lower() if self.lowercase else text


@dataclass(frozen=True, slots=True)
class Grid:
    """Tick, lot and minimums of one simulated instrument (decimal text), after the venue's
    published reference data for that pair, rounded to values that stay valid over time."""

    tick: str
    lot: str
    min_size: str
    min_notional: str


@dataclass(frozen=True, slots=True)
class CredentialFormat:
    """What an API key of the venue consists of.

    ``secret``: "text" (an HMAC key used as its bytes), "base64" (the HMAC key is the decoded
    bytes: Kraken), "ec_p256_pem" (an EC P-256 private key in PEM, signing ES256 JWTs:
    Coinbase CDP keys). ``passphrase``: the account has one besides key and secret (OKX).
    ``key_name``: how the API key is written, ``{key}`` the key's own id (Coinbase CDP:
    ``organizations/{org}/apiKeys/{key}``).
    """

    secret: str = "text"
    passphrase: bool = False
    key_name: str = "{key}"

    def describe(self) -> str:
        """One phrase for help texts and docs."""
        secret = {
            "text": "an HMAC secret",
            "base64": "a base64 HMAC secret",
            "ec_p256_pem": "an EC P-256 private key (PEM)",
        }.get(self.secret, self.secret)
        key = "key" if self.key_name == "{key}" else f"key name `{self.key_name}`"
        return f"{key}, {secret}" + (", a passphrase" if self.passphrase else "")


@dataclass(frozen=True, slots=True)
class Recording:
    """A recorded session of the venue in the shared fixtures (paths relative to the fixtures
    folder; captures merged by recorder time), which replay tests and benchmarks read (the
    benchmark measures the peers on the same files in the same run: no stored figures)."""

    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VenueDocs:
    """How docs/venues.md and the README describe the venue (generated: ``arb venues``).

    ``market_data``, ``sync`` and ``signing`` are the README's one-line summary; the rest are
    the rows of the venue's table in docs/venues.md."""

    title: str  # "Binance spot"
    market_data: str
    sync: str
    signing: str
    ws: str
    channel: str
    snapshot: str
    instruments: str
    sequence: str
    verified: str
    keepalive: str
    subscribe: str
    rest_budget: str
    # What the simulator's side serves (docs/simulator.md): public WS, public REST, private REST.
    sim_ws: str = ""
    sim_rest: str = ""
    sim_private: str = ""
    duplicate_snapshot: str = "—"
    # How the LIVE book is audited against a REST snapshot (docs/venues.md "Book audits"):
    # "by sequence" (the snapshot's sequence is the stream's) or "by content" (it has none).
    audit: str = ""
    levels: str = "every level"  # what the parser checks of each level
    # The server-time answer's field and unit (``read_server_time``), and the code a signed
    # request with a timestamp out of the venue's window is refused with (docs/venues.md
    # "Server time and clock offsets").
    server_time_field: str = ""
    timestamp_refused: str = "—"


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """Every fact about one venue that the rest of the system needs, in one record.

    The services, the simulator and the CLI read a venue only through this record
    (``arb_venues.get_venue(name)``); a fact kept anywhere else is a second copy.
    """

    name: str
    market: type[MarketDataProtocol]
    trading: type[TradingClient] | None
    sign: Callable[[Credentials, SignRequest], Signed] | None
    endpoints: Endpoints  # the real exchange
    docs: VenueDocs
    # The taker and maker fee an account pays by default (the venue's entry tier, with the
    # page it comes from); the operator's ARB_TAKER_FEES overrides the taker fee per venue
    # and ingest publishes the result on each Instrument (arb_venues.fees).
    taker_fee: str
    maker_fee: str
    fee_source: str = ""
    # Which asset a fill's fee is taken from: "received" (the asset the order receives:
    # Binance, OKX, Bybit spot) or "quote" (always the quote asset).
    fee_asset: str = "received"
    symbols: SymbolFormat = field(default_factory=SymbolFormat)
    credentials: CredentialFormat = field(default_factory=CredentialFormat)
    checksum: ChecksumSpec | None = None  # the venue's book checksum (checksum.py), if any
    # Tick/lot/minimums of the simulator's instruments by base asset (others: a generic grid).
    grids: Mapping[str, Grid] = field(default_factory=dict)
    # The venue closes a WS connection after this long, documented (cite the page beside
    # the value); None = not documented: DEFAULT_WS_LIFETIME_S applies.
    ws_lifetime_s: float | None = None
    # The message the venue sends before it closes a connection for maintenance or an
    # upgrade, asking for a new one, as the docs name it ("" = none documented), and its page.
    reconnect_notice: str = ""
    reconnect_notice_source: str = ""
    # A hot standby WS connection (A/B feeds) next to the live one, taking over without a
    # resync when the live one is cut without warning (a gateway restart). None = where the
    # venue sends no reconnect notice (where it does, a rotation on the notice does the same).
    standby: bool | None = None
    # The WS sends every book change as its own frame (no coalescing interval), so the load a
    # benchmark offers is the frame rate.
    frame_per_change: bool = False
    recording: Recording | None = None
    notes: str = ""

    @property
    def connection_lifetime_s(self) -> float:
        """How long one market-data connection may live: the documented lifetime, or the
        conservative default for a venue that documents none. Ingest rotates a connection
        before it (``ROTATE_AT``); the simulator closes one at it."""
        return self.ws_lifetime_s if self.ws_lifetime_s is not None else DEFAULT_WS_LIFETIME_S

    @property
    def hot_standby(self) -> bool:
        """Whether ingest keeps a hot standby connection for this venue (``standby``)."""
        return not self.reconnect_notice if self.standby is None else self.standby

    @property
    def rest_limits(self) -> Mapping[str, BucketLimit]:
        """REST budgets by endpoint group, with the venue's weights: public (market) and
        private (trading) together; the trading client's entries win."""
        limits = dict(self.market.rest_limits)
        if self.trading is not None:
            limits.update(getattr(self.trading, "rest_limits", {}) or {})
        return limits

    @property
    def request_window_s(self) -> float | None:
        """How long a signed order request may still be accepted after it was signed."""
        return self.trading.request_window_s if self.trading is not None else None

    def sim_app(self, market: SimMarket) -> web.Application:
        """The simulator's protocol app of this venue over ``market``. Imported here, on
        first use, so that live code never loads the simulator side."""
        module = importlib.import_module(f"arb_venues.{self.name}.sim.app")
        app: web.Application = module.create_app(market)
        return app
