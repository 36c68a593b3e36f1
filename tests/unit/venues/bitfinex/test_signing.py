"""Bitfinex v2 signing against the docs' recipe and client ids that survive the round trip.

https://docs.bitfinex.com/docs/rest-auth signs the wallets call: apiPath "v2/auth/r/wallets",
nonce = milliseconds x 1000, body {}, signature = HMAC-SHA384 hex of
`/api/${apiPath}${nonce}${JSON.stringify(body)}`. The docs print no result for a fixed key,
so the expected value is computed here from that recipe with hashlib, independently."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from arb_venues.base import Credentials, SignRequest
from arb_venues.bitfinex.signing import next_nonce, sign, verify
from arb_venues.bitfinex.trading import BitfinexTrading, from_cid, to_cid
from arb_venues.common.clientids import is_engine_client_order_id, saga_group, saga_group_of
from arb_venues.errors import BadRequest
from pydantic import SecretStr

pytestmark = pytest.mark.unit

KEY = Credentials("my-api-key", SecretStr("my-api-secret"))


def test_the_docs_wallets_example_signs_path_nonce_and_body() -> None:
    signed = sign(KEY, SignRequest(method="POST", path="/v2/auth/r/wallets", body="{}",
                                   timestamp_ms=1_700_000_000_000))  # fmt: skip
    nonce = "1700000000000000"
    expected = hmac.new(b"my-api-secret", f"/api/v2/auth/r/wallets{nonce}{{}}".encode(),
                        hashlib.sha384).hexdigest()  # fmt: skip
    assert signed.headers["bfx-nonce"] == nonce
    assert signed.headers["bfx-apikey"] == "my-api-key"
    assert signed.headers["bfx-signature"] == expected and len(expected) == 96
    assert verify("my-api-secret", "/v2/auth/r/wallets", nonce, "{}", expected)
    assert not verify("other-secret", "/v2/auth/r/wallets", nonce, "{}", expected)
    assert not verify("my-api-secret", "/v2/auth/r/wallets", nonce, '{"a":1}', expected)


def test_an_order_body_is_signed_exactly_as_sent() -> None:
    body = '{"type":"EXCHANGE IOC","symbol":"tBTCUST","price":"60001","amount":"-0.002"}'
    signed = sign(KEY, SignRequest(method="POST", path="/v2/auth/w/order/submit", body=body))
    nonce = signed.headers["bfx-nonce"]
    assert verify("my-api-secret", "/v2/auth/w/order/submit", nonce, body, signed.signature)


def test_nonces_only_grow() -> None:
    nonces = [int(next_nonce()) for _ in range(1000)]
    assert nonces == sorted(set(nonces))


def test_engine_ids_map_to_int45_cids_and_back_with_their_saga_group() -> None:
    ids = {BitfinexTrading.client_order_id(f"opp-{n}", leg) for n in range(200)
           for leg in ("buy", "sell", "hedge")}  # fmt: skip
    for client_id in ids:
        cid = to_cid(client_id)
        assert 0 < cid < 1 << 45 and from_cid(cid) == client_id
        assert is_engine_client_order_id(client_id)
    one = BitfinexTrading.client_order_id("opp-1", "buy")
    assert (
        saga_group(one)
        == saga_group_of("opp-1")
        == saga_group(BitfinexTrading.client_order_id("opp-1", "sell"))
    )


@pytest.mark.parametrize("client_id", ["manual7", "1618677543829", "x", "007"])
def test_other_clients_ids_round_trip_and_are_never_the_engines(client_id: str) -> None:
    cid = to_cid(client_id)
    assert from_cid(cid) == client_id and not is_engine_client_order_id(from_cid(cid))


def test_an_id_no_cid_can_carry_is_refused_by_name() -> None:
    with pytest.raises(BadRequest, match="UPPER"):
        to_cid("UPPER")
    assert from_cid(None) == "" and from_cid(12) == "12"
