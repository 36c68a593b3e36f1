"""The one backoff: full jitter under a capped exponential ceiling."""

from __future__ import annotations

import pytest
from arb_runtime.backoff import Backoff

pytestmark = pytest.mark.unit


def test_delays_stay_under_the_capped_exponential_ceiling_and_spread() -> None:
    backoff = Backoff(base_s=0.1, cap_s=2.0)
    assert [backoff.ceiling(n) for n in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    for attempt in range(40):
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= backoff.ceiling(attempt) for d in delays)
        assert len(set(delays)) > 150  # jittered: a fleet does not retry in lockstep


def test_attempts_grow_on_failure_and_reset_on_success() -> None:
    retry = Backoff(base_s=1.0, cap_s=8.0).attempts()
    for _ in range(5):
        retry.next_delay()
    assert retry.attempt == 5
    assert retry.backoff.ceiling(retry.attempt) == 8.0
    retry.reset()
    assert retry.attempt == 0 and retry.next_delay() <= 1.0


def test_a_backoff_that_cannot_grow_is_refused() -> None:
    with pytest.raises(ValueError, match="need 0 < base_s <= cap_s"):
        Backoff(base_s=2.0, cap_s=1.0)
