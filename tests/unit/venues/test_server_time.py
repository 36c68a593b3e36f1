"""Every venue's ``read_server_time`` on the response its documentation shows for its time
endpoint (the example body of the page cited per venue, the one its market.py names), read as
integer ns; a body without the field is refused (the caller turns that into MalformedFrame).
Venues that document no time endpoint say so: no ``server_time_path``, and reading raises."""

from __future__ import annotations

import pytest
from arb_venues import VENUE_NAMES, get_venue

MS = 1_000_000
S = 1_000_000_000

# venue -> (doc page, the documented example body, the time it carries in ns)
DOCUMENTED: dict[str, tuple[str, bytes, int]] = {
    "binance": (
        "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints",
        b'{"serverTime": 1499827319559}',
        1499827319559 * MS,
    ),
    "okx": (
        "https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time",
        b'{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}',
        1597026383085 * MS,
    ),
    "bybit": (  # timeNano is the whole ns clock, not a fraction
        "https://bybit-exchange.github.io/docs/v5/market/time",
        b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403",'
        b'"timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}',
        1688639403423213947,
    ),
    "kraken": (  # whole seconds
        "https://docs.kraken.com/api/docs/rest-api/get-server-time",
        b'{"error":[],"result":{"unixtime":1688669448,"rfc1123":"Thu, 06 Jul 23 18:50:48 +0000"}}',
        1688669448 * S,
    ),
    "coinbase": (
        "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-server-time",
        b'{"iso":"2023-05-31T10:48:43.127Z","epochSeconds":"1685530123",'
        b'"epochMillis":"1685530123127"}',
        1685530123127 * MS,
    ),
    "gateio": (
        "https://www.gate.io/docs/developers/apiv4/#get-server-current-time",
        b'{"server_time": 1597026383085}',
        1597026383085 * MS,
    ),
    "kucoin": (
        "https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-server-time",
        b'{"code":"200000","data":1729100692873}',
        1729100692873 * MS,
    ),
    "htx": (
        "https://huobiapi.github.io/docs/spot/v1/en/#get-current-timestamp",
        b'{"status":"ok","data":1629715504949}',
        1629715504949 * MS,
    ),
    "bitget": (  # the time as text under data, beside requestTime
        "https://www.bitget.com/api-doc/common/public/Get-Server-Time",
        b'{"code":"00000","msg":"success","requestTime":1688008631614,'
        b'"data":{"serverTime":"1688008631614"}}',
        1688008631614 * MS,
    ),
    "mexc": (
        "https://mexcdevelop.github.io/apidocs/spot_v3_en/#check-server-time",
        b'{"serverTime": 1645539742000}',
        1645539742000 * MS,
    ),
}
# venue -> why it has none
NO_TIME_ENDPOINT = {
    "bitfinex": "no server-time endpoint; its nonce only has to grow (no clock window)",
    "cryptocom": "no server-time endpoint in the Exchange v1 REST API",
}


def test_every_venue_is_covered() -> None:
    assert set(DOCUMENTED) | set(NO_TIME_ENDPOINT) == set(VENUE_NAMES)
    assert not set(DOCUMENTED) & set(NO_TIME_ENDPOINT)


@pytest.mark.parametrize("venue", sorted(DOCUMENTED))
def test_read_server_time_reads_the_documented_example(venue: str) -> None:
    page, body, want = DOCUMENTED[venue]
    market = get_venue(venue).market
    assert market.server_time_path, f"{venue}: documents {page} but has no server_time_path"
    assert market.read_server_time(body) == want, page


@pytest.mark.parametrize("venue", sorted(DOCUMENTED))
def test_read_server_time_refuses_a_body_without_the_time(venue: str) -> None:
    market = get_venue(venue).market
    for body in (b"{}", b'{"code":"0","data":[]}', b'{"result":{}}'):
        with pytest.raises((KeyError, IndexError, TypeError, ValueError)):
            market.read_server_time(body)


@pytest.mark.parametrize("venue", sorted(NO_TIME_ENDPOINT))
def test_venues_without_a_time_endpoint_say_so(venue: str) -> None:
    market = get_venue(venue).market
    assert market.server_time_path == "", NO_TIME_ENDPOINT[venue]
    with pytest.raises(NotImplementedError):
        market.read_server_time(b'{"serverTime": 1}')
