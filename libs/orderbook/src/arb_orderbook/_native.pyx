# cython: language_level=3
"""The compiled book sides and checksum assembly: the same classes and results as
``sides.py`` (the reference) with the per-level work done in C.

Built from source by ``make setup`` (``arb_orderbook.native_build``); ``arb_orderbook.native``
picks it or the pure-Python sides. What is the same as ``sides.py``, by construction:
- the storage: ``sizes`` (price -> size dict), ``prices`` (ascending list), ``texts`` and
  ``fields`` dicts, holding the very objects the caller gave, so every reader of a side
  (book.py, audits, views, tests) sees what the pure side would hold;
- the order rules: ``insort`` is ``bisect.insort`` (right), a delete removes the slot
  ``bisect_left`` finds, both comparing prices as C doubles exactly as Python's float ``<``
  does; ``replace`` sorts with ``sorted``;
- a level is kept when its size is true (non-zero, NaN included), as in ``if size:``.
Differences are only in speed: a level's checksum piece under the ``digits`` rule and the
CRC-32 over the top pieces are computed here without calling back into Python.
``tests/unit/orderbook/test_native.py`` checks both sides against each other.
"""

from cpython.dict cimport PyDict_Contains, PyDict_GetItem, PyDict_SetItem, PyDict_DelItem
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE, PyList_Insert
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.object cimport PyObject
from libc.stdint cimport uint32_t
from libc.string cimport memcpy

cdef extern from "Python.h":
    double PyFloat_AsDouble(object) except? -1.0
    double PyFloat_AS_DOUBLE(object)
    int PyList_SetSlice(object, Py_ssize_t, Py_ssize_t, PyObject*) except -1
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    bint PyUnicode_IS_ASCII(object)
    bint PyUnicode_IS_COMPACT_ASCII(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    object PyUnicode_FromStringAndSize(const char*, Py_ssize_t)
    object PyUnicode_New(Py_ssize_t, Py_UCS4)
    object PyUnicode_Concat(object, object)
    double PyOS_string_to_double(const char*, char**, PyObject*) except? -1.0

from libc.math cimport isfinite

cdef extern from *:
    """
    #ifndef ARB_NATIVE_SOURCE_HASH
    #define ARB_NATIVE_SOURCE_HASH ""
    #endif
    """
    const char* ARB_NATIVE_SOURCE_HASH

# The hash of the source this module was built from (native_build defines it; native.py uses
# the module only when it matches the source beside it).
SOURCE_HASH = ARB_NATIVE_SOURCE_HASH.decode("ascii")

# Rules of a level's checksum piece the compiled side runs itself (ChecksumSpec.native_field).
DIGITS = "digits"  # price text then size text, each with '.' removed and leading '0's stripped
COLON = "colon"  # price text, ':', size text (``":".join``)
# Rules of joining the top pieces (ChecksumSpec.native_join).
ASKS_BIDS = "asks_bids"  # the asks' pieces then the bids', nothing between
INTERLEAVED = "interleaved"  # bid0:ask0:bid1:ask1:..., ':' between, the shorter side running out

cdef int _FIELD_CALL = 0
cdef int _FIELD_DIGITS = 1
cdef int _FIELD_COLON = 2

cdef extern from *:
    """
    /* CRC-32 (zlib's: reflected polynomial 0xEDB88320), eight bytes a step ("slicing by
       8"): table[k][n] is the CRC of byte n followed by k zero bytes. */
    #include <stdint.h>
    #include <string.h>
    static uint32_t arb_crc_table[8][256];

    static void arb_crc_init(void) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            arb_crc_table[0][n] = c;
        }
        for (uint32_t n = 0; n < 256; n++)
            for (int k = 1; k < 8; k++)
                arb_crc_table[k][n] = arb_crc_table[0][arb_crc_table[k - 1][n] & 0xFF]
                                      ^ (arb_crc_table[k - 1][n] >> 8);
    }

    /* Feed size bytes to a running (pre-inverted) crc. */
    static inline uint32_t arb_crc_update(uint32_t crc, const char *data, Py_ssize_t size) {
        const unsigned char *p = (const unsigned char *)data;
        while (size >= 8) {
            uint32_t lo, hi;
            memcpy(&lo, p, 4);
            memcpy(&hi, p + 4, 4);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            lo = __builtin_bswap32(lo);
            hi = __builtin_bswap32(hi);
    #endif
            lo ^= crc;
            crc = arb_crc_table[7][lo & 0xFF] ^ arb_crc_table[6][(lo >> 8) & 0xFF]
                ^ arb_crc_table[5][(lo >> 16) & 0xFF] ^ arb_crc_table[4][lo >> 24]
                ^ arb_crc_table[3][hi & 0xFF] ^ arb_crc_table[2][(hi >> 8) & 0xFF]
                ^ arb_crc_table[1][(hi >> 16) & 0xFF] ^ arb_crc_table[0][hi >> 24];
            p += 8;
            size -= 8;
        }
        while (size-- > 0) crc = arb_crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        return crc;
    }
    """
    void arb_crc_init()
    uint32_t arb_crc_update(uint32_t crc, const char* data, Py_ssize_t size)


arb_crc_init()


cdef inline uint32_t _crc_update(uint32_t crc, const char* data, Py_ssize_t size):
    return arb_crc_update(crc, data, size)


def crc32(text):
    """zlib.crc32 of ``text``'s UTF-8 (the same function, for the tests)."""
    cdef Py_ssize_t size
    cdef const char* data = PyUnicode_AsUTF8AndSize(text, &size)
    return (_crc_update(0xFFFFFFFF, data, size) ^ 0xFFFFFFFF)


cdef Py_ssize_t _bisect_right(list prices, double x):
    cdef Py_ssize_t lo = 0, hi = PyList_GET_SIZE(prices), mid
    while lo < hi:
        mid = (lo + hi) // 2
        if x < PyFloat_AsDouble(<object>PyList_GET_ITEM(prices, mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


cdef Py_ssize_t _bisect_left(list prices, double x):
    cdef Py_ssize_t lo = 0, hi = PyList_GET_SIZE(prices), mid
    while lo < hi:
        mid = (lo + hi) // 2
        if PyFloat_AsDouble(<object>PyList_GET_ITEM(prices, mid)) < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef Py_ssize_t _digits_into(str text, char* out) except -1:
    """Write ``text`` with '.' removed and leading '0's stripped into ``out``; its length.
    ``text`` is ASCII (the caller checked)."""
    cdef Py_ssize_t size, i, n = 0
    cdef const char* data = PyUnicode_AsUTF8AndSize(text, &size)
    cdef char ch
    cdef bint leading = True
    for i in range(size):
        ch = data[i]
        if ch == 46:  # '.'
            continue
        if leading and ch == 48:  # '0'
            continue
        leading = False
        out[n] = ch
        n += 1
    return n


cdef object _digits(object text):
    """The ``digits`` piece of one level's text, or None when it is not two ASCII strs (the
    caller then calls the venue's Python function)."""
    cdef str price, size
    cdef char buffer[128]
    cdef Py_ssize_t n
    if type(text) is not tuple or PyTuple_GET_SIZE(text) != 2:
        return None
    a = <object>PyTuple_GET_ITEM(text, 0)
    b = <object>PyTuple_GET_ITEM(text, 1)
    if type(a) is not str or type(b) is not str:
        return None
    price = a
    size = b
    if not PyUnicode_IS_ASCII(price) or not PyUnicode_IS_ASCII(size):
        return None
    if len(price) + len(size) > 128:
        return None
    n = _digits_into(price, buffer)
    n += _digits_into(size, buffer + n)
    return PyUnicode_FromStringAndSize(buffer, n)


cdef object _colon(object text):
    """The ``colon`` piece of one level's text, or None when it is not two strs."""
    if type(text) is not tuple or PyTuple_GET_SIZE(text) != 2:
        return None
    a = <object>PyTuple_GET_ITEM(text, 0)
    b = <object>PyTuple_GET_ITEM(text, 1)
    if type(a) is not str or type(b) is not str:
        return None
    cdef Py_ssize_t na, nb
    cdef char* out
    if PyUnicode_IS_COMPACT_ASCII(a) and PyUnicode_IS_COMPACT_ASCII(b):  # the usual text:
        na, nb = PyUnicode_GET_LENGTH(a), PyUnicode_GET_LENGTH(b)  # one string, one copy
        piece = PyUnicode_New(na + 1 + nb, 127)
        out = <char*>PyUnicode_DATA(piece)
        memcpy(out, PyUnicode_DATA(a), na)
        out[na] = 58  # ':'
        memcpy(out + na + 1, PyUnicode_DATA(b), nb)
        return piece
    return PyUnicode_Concat(PyUnicode_Concat(a, ":"), b)


def colon_field(text):
    """The ``colon`` rule on one level's text as the compiled side runs it (tests)."""
    return _colon(text)


def digits_field(text):
    """The ``digits`` rule on one level's text as the compiled side runs it (None when it
    would call the venue's function instead), for the tests."""
    return _digits(text)


cdef inline tuple _level(object level):
    """``price, size = level``: a 2-tuple read directly, anything else unpacked by Python."""
    if type(level) is tuple and PyTuple_GET_SIZE(level) == 2:
        return <tuple>level
    price, size = level
    return (price, size)


cdef inline bint _truthy(object size) except -1:
    """``bool(size)``, without the call for a float (NaN is true, as in Python)."""
    if type(size) is float:
        return PyFloat_AS_DOUBLE(size) != 0.0
    return bool(size)


cdef tuple _text_of(object price, object size):
    return (repr(price), repr(size))


cdef class BookSide:
    """Base of BidSide and AskSide (see ``sides.BookSide``)."""

    cdef public dict sizes
    cdef public list prices
    cdef public dict texts
    cdef public object field
    cdef public dict fields
    cdef int _rule
    # With ``field``: each level's piece (None: it has none) in the order of ``prices``, so a
    # checksum reads the top pieces by position instead of hashing each price. ``_aligned``
    # turns False if the two could ever differ (a price the list does not hold where the dict
    # does); the checksum then reads ``fields`` until the next replace or clear.
    cdef list _pieces
    cdef bint _track
    cdef bint _aligned

    def __init__(self, field=None, native_field=""):
        self.sizes = {}
        self.prices = []
        self.texts = {}
        self.field = field
        self.fields = {}
        self._pieces = []
        self._track = field is not None
        self._aligned = True
        if field is not None and native_field == DIGITS:
            self._rule = _FIELD_DIGITS
        elif field is not None and native_field == COLON:
            self._rule = _FIELD_COLON
        elif field is not None and native_field:
            raise ValueError(f"native_field={native_field!r}: the compiled side knows {DIGITS!r} "
                             f"and {COLON!r}")
        else:
            self._rule = _FIELD_CALL

    def __len__(self):
        return PyList_GET_SIZE(self.prices)

    def clear(self):
        self.sizes.clear()
        self.prices.clear()
        self.texts.clear()
        self.fields.clear()
        self._pieces.clear()
        self._aligned = True

    cdef inline object _piece(self, object text):
        cdef object piece
        if self._rule == _FIELD_DIGITS:
            piece = _digits(text)
            if piece is not None:
                return piece
        elif self._rule == _FIELD_COLON:
            piece = _colon(text)
            if piece is not None:
                return piece
        return self.field(text)

    cpdef Py_ssize_t replace(self, levels, texts) except -1:
        cdef dict sizes = self.sizes
        cdef dict fields
        cdef dict text_of
        cdef Py_ssize_t count = 0
        sizes.clear()
        self.texts.clear()
        self.fields.clear()
        if texts is None:
            for price, size in levels:
                count += 1
                if size:
                    sizes[price] = size
        elif self.field is not None:
            fields = self.fields
            for (price, size), text in zip(levels, texts, strict=True):
                count += 1
                if size:
                    sizes[price] = size
                    fields[price] = self._piece(text)
        else:
            text_of = self.texts
            for (price, size), text in zip(levels, texts, strict=True):
                count += 1
                if size:
                    sizes[price] = size
                    text_of[price] = text
        self.prices = sorted(sizes)
        if self._track:
            fields = self.fields
            self._pieces = [fields.get(p) for p in self.prices]
        self._aligned = True
        return count

    cdef inline Py_ssize_t _set(self, dict sizes, list prices, object price,
                                object size) except -2:
        """Set a level; the slot it was inserted at, or -1 when it was held already."""
        cdef Py_ssize_t at = -1
        if not PyDict_Contains(sizes, price):
            at = _bisect_right(prices, PyFloat_AsDouble(price))
            PyList_Insert(prices, at, price)
        PyDict_SetItem(sizes, price, size)
        return at

    cdef inline Py_ssize_t _delete(self, dict sizes, list prices, object price) except -2:
        """Remove ``price`` if held (``sizes.pop(price, None) is not None``): the slot it was
        removed from, or -1."""
        cdef PyObject* held = PyDict_GetItem(sizes, price)
        cdef Py_ssize_t at
        if held is NULL:
            return -1
        PyDict_DelItem(sizes, price)
        if <object>held is None:
            return -1
        at = _bisect_left(prices, PyFloat_AsDouble(price))
        if at >= PyList_GET_SIZE(prices):
            raise IndexError("list assignment index out of range")  # as ``del prices[at]``
        PyList_SetSlice(prices, at, at + 1, NULL)
        return at

    cdef inline void _place_piece(self, list prices, object price, Py_ssize_t at,
                                  object piece) except *:
        """Keep ``_pieces`` in step: a new level's piece goes in at its slot, a held one's
        replaces the piece at the slot of its price."""
        cdef list pieces = self._pieces
        cdef double value
        if at >= 0:
            PyList_Insert(pieces, at, piece)
            return
        value = PyFloat_AsDouble(price)
        at = _bisect_left(prices, value)
        if (at < PyList_GET_SIZE(prices) and at < PyList_GET_SIZE(pieces)
                and PyFloat_AsDouble(<object>PyList_GET_ITEM(prices, at)) == value):
            pieces[at] = piece
        else:
            self._aligned = False

    cdef inline void _drop_piece(self, Py_ssize_t at) except *:
        if at < PyList_GET_SIZE(self._pieces):
            PyList_SetSlice(self._pieces, at, at + 1, NULL)
        else:
            self._aligned = False

    cpdef Py_ssize_t update(self, levels) except -1:
        cdef dict sizes = self.sizes
        cdef list prices = self.prices
        cdef Py_ssize_t at, i, n
        cdef bint track = self._track
        if type(levels) is not list:
            return self._update_any(levels)
        n = PyList_GET_SIZE(levels)
        for i in range(n):
            price, size = _level(<object>PyList_GET_ITEM(levels, i))
            if _truthy(size):
                at = self._set(sizes, prices, price, size)
                if track and at >= 0:
                    PyList_Insert(self._pieces, at, None)  # a level without text: no piece
            else:
                at = self._delete(sizes, prices, price)
                if track and at >= 0:
                    self._drop_piece(at)
        return n

    cdef Py_ssize_t _update_any(self, levels) except -1:
        """``update`` of any sequence (not a list): the same steps, Python iteration."""
        cdef dict sizes = self.sizes
        cdef list prices = self.prices
        cdef Py_ssize_t at
        cdef bint track = self._track
        for price, size in levels:
            if size:
                at = self._set(sizes, prices, price, size)
                if track and at >= 0:
                    PyList_Insert(self._pieces, at, None)
            else:
                at = self._delete(sizes, prices, price)
                if track and at >= 0:
                    self._drop_piece(at)
        return len(levels)

    cpdef Py_ssize_t update_with_text(self, levels, texts) except -1:
        cdef dict sizes = self.sizes
        cdef list prices = self.prices
        cdef dict fields = self.fields, text_of = self.texts
        cdef Py_ssize_t at, i, n, nl, nt
        cdef bint pieced = self.field is not None
        if type(levels) is not list or type(texts) is not list:
            return self._update_with_text_any(levels, texts)
        nl = PyList_GET_SIZE(levels)
        nt = PyList_GET_SIZE(<list>texts)
        n = min(nl, nt)
        for i in range(n):  # zip(levels, texts, strict=True): the pairs first, then the check
            price, size = _level(<object>PyList_GET_ITEM(levels, i))
            text = <object>PyList_GET_ITEM(<list>texts, i)
            if pieced:
                if _truthy(size):
                    at = self._set(sizes, prices, price, size)
                    piece = self._piece(text)
                    fields[price] = piece
                    self._place_piece(prices, price, at, piece)
                else:
                    at = self._delete(sizes, prices, price)
                    if at >= 0:
                        fields.pop(price, None)
                        self._drop_piece(at)
            elif _truthy(size):
                self._set(sizes, prices, price, size)
                text_of[price] = text
            elif self._delete(sizes, prices, price) >= 0:
                text_of.pop(price, None)
        if nl != nt:
            word = "shorter" if nt < nl else "longer"
            raise ValueError(f"zip() argument 2 is {word} than argument 1")
        return nl

    cdef Py_ssize_t _update_with_text_any(self, levels, texts) except -1:
        """``update_with_text`` of any sequences (not lists): Python iteration."""
        cdef dict sizes = self.sizes
        cdef list prices = self.prices
        cdef dict fields, text_of
        cdef Py_ssize_t at
        if self.field is not None:
            fields = self.fields
            for (price, size), text in zip(levels, texts, strict=True):
                if size:
                    at = self._set(sizes, prices, price, size)
                    piece = self._piece(text)
                    fields[price] = piece
                    self._place_piece(prices, price, at, piece)
                else:
                    at = self._delete(sizes, prices, price)
                    if at >= 0:
                        fields.pop(price, None)
                        self._drop_piece(at)
            return len(levels)
        text_of = self.texts
        for (price, size), text in zip(levels, texts, strict=True):
            if size:
                self._set(sizes, prices, price, size)
                text_of[price] = text
            elif self._delete(sizes, prices, price) >= 0:
                text_of.pop(price, None)
        return len(levels)

    def _forget(self, list dropped):
        cdef dict sizes = self.sizes
        cdef dict texts = self.texts
        cdef dict fields = self.fields
        for price in dropped:
            del sizes[price]
            texts.pop(price, None)
            fields.pop(price, None)

    cdef list _best_prices(self, Py_ssize_t depth):
        raise NotImplementedError

    def _fields_of(self, list prices):
        cdef dict fields = self.fields
        cdef dict sizes = self.sizes
        cdef list out = []
        cdef PyObject* piece
        for p in prices:
            piece = PyDict_GetItem(fields, p)
            if piece is not NULL:
                out.append(<object>piece)
            else:
                assert self.field is not None, "checksum pieces asked of a side kept without a field"
                out.append(self._piece(_text_of(p, sizes[p])))
        return out

    def best(self):
        raise NotImplementedError

    def top(self, int depth):
        cdef dict sizes = self.sizes
        if depth <= 0:
            return []
        return [(p, sizes[p]) for p in self._best_prices(depth)]

    def top_text(self, int depth):
        cdef dict sizes = self.sizes
        cdef dict texts = self.texts
        return [texts.get(p) or _text_of(p, sizes[p]) for p in self._best_prices(depth)]

    def top_fields(self, int depth):
        return self._fields_of(self._best_prices(depth))

    cpdef truncate(self, depth):
        raise NotImplementedError


cdef class BidSide(BookSide):
    """Bids: best = highest price = last in the ascending list."""

    cdef list _best_prices(self, Py_ssize_t depth):
        return self.prices[-1 : -depth - 1 : -1]

    def best(self):
        cdef list prices = self.prices
        return prices[-1] if prices else None

    cpdef truncate(self, depth):
        cdef Py_ssize_t excess = PyList_GET_SIZE(self.prices) - depth
        if excess > 0:
            dropped = self.prices[:excess]
            del self.prices[:excess]
            if self._track:
                del self._pieces[:excess]
            self._forget(dropped)


cdef class AskSide(BookSide):
    """Asks: best = lowest price = first in the ascending list."""

    cdef list _best_prices(self, Py_ssize_t depth):
        return self.prices[:depth]

    def best(self):
        cdef list prices = self.prices
        return prices[0] if prices else None

    cpdef truncate(self, depth):
        if PyList_GET_SIZE(self.prices) > depth:
            dropped = self.prices[depth:]
            del self.prices[depth:]
            if self._track:
                del self._pieces[depth:]
            self._forget(dropped)


cdef inline bint _feed(BookSide side, bint by_slot, Py_ssize_t slot, uint32_t* crc,
                       bint colon) except -1:
    """Feed the piece of the level at ``slot`` of ``side.prices`` (with a ':' before it when
    ``colon``); False when that level has no piece (stored without text) or it is no str."""
    cdef PyObject* piece
    cdef Py_ssize_t size
    cdef const char* data
    if by_slot:
        piece = PyList_GET_ITEM(side._pieces, slot)
    else:
        piece = PyDict_GetItem(side.fields, <object>PyList_GET_ITEM(side.prices, slot))
        if piece is NULL:
            return False
    if type(<object>piece) is not str:  # None: no piece
        return False
    if PyUnicode_IS_COMPACT_ASCII(<object>piece):  # its UTF-8 is its data (the usual piece)
        data = <const char*>PyUnicode_DATA(<object>piece)
        size = PyUnicode_GET_LENGTH(<object>piece)
    else:
        data = PyUnicode_AsUTF8AndSize(<object>piece, &size)
    if colon:
        crc[0] = _crc_update(crc[0], ":", 1)
    crc[0] = _crc_update(crc[0], data, size)
    return True


def checksum(BidSide bids, AskSide asks, int levels, str join, bint signed):
    """The CRC-32 over the pieces of the best ``levels`` per side joined by ``join``
    (``ASKS_BIDS`` or ``INTERLEAVED``), as the venue's ``from_fields`` computes it; None
    when a top level has no piece (the caller then takes the Python way, stand-ins and all)."""
    cdef Py_ssize_t nbids = PyList_GET_SIZE(bids.prices), nasks = PyList_GET_SIZE(asks.prices)
    cdef Py_ssize_t nb = min(levels, nbids), na = min(levels, nasks)
    cdef Py_ssize_t last = nbids - 1
    cdef Py_ssize_t i
    cdef uint32_t crc = 0xFFFFFFFF
    cdef bint first = True
    # The pieces by slot where each side's list is in step with its prices, else by price.
    cdef bint bid_slots = bids._aligned and PyList_GET_SIZE(bids._pieces) == nbids
    cdef bint ask_slots = asks._aligned and PyList_GET_SIZE(asks._pieces) == nasks
    if levels < 0:
        nb = na = 0
    if join == ASKS_BIDS:
        for i in range(na):
            if not _feed(asks, ask_slots, i, &crc, False):
                return None
        for i in range(nb):
            if not _feed(bids, bid_slots, last - i, &crc, False):
                return None
    elif join == INTERLEAVED:
        for i in range(max(nb, na)):
            if i < nb:
                if not _feed(bids, bid_slots, last - i, &crc, not first):
                    return None
                first = False
            if i < na:
                if not _feed(asks, ask_slots, i, &crc, not first):
                    return None
                first = False
    else:
        raise ValueError(f"join={join!r}: the compiled checksum knows {ASKS_BIDS!r} and "
                         f"{INTERLEAVED!r}")
    crc ^= 0xFFFFFFFF
    if signed and crc >= 0x80000000:
        return <long long>crc - 0x100000000
    return crc


def pieces_in_step(BookSide side):
    """Whether each of ``side``'s pieces by slot is the piece ``fields`` holds for the price
    at that slot, or None (no piece: the checksum then reads ``fields``, as the pure book
    does, which keeps a piece that ``update`` without text deleted the level of). Tests."""
    if not side._track:
        return True
    if not side._aligned:
        return False
    if len(side._pieces) != len(side.prices):
        return False
    fields = side.fields
    return all(a is None or a == fields.get(p) for a, p in zip(side._pieces, side.prices))


cdef inline bint _json_number(const char* s, Py_ssize_t n):
    """``s`` is the JSON number grammar, whole: -?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"""
    cdef Py_ssize_t i = 0, start
    if i < n and s[i] == 45:  # '-'
        i += 1
    if i >= n:
        return False
    if s[i] == 48:  # '0'
        i += 1
    elif 49 <= s[i] <= 57:
        while i < n and 48 <= s[i] <= 57:
            i += 1
    else:
        return False
    if i < n and s[i] == 46:  # '.'
        i += 1
        start = i
        while i < n and 48 <= s[i] <= 57:
            i += 1
        if i == start:
            return False
    if i < n and (s[i] == 101 or s[i] == 69):  # 'e' 'E'
        i += 1
        if i < n and (s[i] == 43 or s[i] == 45):  # '+' '-'
            i += 1
        start = i
        while i < n and 48 <= s[i] <= 57:
            i += 1
        if i == start:
            return False
    return i == n


# 10 ** k, exact as doubles, for k = 0..22 (10 ** 23 is not).
cdef double _TENS[23]
_TENS[:] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
            1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
cdef unsigned long long _EXACT = 1ULL << 53  # every integer up to it is a double


cdef inline bint _grammar_double(const char* s, Py_ssize_t n, double* out):
    """``s[:n]``, already checked to be the JSON number grammar, as the float ``float()``
    reads from it, into ``out``; False when that float is not finite.

    Most market numbers have few digits: their digits D (without the point) as an integer
    are below 2 ** 53 and the decimal exponent E is within 22 of 0, so D and 10 ** |E| are
    exact doubles and one multiplication or division rounds once, to the nearest double:
    float()'s answer (Clinger's fast path). Any other number goes to float()'s own
    conversion (PyOS_string_to_double). The text must end at ``n`` with a character no
    number has (a delimiter, or the end)."""
    cdef Py_ssize_t i = 0
    cdef bint negative = False, exponent_negative = False
    cdef unsigned long long digits = 0
    cdef int significant = 0, scale = 0, exponent = 0, exponent_digits = 0
    cdef char* stop = NULL
    cdef double number
    if s[0] == 45:  # '-'
        negative = True
        i = 1
    while i < n and 48 <= s[i] <= 57:
        digits = digits * 10 + <unsigned long long>(s[i] - 48)
        if digits:
            significant += 1
        i += 1
    if i < n and s[i] == 46:  # '.'
        i += 1
        while i < n and 48 <= s[i] <= 57:
            digits = digits * 10 + <unsigned long long>(s[i] - 48)
            if digits:
                significant += 1
            scale -= 1
            i += 1
    if i < n:  # 'e' or 'E': the grammar leaves nothing else
        i += 1
        if s[i] == 45 or s[i] == 43:
            exponent_negative = s[i] == 45
            i += 1
        while i < n:
            if exponent_digits < 4:
                exponent = exponent * 10 + (s[i] - 48)
            exponent_digits += 1
            i += 1
    if digits == 0 and significant == 0:
        out[0] = -0.0 if negative else 0.0
        return True
    scale += -exponent if exponent_negative else exponent
    if significant <= 16 and digits <= _EXACT and exponent_digits <= 3 and -22 <= scale <= 22:
        number = <double>digits
        number = number * _TENS[scale] if scale >= 0 else number / _TENS[-scale]
        out[0] = -number if negative else number
        return True
    number = PyOS_string_to_double(s, &stop, NULL)  # float()'s own conversion
    if stop != s + n or not isfinite(number):
        return False
    out[0] = number
    return True


cdef object _read_text(object value):
    cdef Py_ssize_t n
    cdef const char* data
    cdef double number
    if not PyUnicode_IS_ASCII(value):
        return None  # the grammar is ASCII
    data = PyUnicode_AsUTF8AndSize(value, &n)
    if not _json_number(data, n) or not _grammar_double(data, n, &number):
        return None
    return number


def read_number(value):
    """``arb_venues.common.levels.read_number`` (the reference) in C: ``value`` (a JSON
    number, or the text or bytes of one) as a float; None when it is not a number in the JSON
    grammar, or not finite."""
    cdef double number
    if type(value) is str:
        return _read_text(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        return number if isfinite(number) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    return _read_text(value)


include "_native_book.pxi"
include "_native_frames.pxi"
