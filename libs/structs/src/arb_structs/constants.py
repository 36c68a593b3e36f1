"""Every stream, consumer group and key name in one place.

Per-venue names carry the venue as a Redis Cluster hash tag (``{binance}``), so one venue's
ingest and book shard can move to its own Cluster slot unchanged.
"""

from __future__ import annotations

PREFIX = "arb"

# The one field that carries the MessagePack payload of a stream entry.
PAYLOAD_FIELD = b"d"


def md_stream(venue: str) -> str:
    """Normalised market data from ingest: BookSnapshot | BookDelta | VenueStatus."""
    return f"{PREFIX}:md:{{{venue}}}"


def book_stream(venue: str) -> str:
    """Book views from the book service for the detector."""
    return f"{PREFIX}:book:{{{venue}}}"


def book_latest_key(venue: str) -> str:
    """Hash symbol -> latest BookView, for late joiners."""
    return f"{PREFIX}:book:latest:{{{venue}}}"


def book_checkpoint_key(venue: str) -> str:
    """Last md stream id the book service applied for this venue."""
    return f"{PREFIX}:book:checkpoint:{{{venue}}}"


def ctl_stream(venue: str) -> str:
    """Control to ingest: ResyncRequest and AuditRequest (book), RotateRequest (arb ctl)."""
    return f"{PREFIX}:ctl:{{{venue}}}"


# ResyncRequest.symbol that asks for every book of the venue (ingest paces the snapshots).
RESYNC_ALL = "*"


def balances_key(venue: str) -> str:
    """BalanceSnapshot of one venue account (MessagePack value)."""
    return f"{PREFIX}:balances:{{{venue}}}"


def instruments_key(venue: str) -> str:
    """Hash symbol -> Instrument (MessagePack), the reference data of one venue."""
    return f"{PREFIX}:ref:instruments:{{{venue}}}"


def health_key(service: str, instance: str) -> str:
    """Health (MessagePack) of one service instance, with a TTL."""
    return f"{PREFIX}:health:{service}:{instance}"


def shard_lease_key(service: str, group: str, count: int, index: int) -> str:
    """Lease (value: the owner's token, with a TTL) on shard ``index`` of ``count`` of a group.
    The leases of one group share a hash tag: a replica reads them all in one MGET."""
    return f"{PREFIX}:shard:{{{service}:{group}:{count}}}:{index}"


def dead_letter_stream(stream: str) -> str:
    """Where a message goes after too many failed deliveries: in the stream's hash slot (its
    hash tag, or the whole stream name as the tag), so moving an entry there and acking it
    is one transaction on one Redis Cluster node."""
    tagged = "{" in stream and "}" in stream.split("{", 1)[1]
    return f"{PREFIX}:dlq:{stream}" if tagged else f"{PREFIX}:dlq:{{{stream}}}"


def rate_limit_key(venue: str, bucket: str) -> str:
    """Shared (all processes) rate-limit window of one venue endpoint bucket."""
    return f"{PREFIX}:ratelimit:{{{venue}}}:{bucket}"


# Every key of the executor's state carries one hash tag, so a transaction or a script over
# any of them (a saga's first write, ``arb exposure close``) is one Redis Cluster slot. The
# names before this layout (``arb:exec:...``, ``arb:exposure``) are renamed once at the
# executor's start (arb_executor.layout).
EXEC_TAG = "{exec}"
EXEC_PREFIX = f"{PREFIX}:{EXEC_TAG}"


def executor_seen_key(opportunity_id: str) -> str:
    """SET NX guard: an opportunity is taken at most once."""
    return f"{EXEC_PREFIX}:seen:{opportunity_id}"


def saga_key(opportunity_id: str) -> str:
    """Journal of one execution saga (hash)."""
    return f"{EXEC_PREFIX}:saga:{opportunity_id}"


def saga_claim_key(opportunity_id: str) -> str:
    """SET NX PX: a live executor takes over the open saga of one that is gone."""
    return f"{EXEC_PREFIX}:claim:{opportunity_id}"


def executor_risk_key(part: str) -> str:
    """Executor risk state that survives a restart (hash): ``pnl`` (UTC day -> realised
    PnL), ``exposure`` (asset -> quote), ``breakers`` (venue -> until ns), ``blocks``
    (pair -> until ns)."""
    return f"{EXEC_PREFIX}:risk:{part}"


def executor_ledger_key(venue: str) -> str:
    """The executor's ledger of one venue account (hash): the baseline balances the
    reconciliation explains the venue's balances from (``ts``, ``baseline``, ``counted``)."""
    return f"{EXEC_PREFIX}:ledger:{venue}"


def rate_limit_pause_key(venue: str) -> str:
    """Shared "no request to this venue before" (ms since epoch), set from a Retry-After."""
    return f"{PREFIX}:ratelimit:{{{venue}}}:paused"


INSTRUMENTS_STREAM = f"{PREFIX}:ref:instruments"
OPPORTUNITIES_STREAM = f"{PREFIX}:opportunities"
EXECUTIONS_STREAM = f"{PREFIX}:executions"
# ExposureEvent: every open/close/acknowledge of an exposure (executor -> recorder, alerts).
# In the executor's slot: ``arb exposure close`` writes it and the registry in one transaction.
EXPOSURE_STREAM = f"{PREFIX}:exposure:{EXEC_TAG}"
SIM_TRUTH_STREAM = f"{PREFIX}:sim:truth"
OPEN_SAGAS_KEY = f"{EXEC_PREFIX}:open"
# Hash: client order id -> MessagePack WatchedOrder (orders that may still land late).
LATE_ORDERS_KEY = f"{EXEC_PREFIX}:late"
KILL_KEY = f"{PREFIX}:kill"
# Hash: exposure id -> MessagePack ExposureEvent, the latest state of every open exposure.
EXPOSURE_OPEN_KEY = f"{EXEC_PREFIX}:exposure"
# Hash: "<venue>|<asset>" -> MessagePack ExposureEvent (ACKNOWLEDGED): an operator's clear
# of unexplained exposure the reconciliation still has to take into its ledger.
EXPOSURE_ACKS_KEY = f"{EXEC_PREFIX}:exposure:acks"
# Sorted set: client order id -> ns journaled; every order the executors recorded (the
# reconciliation's "known" set; orders at a venue with our prefix and not here are adopted).
EXECUTOR_ORDERS_KEY = f"{EXEC_PREFIX}:orders"
# A token set once per Redis dataset: when it is gone, Redis came back empty.
EXECUTOR_EPOCH_KEY = f"{EXEC_PREFIX}:epoch"
# The executor's key layout in this dataset ("2": every key under {exec}); set by the start-up
# migration once every old name is renamed, with its lock beside it.
EXECUTOR_LAYOUT_KEY = f"{EXEC_PREFIX}:layout"
EXECUTOR_LAYOUT_LOCK_KEY = f"{EXEC_PREFIX}:layout:lock"
BOOK_GROUP = "book"
DETECTOR_GROUP = "detector"
EXECUTOR_GROUP = "executor"
INGEST_GROUP = "ingest"
# The recorder's group on executions, opportunities and exposure (every entry into SQL) and
# the alerter's on executions and exposure: each sees every entry, beside the executor's.
RECORDER_GROUP = "recorder"
ALERTER_GROUP = "alerter"

# Default stream bounds (approximate MAXLEN trimming).
MD_MAXLEN = 100_000
BOOK_MAXLEN = 50_000
CTL_MAXLEN = 10_000
OPPORTUNITIES_MAXLEN = 100_000
EXECUTIONS_MAXLEN = 100_000
EXPOSURE_MAXLEN = 100_000
DEAD_LETTER_MAXLEN = 10_000


def stream_maxlen(name: str) -> int | None:
    """The MAXLEN the engine trims stream ``name`` to; None for a stream it does not cap.
    (Trimming is approximate: Redis drops whole nodes, so a full stream sits a node above.)"""
    if name in _FIXED_MAXLEN:
        return _FIXED_MAXLEN[name]
    for prefix, maxlen in _VENUE_MAXLEN.items():
        if name.startswith(prefix):
            return maxlen
    return None


# Per-venue streams by their name up to the venue's hash tag ("arb:md:{").
_VENUE_MAXLEN = {
    name("").removesuffix("}"): maxlen
    for name, maxlen in ((md_stream, MD_MAXLEN), (book_stream, BOOK_MAXLEN),
                         (ctl_stream, CTL_MAXLEN))
}  # fmt: skip
_FIXED_MAXLEN = {
    OPPORTUNITIES_STREAM: OPPORTUNITIES_MAXLEN, EXECUTIONS_STREAM: EXECUTIONS_MAXLEN,
    EXPOSURE_STREAM: EXPOSURE_MAXLEN,
}  # fmt: skip

# The product's promise: each book LIVE for more than this share of the time (the book
# service measures it, arb status and arb soak judge against it).
UPTIME_TARGET = 0.95
# VenueStatus.reason of a venue that closed its connections for declared maintenance (a
# venue-wide halt: WS close code 1013, "try again later"): the books are not LIVE then and the
# book service counts that time apart from other downtime (arb_book.uptime), never hides it.
DECLARED_MAINTENANCE = "maintenance declared by the venue"
# What the engine is built to reach per book (the hot standby and make-before-break keep a
# book LIVE through every cut a venue announces or restarts a gateway for): arb soak's bar.
UPTIME_GOAL = 0.999
