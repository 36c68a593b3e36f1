# The compiled OrderBook, included by _native.pyx: book.py's OrderBook (the reference) line
# for line, with its sides typed as the compiled sides so the per-message work runs in C.
# Every rule, state change, reason text and result is book.py's; test_native compares both.

from collections import deque

from arb_structs.market import BookDelta, BookSnapshot, BookState, BookView, VenueStatus

from arb_orderbook.errors import BookEventError
from arb_orderbook.result import ApplyResult, ChecksumCheck, Outcome, applied_live, unchanged

cdef object _LIVE = BookState.LIVE
cdef object _SUSPECT = BookState.SUSPECT
cdef object _SYNCING = BookState.SYNCING
cdef object _HALTED = BookState.HALTED
cdef object _NOT_CHECKED = ChecksumCheck.NOT_CHECKED
cdef object _OK = ChecksumCheck.OK
cdef object _FAILED = ChecksumCheck.FAILED
cdef object _MISSING = ChecksumCheck.MISSING
cdef object _APPLIED = Outcome.APPLIED
cdef list _APPLIED_PLAIN = [applied_live(levels) for levels in range(64)]
cdef list _APPLIED_OK = [applied_live(levels, ChecksumCheck.OK) for levels in range(64)]
cdef Py_ssize_t _CACHED = 64


# A delta's fields read where the object holds them. A msgspec Struct keeps each field in a
# slot of the object, which its member descriptor names (the same read ``delta.seq`` does,
# without the attribute look-up: ~20 a delta, ~10% of a replay's instructions). Only for an
# object whose type is exactly BookDelta (the caller checks), and only when every field is an
# object slot (else ``_DELTA_SLOTS`` is False and every read is an attribute read).
cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    int T_OBJECT_EX
cdef extern from "Python.h":
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef struct _DeltaSlots:
    Py_ssize_t venue, symbol, prev_seq, seq, bids, asks, ts_event, ts_recv, checksum
    Py_ssize_t bids_text, asks_text


cdef Py_ssize_t _slot_of(object cls, str name) except -2:
    """Where an instance of ``cls`` holds the object field ``name``; -1 if not in a slot."""
    from types import MemberDescriptorType
    cdef PyMemberDef* member
    descr = cls.__dict__.get(name)
    if type(descr) is not MemberDescriptorType:
        return -1
    member = (<PyMemberDescrObject*><PyObject*>descr).d_member
    if member.type != T_OBJECT_EX or member.offset <= 0:
        return -1
    return member.offset


cdef _DeltaSlots _DELTA
_DELTA.venue = _slot_of(BookDelta, "venue")
_DELTA.symbol = _slot_of(BookDelta, "symbol")
_DELTA.prev_seq = _slot_of(BookDelta, "prev_seq")
_DELTA.seq = _slot_of(BookDelta, "seq")
_DELTA.bids = _slot_of(BookDelta, "bids")
_DELTA.asks = _slot_of(BookDelta, "asks")
_DELTA.ts_event = _slot_of(BookDelta, "ts_event")
_DELTA.ts_recv = _slot_of(BookDelta, "ts_recv")
_DELTA.checksum = _slot_of(BookDelta, "checksum")
_DELTA.bids_text = _slot_of(BookDelta, "bids_text")
_DELTA.asks_text = _slot_of(BookDelta, "asks_text")
cdef bint _DELTA_SLOTS = min(
    _DELTA.venue, _DELTA.symbol, _DELTA.prev_seq, _DELTA.seq, _DELTA.bids, _DELTA.asks,
    _DELTA.ts_event, _DELTA.ts_recv, _DELTA.checksum, _DELTA.bids_text, _DELTA.asks_text,
) > 0
# Whether the fast reads run (tests: both ways must give the same books).
DELTA_SLOTS = _DELTA_SLOTS


cdef inline object _held(object obj, Py_ssize_t offset):
    """The field in ``obj``'s slot at ``offset`` (``obj`` is exactly BookDelta)."""
    cdef PyObject* value = (<PyObject**>((<char*><PyObject*>obj) + offset))[0]
    if value is NULL:
        raise AttributeError("BookDelta field not set")
    return <object>value


cdef inline object _applied_live(Py_ssize_t levels, object check):
    if levels < _CACHED:
        if check is _NOT_CHECKED:
            return <object>PyList_GET_ITEM(_APPLIED_PLAIN, levels)
        if check is _OK:
            return <object>PyList_GET_ITEM(_APPLIED_OK, levels)
    return applied_live(levels, check)


cdef class OrderBook:
    """The book of one symbol on one venue (see ``book.OrderBook``, the reference)."""

    cdef public str venue
    cdef public str symbol
    cdef public object _checksum
    cdef public str _native_join
    cdef public BidSide bids
    cdef public AskSide asks
    cdef public object seq
    cdef public object depth
    cdef public object state
    cdef public str reason
    cdef public object state_changes
    cdef public object ts_event
    cdef public object ts_recv
    cdef public object ts_update
    cdef public object buffer_limit
    cdef public object buffer_overflows
    cdef public str audit
    cdef public object ts_audit
    cdef public object _buffer
    cdef public bint _awaiting_snapshot
    # From the spec, read once: levels per side, the checksum's rules.
    cdef int _levels
    cdef bint _zero_absent
    cdef bint _every_update
    cdef bint _signed

    def __init__(self, venue, symbol, *, buffer_limit=None, verify_checksums=True,
                 checksum=None):
        if buffer_limit is None:
            from arb_orderbook.book import DEFAULT_BUFFER_LIMIT
            buffer_limit = DEFAULT_BUFFER_LIMIT
        if buffer_limit < 1:
            raise ValueError(f"buffer_limit={buffer_limit}: must be at least 1")
        self.venue = venue
        self.symbol = symbol
        spec = checksum if verify_checksums else None
        self._checksum = spec
        field = spec.field if spec is not None else None
        native_field = spec.native_field if spec is not None and field is not None else ""
        self.bids = BidSide(field, native_field)
        self.asks = AskSide(field, native_field)
        self._native_join = spec.native_join if spec is not None and field is not None else ""
        if spec is not None:
            self._levels = spec.levels
            self._zero_absent = spec.zero_means_absent
            self._every_update = spec.on_every_update
            self._signed = spec.native_signed
        self.seq = -1
        self.depth = 0
        self.state = _SYNCING
        self.reason = "waiting for a snapshot"
        self.state_changes = 0
        self.ts_event = 0
        self.ts_recv = 0
        self.ts_update = 0
        self.buffer_limit = buffer_limit
        self.buffer_overflows = 0
        self.audit = ""
        self.ts_audit = 0
        self._buffer = deque()
        self._awaiting_snapshot = True

    # ---------------------------------------------------------------- reading

    def best_bid(self):
        cdef list prices = self.bids.prices
        if not prices:
            return None
        price = prices[-1]
        return (price, self.bids.sizes[price])

    def best_ask(self):
        cdef list prices = self.asks.prices
        if not prices:
            return None
        price = prices[0]
        return (price, self.asks.sizes[price])

    def top(self, depth):
        return self.bids.top(depth), self.asks.top(depth)

    cdef inline bint _crossed(self):
        cdef list bids = self.bids.prices, asks = self.asks.prices
        return bool(bids and asks and bids[-1] >= asks[0])

    @property
    def crossed(self):
        return self._crossed()

    @property
    def tradable(self):
        return self.state is _LIVE

    @property
    def buffered(self):
        return len(self._buffer)

    def view(self, depth, ts_book, ts_read=0):
        bids, asks = self.top(depth)
        return BookView(
            venue=self.venue, symbol=self.symbol, state=self.state, seq=self.seq, bids=bids,
            asks=asks, ts_event=self.ts_event, ts_recv=self.ts_recv, ts_book=ts_book,
            ts_read=ts_read, reason=self.reason, ts_update=self.ts_update, audit=self.audit,
            ts_audit=self.ts_audit,
        )

    # ---------------------------------------------------------------- applying

    def apply(self, event):
        kind = type(event)
        if kind is BookDelta:
            return self.apply_delta(event)
        if kind is BookSnapshot:
            return self.apply_snapshot(event)
        if kind is VenueStatus:
            return self.apply_status(event)
        raise BookEventError(
            f"{self.venue}/{self.symbol}: cannot apply {kind.__name__}; expected "
            "BookSnapshot, BookDelta or VenueStatus"
        )

    cpdef apply_delta(self, delta):
        previous = self.state
        if _DELTA_SLOTS and type(delta) is BookDelta:
            bids, asks = _held(delta, _DELTA.bids), _held(delta, _DELTA.asks)
            texts_b, texts_a = _held(delta, _DELTA.bids_text), _held(delta, _DELTA.asks_text)
            seq, prev_seq = _held(delta, _DELTA.seq), _held(delta, _DELTA.prev_seq)
            ts_event, ts_recv = _held(delta, _DELTA.ts_event), _held(delta, _DELTA.ts_recv)
            expected = _held(delta, _DELTA.checksum)
        else:
            bids, asks = delta.bids, delta.asks
            texts_b, texts_a = delta.bids_text, delta.asks_text
            seq, prev_seq = delta.seq, delta.prev_seq
            ts_event, ts_recv = delta.ts_event, delta.ts_recv
            expected = delta.checksum
        cdef bint plain = texts_b is None and texts_a is None
        cdef Py_ssize_t levels
        if not plain and (
            (texts_b is not None and len(texts_b) != len(bids))
            or (texts_a is not None and len(texts_a) != len(asks))
        ):
            _check_text(self, bids, texts_b, asks, texts_a)  # raises
        if self._awaiting_snapshot:
            if previous is _HALTED:
                return ApplyResult(Outcome.DROPPED_HALTED, previous, previous, reason=self.reason)
            overflow = self._buffer_delta(delta)
            if not overflow:
                return unchanged(Outcome.BUFFERED, previous)
            return ApplyResult(
                Outcome.BUFFERED, previous, previous, overflow=True, resync=True,
                reason=self._overflow_reason(),
            )
        if seq <= self.seq:
            return unchanged(Outcome.DROPPED_STALE, previous)
        if prev_seq > self.seq:
            reason = (
                f"gap: delta prev_seq={prev_seq} seq={seq} does not follow book "
                f"seq={self.seq}"
            )
            self._fault(reason)
            self._buffer.append(delta)
            return ApplyResult(
                Outcome.GAP, previous, self.state, gap=True, resync=True, reason=reason
            )
        if plain:
            levels = self.bids.update(bids) if bids else 0
            if asks:
                levels += self.asks.update(asks)
            self.seq = seq
            self.ts_event = ts_event
            self.ts_recv = self.ts_update = ts_recv
            if previous is _LIVE and not self.depth and expected is None:
                if not self._crossed():
                    return _applied_live(levels, _NOT_CHECKED)
        else:
            levels = self._apply_changes(bids, asks, texts_b, texts_a, seq, ts_event, ts_recv)
        check = self._settle_check(expected, type(delta) is BookDelta)  # book.py's test
        state = self.state
        if state is _LIVE:
            if previous is _LIVE:
                return _applied_live(levels, check)
            return ApplyResult(_APPLIED, previous, state, levels=levels, checksum=check)
        return ApplyResult(
            _APPLIED, previous, state, levels=levels, checksum=check, crossed=self._crossed(),
            resync=True, reason=self.reason,
        )

    def apply_snapshot(self, snapshot):
        previous = self.state
        texts_b, texts_a = snapshot.bids_text, snapshot.asks_text
        _check_text(self, snapshot.bids, texts_b, snapshot.asks, texts_a)
        levels = self.bids.replace(snapshot.bids, texts_b)
        levels += self.asks.replace(snapshot.asks, texts_a)
        self.seq = snapshot.seq
        self.depth = snapshot.depth
        self.audit = ""
        self.ts_event = snapshot.ts_event
        self.ts_recv = self.ts_update = snapshot.ts_recv
        self._awaiting_snapshot = False
        check = self._settle(snapshot)
        worst = check
        replayed = dropped = 0
        gap = False
        buffer = self._buffer
        while buffer and not self._awaiting_snapshot:
            delta = buffer.popleft()
            if delta.seq <= self.seq:
                dropped += 1
                continue
            if delta.prev_seq > self.seq:
                buffer.appendleft(delta)
                gap = True
                self._fault(
                    f"gap: buffered delta prev_seq={delta.prev_seq} seq={delta.seq} does "
                    f"not follow book seq={self.seq} (snapshot seq={snapshot.seq})"
                )
                break
            levels += self._apply_levels(delta)
            replayed += 1
            delta_check = self._settle(delta)
            if delta_check is not _NOT_CHECKED and worst is not _FAILED:
                worst = delta_check
        if not self._awaiting_snapshot:
            buffer.clear()
        state = self.state
        return ApplyResult(
            _APPLIED, previous, state, levels=levels, checksum=worst, crossed=self._crossed(),
            gap=gap, resync=state is not _LIVE, replayed=replayed, replay_dropped=dropped,
            reason=self.reason,
        )

    def apply_status(self, status):
        previous = self.state
        if status.status == "down":
            detail = f": {status.reason}" if status.reason else ""
            self._set_state(_HALTED, f"venue down{detail}")
            self._awaiting_snapshot = True
            self._buffer.clear()
        elif status.status == "up":
            if previous is _HALTED:
                self._set_state(_SYNCING, "venue up: waiting for a snapshot")
        else:
            raise BookEventError(
                f"{self.venue}/{self.symbol}: venue status {status.status!r} is not "
                "'up' or 'down'; fix the sender (ingest)"
            )
        return ApplyResult(Outcome.STATUS, previous, self.state, reason=self.reason)

    def mark_suspect(self, reason):
        previous = self.state
        if previous is _HALTED:
            return ApplyResult(Outcome.MARKED, previous, previous, reason=self.reason)
        self._fault(reason)
        return ApplyResult(Outcome.MARKED, previous, self.state, resync=True, reason=reason)

    def check_stale(self, now, max_age):
        if self.state is not _LIVE:
            return None
        age = now - self.ts_update
        if age <= max_age:
            return None
        reason = f"stale: no update for {age / 1e9:.1f}s (bound {max_age / 1e9:.1f}s)"
        self._set_state(_SUSPECT, reason)
        return ApplyResult(Outcome.EXPIRED, _LIVE, _SUSPECT, resync=True, reason=reason)

    # ---------------------------------------------------------------- internals

    cpdef Py_ssize_t _apply_levels(self, delta) except -1:
        return self._apply_changes(delta.bids, delta.asks, delta.bids_text, delta.asks_text,
                                   delta.seq, delta.ts_event, delta.ts_recv)  # fmt: skip

    cdef Py_ssize_t _apply_changes(self, bids, asks, texts_b, texts_a, seq, ts_event,
                                   ts_recv) except -1:
        """``_apply_levels`` of a delta's fields, read by the caller."""
        cdef Py_ssize_t levels
        if texts_b is None and texts_a is None:
            levels = self.bids.update(bids) + self.asks.update(asks)
        else:
            levels = 0
            if bids:
                levels = (
                    self.bids.update(bids)
                    if texts_b is None
                    else self.bids.update_with_text(bids, texts_b)
                )
            if asks:
                levels += (
                    self.asks.update(asks)
                    if texts_a is None
                    else self.asks.update_with_text(asks, texts_a)
                )
        self.seq = seq
        self.ts_event = ts_event
        self.ts_recv = self.ts_update = ts_recv
        return levels

    cpdef object _settle(self, event):
        return self._settle_check(event.checksum, type(event) is BookDelta)

    cdef object _settle_check(self, expected, bint delta):
        """``_settle`` of an event whose checksum is ``expected``; ``delta``: it is a delta."""
        cdef BidSide bids_side = self.bids
        cdef AskSide asks_side = self.asks
        depth = self.depth
        if depth:
            if len(bids_side.prices) > depth:
                bids_side.truncate(depth)
            if len(asks_side.prices) > depth:
                asks_side.truncate(depth)
        check = _NOT_CHECKED
        spec = self._checksum
        if spec is not None and expected is not None and (expected or not self._zero_absent):
            computed = None
            if self._native_join:
                computed = checksum(bids_side, asks_side, self._levels, self._native_join,
                                    self._signed)
            if computed is None:
                from arb_orderbook.book import _python_checksum
                computed = _python_checksum(spec, bids_side, asks_side, self._levels)
            if (expected & 0xFFFFFFFF) == (computed & 0xFFFFFFFF):  # checksums.same_checksum
                check = _OK
            else:
                self._fault(
                    f"checksum mismatch at seq={self.seq}: venue sent {expected}, "
                    f"book computes {computed}"
                )
                return _FAILED
        elif spec is not None and self._every_update and delta:
            self._fault(f"checksum missing at seq={self.seq}: the venue checksums every update")
            return _MISSING
        cdef list bids = bids_side.prices, asks = asks_side.prices
        if bids and asks and bids[-1] >= asks[0]:
            self._fault(f"crossed at seq={self.seq}: best bid {bids[-1]} >= ask {asks[0]}")
        elif self.state is not _LIVE:
            self._set_state(_LIVE, "")
        return check

    def _fault(self, reason):
        self._awaiting_snapshot = True
        self._set_state(_SUSPECT, reason)

    def _set_state(self, state, reason):
        if state is not self.state:
            self.state_changes += 1
            self.state = state
        self.reason = reason

    def _buffer_delta(self, delta):
        buffer = self._buffer
        overflow = len(buffer) >= self.buffer_limit
        if overflow:
            buffer.popleft()
            self.buffer_overflows += 1
        buffer.append(delta)
        return overflow

    def _overflow_reason(self):
        return (
            f"buffer full: {self.buffer_limit} deltas waiting for a snapshot, oldest dropped "
            f"({self.buffer_overflows} so far)"
        )


cdef _check_text(OrderBook book, bids, bids_text, asks, asks_text):
    for side, levels, texts in (("bids", bids, bids_text), ("asks", asks, asks_text)):
        if texts is not None and len(texts) != len(levels):
            raise BookEventError(
                f"{book.venue}/{book.symbol}: {side}_text has {len(texts)} entries for "
                f"{len(levels)} levels; the parser must send one text per level or none"
            )


cdef class VenueCounts:
    """Running totals of one venue (see ``bookset.VenueCounts``, the reference): the same
    fields, the same ``add``, equal to a reference one with the same totals."""

    cdef public long long events
    cdef public long long applied
    cdef public long long levels
    cdef public long long dropped_stale
    cdef public long long dropped_halted
    cdef public long long buffered
    cdef public long long replayed
    cdef public long long gaps
    cdef public long long checksums_ok
    cdef public long long checksum_failures
    cdef public long long checksums_missing
    cdef public long long crossed
    cdef public long long buffer_overflows
    cdef public long long expired
    cdef public long long state_changes

    FIELDS = ("events", "applied", "levels", "dropped_stale", "dropped_halted", "buffered",
              "replayed", "gaps", "checksums_ok", "checksum_failures", "checksums_missing",
              "crossed", "buffer_overflows", "expired", "state_changes")

    def __init__(self, **totals):
        for name, value in totals.items():
            setattr(self, name, value)

    def __eq__(self, other):
        names = VenueCounts.FIELDS
        try:
            return all(getattr(self, n) == getattr(other, n) for n in names)
        except AttributeError:
            return NotImplemented

    def __repr__(self):
        inside = ", ".join(f"{n}={getattr(self, n)}" for n in VenueCounts.FIELDS)
        return f"VenueCounts({inside})"

    cpdef add(self, result):
        if not isinstance(result, tuple) or PyTuple_GET_SIZE(result) != 12:
            raise TypeError(f"not an ApplyResult: {result!r}")
        cdef tuple fields = <tuple>result
        outcome = <object>PyTuple_GET_ITEM(fields, 0)
        previous_state = <object>PyTuple_GET_ITEM(fields, 1)
        state = <object>PyTuple_GET_ITEM(fields, 2)
        cdef long long levels = <object>PyTuple_GET_ITEM(fields, 3)
        check = <object>PyTuple_GET_ITEM(fields, 4)
        cdef bint crossed = <object>PyTuple_GET_ITEM(fields, 5)
        cdef bint gap = <object>PyTuple_GET_ITEM(fields, 6)
        cdef bint overflow = <object>PyTuple_GET_ITEM(fields, 8)
        cdef long long replayed = <object>PyTuple_GET_ITEM(fields, 9)
        cdef long long replay_dropped = <object>PyTuple_GET_ITEM(fields, 10)
        if outcome is _APPLIED:
            self.applied += 1 + replayed
            if replayed or replay_dropped:
                self.dropped_stale += replay_dropped
                self.replayed += replayed
        elif outcome is Outcome.DROPPED_STALE:
            self.dropped_stale += 1
        elif outcome is Outcome.BUFFERED:
            self.buffered += 1
        elif outcome is Outcome.DROPPED_HALTED:
            self.dropped_halted += 1
        elif outcome is Outcome.EXPIRED:
            self.expired += 1
        self.levels += levels
        if check is _OK:
            self.checksums_ok += 1
        elif check is _FAILED:
            self.checksum_failures += 1
        elif check is _MISSING:
            self.checksums_missing += 1
        if gap:
            self.gaps += 1
        if crossed:
            self.crossed += 1
        if overflow:
            self.buffer_overflows += 1
        if state is not previous_state:
            self.state_changes += 1


cdef class Router:
    """``BookSet.apply`` in C for a set of compiled books (the set's ``apply`` where the
    compiled book runs): the same lookups, the same call, the same counting."""

    cdef dict _venues
    cdef dict _counts
    cdef object _book

    def __init__(self, dict venues, dict counts, book):
        self._venues = venues  # the set's own dicts, shared
        self._counts = counts
        self._book = book  # the set's ``book``: creates a book (and its counts) on first sight

    def apply(self, event):
        if _DELTA_SLOTS and type(event) is BookDelta:
            venue, symbol = _held(event, _DELTA.venue), _held(event, _DELTA.symbol)
        else:
            venue, symbol = event.venue, event.symbol
        cdef PyObject* found = PyDict_GetItem(self._venues, venue)
        cdef PyObject* held = NULL
        if found is not NULL:
            held = PyDict_GetItem(<object>found, symbol)
        book = <object>held if held is not NULL else self._book(venue, symbol)
        if type(event) is BookDelta:
            if type(book) is OrderBook:
                result = (<OrderBook>book).apply_delta(event)
            else:
                result = book.apply_delta(event)
        else:
            result = book.apply(event)
        counts = self._counts[venue]
        if type(counts) is VenueCounts:
            (<VenueCounts>counts).events += 1
            (<VenueCounts>counts).add(result)
        else:
            counts.events += 1
            counts.add(result)
        return result
