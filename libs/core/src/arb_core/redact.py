"""Secrets out of every message: signed query strings, URL passwords, credential headers.

    redact("GET https://x/api/v3/order?symbol=BTCUSDT&signature=9f3a")
        -> "GET https://x/api/v3/order?symbol=BTCUSDT&signature=***"
    redact("redis://:hunter2@10.0.0.5:6379/0") -> "redis://:***@10.0.0.5:6379/0"

``redact`` is called where an error text is built from something that may carry a secret (a
request URL, a Redis URL); ``RedactingFilter`` is installed on every log handler by
``setup_logging`` and cleans the rendered message, the traceback and the extra fields of
every record, so a secret that slipped into an exception still never reaches a log line.
A formatter should print ``record.exc_text`` when it is set (the filter puts the cleaned
traceback there), as ``logging.Formatter`` does.

What counts as secret (case-insensitive):
- query or form parameters named signature, sign, api_key/apikey/api-key, secret(_key),
  passphrase, password, token, access_token: the value after ``=``;
- the password part of any ``scheme://user:password@host`` URL (Redis URLs included);
- header-style ``X-Name-Sign: value`` where the name has a dash-separated prefix and ends in
  key/apikey/sign/signature/passphrase/token (X-MBX-APIKEY, OK-ACCESS-SIGN, API-Sign, ...),
  and ``Authorization: [Bearer] value``;
- anything shaped like a JWT (three base64url parts, the first starting ``eyJ``).

Imports only the standard library (the venue library uses it too).
"""

from __future__ import annotations

import logging
import re

MASK = "***"

_PARAMETER = re.compile(
    r"(?i)(?<![\w-])(signature|sign|api[_-]?key|secret(?:[_-]?key)?|passphrase|password|"
    r"(?:access[_-]?)?token)=([^&\s\"',;]+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:@/\s]*):([^@/\s]+)@")
_HEADER = re.compile(
    r"(?i)\b((?:[a-z0-9]+-)+(?:api)?(?:key|sign|signature|passphrase|token)|authorization)"
    r"([\"']?\s*[:=]\s*[\"']?)(bearer\s+)?([^\s\"',;}]+)"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    """``text`` with every secret value replaced by ``***`` (see the module docstring)."""
    if not text:
        return text
    text = _JWT.sub(MASK, text)
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    text = _PARAMETER.sub(rf"\1={MASK}", text)
    return _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{MASK}", text)


_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


class RedactingFilter(logging.Filter):
    """Renders the record's message once and redacts it, its traceback and its extra string
    fields. Install it on handlers (a filter on a logger does not see records of children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself later
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True
