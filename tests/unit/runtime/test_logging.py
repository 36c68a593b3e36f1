"""Log lines an operator can filter: every extra field a key, tracebacks one field, a console
form for people that is coloured only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import io
import json
import logging
import sys
from decimal import Decimal

import pytest
from arb_runtime.config import ServiceSettings, load_settings, settings_config
from arb_runtime.errors import ConfigError
from arb_runtime.logging import ConsoleFormatter, JsonFormatter, make_formatter

pytestmark = pytest.mark.unit


def record(**extra: object) -> logging.LogRecord:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.getLogger("arb.executor").makeRecord(
            "arb.executor", logging.ERROR, __file__, 1, "order %s failed", ("x",),
            sys.exc_info(), extra=extra,
        )  # fmt: skip
    return rec


def test_json_lines_carry_every_extra_field_and_the_traceback_as_one_field() -> None:
    line = JsonFormatter("executor").format(
        record(
            venue="okx",
            symbol="BTC-USDT",
            opportunity_id="o-1",
            client_order_id="c-1",
            filled=Decimal("0.5"),
            legs=["buy", "sell"],
        )
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "order x failed" and entry["service"] == "executor"
    assert (entry["venue"], entry["symbol"], entry["opportunity_id"], entry["client_order_id"]) \
        == ("okx", "BTC-USDT", "o-1", "c-1")  # fmt: skip
    assert entry["filled"] == "0.5" and entry["legs"] == ["buy", "sell"]
    assert entry["exc_type"] == "ValueError" and "ValueError: boom" in entry["exc"]


def test_console_lines_are_readable_and_coloured_only_on_a_terminal(monkeypatch) -> None:
    plain = ConsoleFormatter("executor", colour=False).format(record(venue="okx", note="a b"))
    first = plain.splitlines()[0]
    assert first.endswith('arb.executor: order x failed  venue=okx note="a b"'), first
    assert "\x1b[" not in plain and "ValueError: boom" in plain

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = make_formatter("executor", "console", Terminal())
    assert "\x1b[" in coloured.format(record(venue="okx"))
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in make_formatter("executor", "console", Terminal()).format(record())
    assert "\x1b[" not in make_formatter("executor", "console", io.StringIO()).format(record())


def test_an_unknown_log_format_is_a_one_line_config_error(monkeypatch) -> None:
    class Settings(ServiceSettings):
        model_config = settings_config("ARB_THING_")

    monkeypatch.setenv("ARB_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match=r"ARB_THING_LOG_FORMAT \(or ARB_LOG_FORMAT\)='xml'"):
        load_settings(Settings)


def test_a_traceback_a_filter_already_rewrote_is_the_one_printed() -> None:
    rec = record()
    rec.exc_text = "Traceback: redacted by a filter"
    assert json.loads(JsonFormatter("x").format(rec))["exc"] == "Traceback: redacted by a filter"
    assert ConsoleFormatter("x", colour=False).format(rec).endswith("redacted by a filter")
