"""The shared adapter contract, driven by the docs' own example messages (no recording of
Crypto.com exists here): https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html
("book.{instrument_name}.{depth}", "Websocket Heartbeats", "Response Format")."""

from __future__ import annotations

import pytest

from tests.unit.venues.contract import AdapterContract, ContractCase, RecordedFrame
from tests.unit.venues.cryptocom.instruments import (
    BTC,
    DOC_EMPTY_UPDATE,
    DOC_HEARTBEAT,
    DOC_SNAPSHOT,
    DOC_UPDATE,
    DOC_UPDATE_2,
)

pytestmark = pytest.mark.unit

CASE = ContractCase(
    venue="cryptocom",
    symbol="BTC-USDT",
    instrument=BTC,
    snapshot=RecordedFrame("ws", DOC_SNAPSHOT),
    deltas=[RecordedFrame("ws", f) for f in (DOC_UPDATE, DOC_UPDATE_2, DOC_EMPTY_UPDATE)],
    control_frames=[
        '{"id":1,"method":"subscribe","code":0}',
        '{"id":2,"method":"unsubscribe","code":0}',
        '{"id":1725448572836,"method":"unsubscribe","code":0}',
        # another channel on the same connection: trades carry other data
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"trade.BTC_USDT","channel":"trade","data":[{"d":"2030407068",'
        '"t":1613581138462,"p":"51327.500000","q":"0.000100","s":"SELL","i":"BTC_USDT"}]}}',
    ],
    malformed_frames=[
        # a book push without u, with a bad level, with u <= pu, a crossed snapshot, no data
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
        '"update":{"asks":[],"bids":[]},"t":1}]}}',
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
        '"update":{"asks":[["NaN","1","1"]],"bids":[]},"t":1,"u":9,"pu":8}]}}',
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
        '"update":{},"t":1,"u":8,"pu":9}]}}',
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"book.BTC_USDT.50","channel":"book","depth":50,"data":[{'
        '"asks":[["43755.46","1","1"]],"bids":[["43760.00","1","1"]],"t":1,"u":9}]}}',
        '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
        '"subscription":"book.BTC_USDT.50","channel":"book","depth":50,"data":[]}}',
        # the docs' error answer to a bad subscribe
        '{"id":0,"code":10004,"method":"subscribe","message":"invalid channel"}',
        "[1,2]",
        "{}",
    ],
)


class TestContract(AdapterContract):
    case = CASE


def test_docs_heartbeat_is_answered_with_its_id() -> None:
    from arb_venues.common.symbols import SymbolMap
    from arb_venues.cryptocom.parser import CryptocomParser

    parser = CryptocomParser(SymbolMap([BTC]))
    assert parser.parse_ws(DOC_HEARTBEAT, 1) == []
    assert parser.replies == ['{"id":1587523073344,"method":"public/respond-heartbeat"}']
