"""The shared adapter contract, driven by MEXC's docs: a REST snapshot at the version just
before the docs' example push, the docs' push itself as it travels (protobuf bytes), and the
pushes after it; the docs' subscription and PING replies as control frames."""

from __future__ import annotations

import pytest

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.mexc.helpers import (
    BTC_USDT,
    DOCS_CHANNEL,
    DOCS_VERSION,
    docs_push,
    wire_push,
)

pytestmark = pytest.mark.unit

SNAPSHOT = (
    f'{{"lastUpdateId":{DOCS_VERSION - 1},'
    '"bids":[["92877.58","0.01"],["92877.00","1.5"],["92876.10","0.2"]],'
    '"asks":[["92877.59","0.3"],["92878.00","2"],["92880.25","0.75"]]}'
)
DEPTH_URL = "https://api.mexc.com/api/v3/depth?symbol=BTCUSDT&limit=1000"


def _case() -> ContractCase:
    later = [
        wire_push(DOCS_CHANNEL, "BTCUSDT", DOCS_VERSION + 1, DOCS_VERSION + 3,
                  bids=[("92877.01", "0.4")], asks=[("92877.59", "0")]),
        wire_push(DOCS_CHANNEL, "BTCUSDT", DOCS_VERSION + 4, DOCS_VERSION + 4,
                  asks=[("92877.60", "1.25")]),
    ]  # fmt: skip
    good = (
        '{"channel":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT","symbol":"BTCUSDT",'
        '"sendTime":1736411507002,"publicAggreDepths":{"bids":[{"price":"92877.58",'
        '"quantity":"0.5"}],"eventType":"spot@public.aggre.depth.v3.api.pb@100ms",'
        '"fromVersion":"10589632359","toVersion":"10589632359"}}'
    )
    malformed = [
        good.replace('"fromVersion":"10589632359",', ""),  # no fromVersion
        good.replace('"toVersion":"10589632359"', '"toVersion":"10589632300"'),  # to < from
        good.replace('"92877.58"', '"-1"'),
        good.replace('"92877.58"', '"nan"'),
        good.replace('"0.5"', '"lots"'),
        good.replace('"symbol":"BTCUSDT"', '"symbol":"QQQQQQ"'),  # nobody can normalise it
        '{"channel":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT","symbol":"BTCUSDT"}',
        '{"id":0,"code":1,"msg":"Invalid request"}',
        '{"id":0,"code":0,"msg":"Not Subscribed successfully! [spot@public.x@BTCUSDT]. '
        ' Reason: Blocked! "}',
        '{"foo":1}',
        "[1,2,3]",
        b"\x0a\xff\xff\xff\xff\x0f",  # protobuf that ends inside a field
        b"\x1a\x07BTCUSDT",  # a wrapper without a channel
    ]
    control = [
        '{"id":0,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"}',
        '{"id":0,"code":0,"msg":"PONG"}',
        '{"id":0,"code":0,"msg":"spot@public.increase.depth.v3.api.pb@BTCUSDT"}',
        '{"channel":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT","symbol":"BTCUSDT",'
        '"sendTime":1736409765051}',
    ]
    return ContractCase(
        venue="mexc", symbol="BTC-USDT", instrument=BTC_USDT,
        snapshot=RecordedFrame("rest", SNAPSHOT, DEPTH_URL),
        deltas=[RecordedFrame("ws", f) for f in (docs_push(), *later)],  # type: ignore[arg-type]
        control_frames=control, malformed_frames=malformed,  # type: ignore[arg-type]
    )  # fmt: skip


class TestContract(AdapterContract):
    case = _case()
