"""Which alerts go out (pure; time is passed in): one per key per window, and at most N per
minute in all, the rest counted and summed up in one alert once the limit allows."""

from __future__ import annotations

from dataclasses import dataclass, field

from arb_alerter.alerts import Alert, Severity


@dataclass
class Deduplicator:
    """An alert whose key was sent less than ``window_s`` ago is a duplicate."""

    window_s: float
    sent: dict[str, float] = field(default_factory=dict)

    def first(self, key: str, now: float) -> bool:
        last = self.sent.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self.sent[key] = now
        if len(self.sent) > 10_000:  # forget the oldest keys, the window long past
            for old in [k for k, t in self.sent.items() if now - t >= self.window_s]:
                del self.sent[old]
        return True


@dataclass
class RateLimiter:
    """A token bucket of ``per_minute`` tokens refilled evenly over a minute."""

    per_minute: int
    tokens: float = -1.0
    updated: float = 0.0
    suppressed: int = 0

    def _token(self, now: float) -> bool:
        """Refill for the time passed; take one token if there is one."""
        if self.tokens < 0:
            self.tokens, self.updated = float(self.per_minute), now
        self.tokens = min(float(self.per_minute),
                          self.tokens + (now - self.updated) * self.per_minute / 60.0)  # fmt: skip
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def take(self, now: float) -> bool:
        if self._token(now):
            return True
        self.suppressed += 1
        return False

    def summary(self, now: float) -> Alert | None:
        """One alert for what was held back, when there is a token for it."""
        if not self.suppressed or not self._token(now):
            return None
        count, self.suppressed = self.suppressed, 0
        return Alert(rule="rate_limited", key=f"rate_limited:{now}", severity=Severity.WARNING,
                     title=f"{count} alert(s) not sent: more than {self.per_minute} a minute",
                     text="See the alerter's log and the dashboard for what happened.",
                     fields={"suppressed": count})  # fmt: skip
