# Included by _native.pyx: whole-frame readers for two common JSON frame shapes, for the
# venue parsers' hot paths. They know shapes, not venues: a venue's parser says what the
# parts mean and checks its rules itself, or passes a reader the bounds to check.
#
# A reader accepts only the exact shape it names, in plain ASCII JSON with no spaces, every
# number in the JSON grammar and finite, every string without escapes. For any other text it
# returns None and reads nothing into the caller's state: the caller then reads the frame its
# own (reference) way, which says what is wrong with it. So these readers never raise for a
# frame's content.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

# PyUnicode_New, PyUnicode_DATA and memcpy: declared in _native.pyx, which includes this file.
cdef extern from "Python.h":
    object PyUnicode_FromOrdinal(int)
from libc.string cimport memcmp

cdef double _INF = float("inf")


cdef inline bint _frame_text(object raw, const char** data, Py_ssize_t* size):
    """The bytes of ``raw`` (str of ASCII only, or bytes); False for anything else."""
    if type(raw) is str:
        if not PyUnicode_IS_ASCII(raw):
            return False
        data[0] = PyUnicode_AsUTF8AndSize(raw, size)
        return True
    if type(raw) is bytes:
        data[0] = PyBytes_AS_STRING(raw)
        size[0] = PyBytes_GET_SIZE(raw)
        return True
    return False


cdef inline Py_ssize_t _number_end(const char* s, Py_ssize_t i, Py_ssize_t n):
    """Where the number token starting at ``i`` ends (its characters, not its grammar)."""
    cdef char c
    while i < n:
        c = s[i]
        if not (48 <= c <= 57 or c == 45 or c == 43 or c == 46 or c == 101 or c == 69):
            break
        i += 1
    return i


cdef inline bint _number(const char* s, Py_ssize_t start, Py_ssize_t end, double* out):
    """``s[start:end]`` is a JSON number whose float is finite; that float into ``out``."""
    if end <= start or not _json_number(s + start, end - start):
        return False
    return _grammar_double(s + start, end - start, out)


cdef inline Py_ssize_t _int(const char* s, Py_ssize_t i, Py_ssize_t n, long long* out):
    """An integer ``0|-?[1-9][0-9]{0,17}`` at ``i``; where it ends, or -1."""
    cdef bint negative = False
    cdef long long value = 0
    cdef Py_ssize_t start
    if i < n and s[i] == 45:  # '-'
        negative = True
        i += 1
    if i >= n or not 48 <= s[i] <= 57:
        return -1
    if s[i] == 48:  # '0': alone, and not "-0"
        if negative:
            return -1
        i += 1
        if i < n and 48 <= s[i] <= 57:
            return -1
        out[0] = 0
        return i
    start = i
    while i < n and 48 <= s[i] <= 57:
        if i - start >= 18:
            return -1
        value = value * 10 + (s[i] - 48)
        i += 1
    out[0] = -value if negative else value
    return i


cdef inline Py_ssize_t _string_end(const char* s, Py_ssize_t i, Py_ssize_t n):
    """``s[i]`` opens a string of printable ASCII without escapes: the index of its closing
    quote, or -1."""
    cdef char c
    if i >= n or s[i] != 34:  # '"'
        return -1
    i += 1
    while i < n:
        c = s[i]
        if c == 34:
            return i
        if c == 92 or c < 32 or c > 126:  # a backslash, a control or a non-ASCII byte
            return -1
        i += 1
    return -1


cdef inline Py_ssize_t _digits_end(const char* s, Py_ssize_t i, Py_ssize_t n,
                                   long long* out):
    """``s[i]`` opens a string of 1 to 18 decimal digits: the index of its closing quote, its
    value into ``out``; or -1."""
    cdef long long value = 0
    cdef Py_ssize_t start
    if i >= n or s[i] != 34:  # '"'
        return -1
    i += 1
    start = i
    while i < n and 48 <= s[i] <= 57:
        value = value * 10 + (s[i] - 48)
        i += 1
    if i == start or i - start > 18 or i >= n or s[i] != 34:
        return -1
    out[0] = value
    return i


cdef inline object _ascii(const char* s, Py_ssize_t size):
    """A str of ``s[:size]``, which is ASCII (the readers check that first): one copy, no
    UTF-8 decoding. One character: CPython's shared object for it."""
    cdef object text
    if size == 1:
        return PyUnicode_FromOrdinal(s[0])
    text = PyUnicode_New(size, 127)
    memcpy(PyUnicode_DATA(text), s, size)
    return text


def int_level_frame(raw, double price_max, double size_max):
    """``[INT,[PRICE,COUNT,AMOUNT]]`` or ``[INT,[PRICE,COUNT,AMOUNT],INT]``, exactly (no
    spaces), PRICE and AMOUNT numbers, COUNT an int: ``(int, level, texts, positive, int or
    None)``. ``level`` is (price, size) as floats: size is the absolute AMOUNT, or 0.0 when
    COUNT is 0 (no orders left at the price). ``texts`` is (PRICE's text, AMOUNT's text);
    ``positive`` is AMOUNT > 0. The last int is the one after the level, if any.

    The caller gives the bounds: None unless ``0 < price < price_max``, AMOUNT is not 0,
    ``abs(AMOUNT) < size_max`` and COUNT >= 0. None for any other text too."""
    cdef const char* s
    cdef Py_ssize_t n, i, p0, p1, a0, a1
    cdef long long first, count, last
    cdef double price, amount, size
    if not _frame_text(raw, &s, &n) or n < 2 or s[0] != 91:  # '['
        return None
    i = _int(s, 1, n, &first)
    if i < 0 or i + 1 >= n or s[i] != 44 or s[i + 1] != 91:  # ",["
        return None
    p0 = i + 2
    p1 = _number_end(s, p0, n)
    if p1 >= n or s[p1] != 44 or not _number(s, p0, p1, &price):
        return None
    if not (0.0 < price < price_max):
        return None
    i = _int(s, p1 + 1, n, &count)
    if i < 0 or i >= n or s[i] != 44 or count < 0:
        return None
    a0 = i + 1
    a1 = _number_end(s, a0, n)
    if a1 >= n or s[a1] != 93 or not _number(s, a0, a1, &amount):  # ']'
        return None
    size = -amount if amount < 0.0 else amount
    if not (0.0 < size < size_max):
        return None
    i = a1 + 1
    if i + 1 == n and s[i] == 93:
        tail = None
    elif i < n and s[i] == 44:
        i = _int(s, i + 1, n, &last)
        if i < 0 or i + 1 != n or s[i] != 93:
            return None
        tail = last
    else:
        return None
    return (first, (price, size if count else 0.0),
            (_ascii(s + p0, p1 - p0),
             _ascii(s + a0, a1 - a0)),
            amount > 0.0, tail)


cdef struct _Rows:
    # The caller's bounds: 0 < price < price_max, 0 <= size < size_max, 0 <= stamp < stamp_max.
    double price_max
    double size_max
    double stamp_max
    # What the rows read so far had: a size of 0, the highest stamp (0.0 with none).
    bint zero
    double stamp_high
    # The last stamp read (its text and value): a frame's levels mostly share one stamp.
    const char* stamp_text
    Py_ssize_t stamp_size
    double stamp


cdef Py_ssize_t _rows(const char* s, Py_ssize_t i, Py_ssize_t n, list levels, list texts,
                      _Rows* r) except -2:
    """``s[i]`` opens ``[[STR,STR(,STR(,STR)?)?],...]``; each row's first two strings (and a
    third) are numbers within ``r``'s bounds. Appends each row's (first, second) floats to
    ``levels`` and their texts to ``texts``, notes a size 0 and the highest stamp in ``r``;
    where the array ends, or -1."""
    cdef double price, size, stamp
    cdef Py_ssize_t p0, p1, s0, s1, e, column
    if i >= n or s[i] != 91:
        return -1
    i += 1
    if i < n and s[i] == 93:  # []
        return i + 1
    while True:
        if i >= n or s[i] != 91:
            return -1
        p0 = i + 2
        p1 = _string_end(s, i + 1, n)
        if p1 < 0 or not _number(s, p0, p1, &price) or not (0.0 < price < r.price_max):
            return -1
        if p1 + 1 >= n or s[p1 + 1] != 44:
            return -1
        s0 = p1 + 3
        s1 = _string_end(s, p1 + 2, n)
        if s1 < 0 or not _number(s, s0, s1, &size) or not (0.0 <= size < r.size_max):
            return -1
        if size == 0.0:
            r.zero = True
        i = s1 + 1
        column = 2
        while i < n and s[i] == 44:  # the stamp, then one more string (Kraken's "r")
            if column >= 4:
                return -1
            e = _string_end(s, i + 1, n)
            if e < 0:
                return -1
            if column == 2:
                if (e - i - 2 == r.stamp_size
                        and memcmp(s + i + 2, r.stamp_text, r.stamp_size) == 0):
                    stamp = r.stamp  # the same text as the last stamp: the same number
                elif not _number(s, i + 2, e, &stamp) or not (0.0 <= stamp < r.stamp_max):
                    return -1
                else:
                    r.stamp_text, r.stamp_size, r.stamp = s + i + 2, e - i - 2, stamp
                if stamp > r.stamp_high:
                    r.stamp_high = stamp
            column += 1
            i = e + 1
        if i >= n or s[i] != 93:
            return -1
        i += 1
        levels.append((price, size))
        texts.append((_ascii(s + p0, p1 - p0), _ascii(s + s0, s1 - s0)))
        if i < n and s[i] == 44:
            i += 1
            continue
        if i < n and s[i] == 93:
            return i + 1
        return -1


def rows_frame(raw, dict row_keys, dict digit_keys, double price_max, double size_max,
               double stamp_max):
    """``[INT,OBJECT,...,STRING,STRING]``, exactly (no spaces). Each object maps keys of
    ``row_keys`` to rows (``[[STR,STR(,STR(,STR)?)?],...]``, the first two strings and a third
    numbers) and keys of ``digit_keys`` to a string of 1 to 18 decimal digits (at most once in
    the frame). Each key's value is the slot (0, 1, ...) its rows or its digits go to; rows of
    one slot are kept in frame order. Every row within the caller's bounds:
    ``0 < first < price_max``, ``0 <= second < size_max``, ``0 <= third < stamp_max``.

    Gives ``(int, str, str, seen, levels, texts, digits, zero, stamp)``: the first int, the
    two last strings, a bit per row slot that had a key (1 << slot), per row slot the (first,
    second) floats and their texts, per digit slot the int its digits spell or None, whether
    a second number is 0, and the highest third number (0.0 with none). None for any other
    text, another key, a number out of the bounds or a digit string that is not one
    included."""
    cdef const char* s
    cdef Py_ssize_t n, i, k1, v1, slot
    cdef long long first
    cdef long long seen = 0, in_object
    cdef PyObject* found
    cdef list levels = [[] for _ in range(len(row_keys))]
    cdef list texts = [[] for _ in range(len(row_keys))]
    cdef list ints = [None] * len(digit_keys)
    cdef long long digits
    cdef _Rows r
    r.price_max, r.size_max, r.stamp_max = price_max, size_max, stamp_max
    r.zero, r.stamp_high = False, 0.0
    r.stamp_text, r.stamp_size, r.stamp = NULL, -1, 0.0
    if not _frame_text(raw, &s, &n) or n < 2 or s[0] != 91:
        return None
    i = _int(s, 1, n, &first)
    if i < 0 or i + 1 >= n or s[i] != 44 or s[i + 1] != 123:  # ",{"
        return None
    i += 1
    while i < n and s[i] == 123:  # '{'
        i += 1
        in_object = 0
        while True:
            k1 = _string_end(s, i, n)
            if k1 < 0 or k1 + 1 >= n or s[k1 + 1] != 58:  # ':'
                return None
            key = _ascii(s + i + 1, k1 - i - 1)
            i = k1 + 2
            found = PyDict_GetItem(row_keys, key)
            if found is not NULL:
                slot = <object>found
                if slot < 0 or slot >= len(levels) or slot >= 62 or in_object & (1LL << slot):
                    return None  # a key twice in one object included
                i = _rows(s, i, n, levels[slot], texts[slot], &r)
                if i < 0:
                    return None
                in_object |= 1LL << slot
                seen |= 1LL << slot
            else:
                found = PyDict_GetItem(digit_keys, key)
                if found is NULL:
                    return None
                slot = <object>found
                if slot < 0 or slot >= len(ints):
                    return None
                v1 = _digits_end(s, i, n, &digits)
                if v1 < 0 or ints[slot] is not None:
                    return None
                ints[slot] = digits
                i = v1 + 1
            if i < n and s[i] == 44:
                i += 1
                continue
            if i < n and s[i] == 125:  # '}'
                i += 1
                break
            return None
        if i >= n or s[i] != 44:
            return None
        i += 1
    v1 = _string_end(s, i, n)  # the two strings at the end
    if v1 < 0 or v1 + 1 >= n or s[v1 + 1] != 44:
        return None
    channel = _ascii(s + i + 1, v1 - i - 1)
    i = v1 + 2
    v1 = _string_end(s, i, n)
    if v1 < 0 or v1 + 2 != n or s[v1 + 1] != 93:
        return None
    return (first, channel, _ascii(s + i + 1, v1 - i - 1), seen, levels, texts, ints,
            r.zero, r.stamp_high)


def signed_levels_frame(raw):
    """``[INT,[[NUMBER,INT,NUMBER],...]]`` or ``[INT,[[NUMBER,INT,NUMBER],...],INT]``, exactly
    (no spaces), its rows split by the sign of their last number: ``(int, positive levels,
    negative levels, positive texts, negative texts, int or None, lowest first number, highest
    first number, lowest inner int, highest absolute last number, whether a last number is
    0)``. A level is (first number, absolute last number) as floats; its texts are the two
    numbers' texts. A row whose last number is 0 goes to neither side. None for any other
    text."""
    cdef const char* s
    cdef Py_ssize_t n, i, p0, p1, a0, a1
    cdef long long first, count, last
    cdef long long lo_count = 0x7FFFFFFFFFFFFFFF
    cdef double price, amount, size
    cdef double lo_p = _INF, hi_p = -_INF, hi_a = -_INF
    cdef bint zero = False
    cdef list plus = [], minus = [], plus_text = [], minus_text = []
    if not _frame_text(raw, &s, &n) or n < 2 or s[0] != 91:  # '['
        return None
    i = _int(s, 1, n, &first)
    if i < 0 or i + 1 >= n or s[i] != 44 or s[i + 1] != 91:  # ",["
        return None
    i += 2
    if i < n and s[i] == 93:  # no rows
        i += 1
    else:
        while True:
            if i >= n or s[i] != 91:
                return None
            p0 = i + 1
            p1 = _number_end(s, p0, n)
            if p1 >= n or s[p1] != 44 or not _number(s, p0, p1, &price):
                return None
            i = _int(s, p1 + 1, n, &count)
            if i < 0 or i >= n or s[i] != 44:
                return None
            a0 = i + 1
            a1 = _number_end(s, a0, n)
            if a1 >= n or s[a1] != 93 or not _number(s, a0, a1, &amount):
                return None
            size = -amount if amount < 0.0 else amount
            if amount > 0.0:
                plus.append((price, size))
                plus_text.append((_ascii(s + p0, p1 - p0),
                                  _ascii(s + a0, a1 - a0)))
            elif amount < 0.0:
                minus.append((price, size))
                minus_text.append((_ascii(s + p0, p1 - p0),
                                   _ascii(s + a0, a1 - a0)))
            else:
                zero = True
            if price < lo_p:
                lo_p = price
            if price > hi_p:
                hi_p = price
            if count < lo_count:
                lo_count = count
            if size > hi_a:
                hi_a = size
            i = a1 + 1
            if i < n and s[i] == 44 and i + 1 < n and s[i + 1] == 91:
                i += 1
                continue
            if i < n and s[i] == 93:
                i += 1
                break
            return None
    if i + 1 == n and s[i] == 93:
        tail = None
    elif i < n and s[i] == 44:
        i = _int(s, i + 1, n, &last)
        if i < 0 or i + 1 != n or s[i] != 93:
            return None
        tail = last
    else:
        return None
    return (first, plus, minus, plus_text, minus_text, tail, lo_p, hi_p, lo_count, hi_a, zero)


def int_word_frame(raw):
    """``[INT,"WORD"]`` followed by up to two more ints (``[INT,"WORD",INT,INT]``), exactly
    (no spaces; the word printable ASCII without escapes): ``(int, word, (int, ...))``. None
    for any other text."""
    cdef const char* s
    cdef Py_ssize_t n, i, w1
    cdef long long first, value
    cdef list ints = []
    if not _frame_text(raw, &s, &n) or n < 2 or s[0] != 91:  # '['
        return None
    i = _int(s, 1, n, &first)
    if i < 0 or i >= n or s[i] != 44:
        return None
    w1 = _string_end(s, i + 1, n)
    if w1 < 0:
        return None
    word = _ascii(s + i + 2, w1 - i - 2)
    i = w1 + 1
    while i < n and s[i] == 44 and len(ints) < 2:
        i = _int(s, i + 1, n, &value)
        if i < 0:
            return None
        ints.append(value)
    if i + 1 != n or s[i] != 93:
        return None
    return (first, word, tuple(ints))
