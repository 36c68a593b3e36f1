"""Each venue's request validity window (how long an unanswered order may still land) is
declared beside the parameter that bounds it, and sent where the venue takes one."""

from __future__ import annotations

import pytest
from arb_venues import get_venue
from arb_venues.binance.trading import RECV_WINDOW_MS as BINANCE_RECV_WINDOW_MS
from arb_venues.bybit.signing import RECV_WINDOW_MS as BYBIT_RECV_WINDOW_MS
from arb_venues.coinbase.signing import LIFETIME_S
from arb_venues.kraken.trading import DEADLINE_S, deadline

pytestmark = pytest.mark.unit


def window(venue: str) -> float:
    trading = get_venue(venue).trading
    assert trading is not None
    return trading.request_window_s


def test_windows_match_the_parameters_sent_with_each_request() -> None:
    assert window("binance") == BINANCE_RECV_WINDOW_MS / 1000 == 5.0
    assert window("bybit") == BYBIT_RECV_WINDOW_MS / 1000 == 5.0
    assert window("okx") == 30.0  # OK-ACCESS-TIMESTAMP expiry
    assert window("coinbase") == LIFETIME_S == 120
    assert window("kraken") == DEADLINE_S + 1


def test_kraken_deadline_is_rfc3339_whole_seconds_within_the_documented_range() -> None:
    # docs example format: 2021-04-01T00:18:45Z; range now + 2 s (older docs 5 s) .. now + 60 s
    assert deadline(1617236320.0) == "2021-04-01T00:18:45Z"
    assert deadline(1617236320.2) == "2021-04-01T00:18:46Z"  # never less than 5 s ahead
    assert 5 <= DEADLINE_S <= 60
