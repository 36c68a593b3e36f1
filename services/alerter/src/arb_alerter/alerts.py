"""What an alert is, and its one JSON form (the webhook body; the log's fields)."""

from __future__ import annotations

import datetime as dt
import enum
import time
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """``key`` identifies the condition: the same key is the same alert (de-duplicated)."""

    rule: str
    key: str
    severity: Severity
    title: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    ts: int = field(default_factory=time.time_ns)

    def as_json(self) -> dict[str, Any]:
        moment = dt.datetime.fromtimestamp(self.ts / 1e9, tz=dt.UTC)
        return {
            "source": "cexarb",
            "rule": self.rule,
            "key": self.key,
            "severity": self.severity.value,
            "title": self.title,
            "text": self.text,
            "fields": self.fields,
            "ts": self.ts,
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def as_text(self) -> str:
        return f"[{self.severity.value.upper()}] {self.title}\n{self.text}"
