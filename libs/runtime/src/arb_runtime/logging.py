"""Structured logs on stderr, one line per record, in one of two forms (``ARB_LOG_FORMAT``):

- ``json`` (default): one JSON object per line with ``ts``, ``level``, ``service``,
  ``logger``, ``msg`` and every field passed as ``extra={...}`` as its own key (``venue``,
  ``symbol``, ``opportunity_id``, ``client_order_id``, ...), so an operator filters with
  ``jq 'select(.venue == "okx")'``. A traceback is one field, ``exc`` (with ``exc_type``),
  so a line stays a line.
- ``console``: for people, ``12:30:00.123 INFO  executor arb.executor: msg key=value ...``
  with the traceback below it; coloured only when stderr is a terminal and ``NO_COLOR`` is
  not set (https://no-color.org).

Secrets are kept out by the redaction filter every handler carries
(arb_runtime.redact.RedactingFilter), not by these formatters: the two stay apart so either
can change alone.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import IO, Any

from arb_runtime.redact import RedactingFilter

LOG_FORMATS = ("json", "console")

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_LEVEL_COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m",
                  "ERROR": "\x1b[31m", "CRITICAL": "\x1b[1;31m"}  # fmt: skip
_KEY_COLOUR = "\x1b[36m"
_RESET = "\x1b[0m"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with ``extra={...}`` (and nothing logging adds itself)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RESERVED and not key.startswith("_")
    }


def _plain(value: Any) -> Any:
    """A JSON-ready value: numbers, text, booleans, None, lists and maps of them; else text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def traceback_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback: the text a filter already left in ``exc_text`` (a redacted
    one), else the formatted exception."""
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else ""


def _utc(record: logging.LogRecord, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(record.created)) + f".{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc(record, "%Y-%m-%dT%H:%M:%S") + "Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, _plain(value))
        if record.exc_info or record.exc_text:
            kind = record.exc_info[0] if record.exc_info else None
            entry["exc_type"] = kind.__name__ if kind else ""
            entry["exc"] = traceback_text(self, record)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, separators=(",", ":"), default=str)


def _console_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(_plain(value), default=str)
    if not text or any(c.isspace() for c in text) or '"' in text or "=" in text:
        return json.dumps(text)
    return text


class ConsoleFormatter(logging.Formatter):
    def __init__(self, service: str, *, colour: bool) -> None:
        super().__init__()
        self.service = service
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        level = f"{record.levelname:<7}"
        fields = " ".join(
            (f"{_KEY_COLOUR}{key}{_RESET}=" if self.colour else f"{key}=") + _console_value(value)
            for key, value in extra_fields(record).items()
        )
        if self.colour:
            level = f"{_LEVEL_COLOURS.get(record.levelname, '')}{level}{_RESET}"
        line = f"{_utc(record, '%H:%M:%S')} {level} {self.service} {record.name}: "
        line += record.getMessage() + (f"  {fields}" if fields else "")
        if record.exc_info or record.exc_text:
            line += "\n" + traceback_text(self, record)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def wants_colour(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything non-empty."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_formatter(service: str, log_format: str, stream: IO[str]) -> logging.Formatter:
    if log_format == "console":
        return ConsoleFormatter(service, colour=wants_colour(stream))
    if log_format == "json":
        return JsonFormatter(service)
    raise ValueError(f"log format {log_format!r}: choose one of {', '.join(LOG_FORMATS)}")


def setup_logging(service: str, level: str = "INFO", log_format: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(service, log_format, sys.stderr))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("arb") else f"arb.{name}")
