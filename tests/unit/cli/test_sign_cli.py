"""`arb sign VENUE ... --json` through the CLI entry, for every venue, on the docs' examples.

Where a venue's documentation publishes a full vector the CLI must print exactly its
signature; where the docs give only the inputs or the string to sign, the expected value was
computed independently with OpenSSL (shown per test). The unit tests beside each venue's
signing module (tests/unit/venues/<venue>/test_signing.py) pin the same vectors one level down.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from arb_cli.main import main
from arb_venues.coinbase.signing import verify as coinbase_verify

from tests.unit.venues.coinbase.simulated import KEY_NAME, KEY_PEM

pytestmark = pytest.mark.unit


def arb_sign(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["sign", *args])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def arb_sign_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = arb_sign(capsys, *args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


# Binance, "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys":
# https://developers.binance.com/docs/binance-spot-api-docs/rest-api#signed-endpoint-examples-for-post-apiv3order
BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_binance_docs_example_in_the_query(capsys: pytest.CaptureFixture[str]) -> None:
    out = arb_sign_json(capsys, "binance", "--secret", BINANCE_SECRET, "--key", BINANCE_KEY,
                        "--method", "POST", "--path", "/api/v3/order",
                        "--query", BINANCE_QUERY)  # fmt: skip
    assert out["signature"] == BINANCE_SIGNATURE
    assert out["headers"] == {"X-MBX-APIKEY": BINANCE_KEY}
    assert out["params"] == {"signature": BINANCE_SIGNATURE}
    assert out["query"] == f"{BINANCE_QUERY}&signature={BINANCE_SIGNATURE}"


def test_binance_docs_example_in_the_body(capsys: pytest.CaptureFixture[str]) -> None:
    # Same docs page, "Example 2: As a request body": the same parameters, the same signature.
    out = arb_sign_json(capsys, "binance", "--secret", BINANCE_SECRET, "--key", BINANCE_KEY,
                        "--method", "POST", "--path", "/api/v3/order",
                        "--body", BINANCE_QUERY)  # fmt: skip
    assert out["signature"] == BINANCE_SIGNATURE


# Kraken, "Spot REST authentication" examples (buy 1.25 XBTUSD @ 37500):
# https://docs.kraken.com/api/docs/guides/spot-rest-auth
KRAKEN_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
KRAKEN_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
KRAKEN_SIGNATURE = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_kraken_docs_example_nonce_read_from_the_body(capsys: pytest.CaptureFixture[str]) -> None:
    out = arb_sign_json(capsys, "kraken", "--secret", KRAKEN_SECRET, "--key", "my-key",
                        "--method", "POST", "--path", "/0/private/AddOrder",
                        "--body", KRAKEN_BODY)  # fmt: skip
    assert out["signature"] == KRAKEN_SIGNATURE
    assert out["headers"]["API-Sign"] == KRAKEN_SIGNATURE
    assert out["headers"]["API-Key"] == "my-key"


# OKX, "REST Authentication" (https://www.okx.com/docs-v5/en/#overview-rest-authentication)
# gives the secret, the timestamp and the request but no resulting value. Expected, computed
# with: printf '%s' '2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC' |
#   openssl dgst -sha256 -hmac '22582BD0CFF14C41EDBF1AB98506286D' -binary | base64
OKX_SIGNATURE = "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


def test_okx_docs_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    out = arb_sign_json(capsys, "okx", "--secret", "22582BD0CFF14C41EDBF1AB98506286D",
                        "--key", "doc-key", "--passphrase", "doc-pass", "--method", "GET",
                        "--path", "/api/v5/account/balance", "--query", "ccy=BTC",
                        "--timestamp", "1607418537715")  # fmt: skip
    assert out["signature"] == OKX_SIGNATURE
    assert out["headers"]["OK-ACCESS-SIGN"] == OKX_SIGNATURE
    assert out["headers"]["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert out["headers"]["OK-ACCESS-PASSPHRASE"] == "doc-pass"


# Bybit v5, "Create A Request" (https://bybit-exchange.github.io/docs/v5/guide#create-a-request)
# gives the string to sign for its GET example but masks key and signature. With a test
# secret, computed with: printf '%s' \
#   '1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C' |
#   openssl dgst -sha256 -hmac 's3cr3t-for-tests'
BYBIT_SIGNATURE = "b6f75dec4c1cf1192dbd4542ea907ececeb46c200d592257db44f98aee47ab74"


def test_bybit_guide_get_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = arb_sign_json(capsys, "bybit", "--secret", "s3cr3t-for-tests", "--key", "XXXXXXXXXX",
                        "--method", "GET", "--path", "/v5/order/realtime",
                        "--query", "category=option&symbol=BTC-29JUL22-25000-C",
                        "--timestamp", "1658384314791")  # fmt: skip
    assert out["signature"] == BYBIT_SIGNATURE
    assert out["headers"]["X-BAPI-SIGN"] == BYBIT_SIGNATURE
    assert out["headers"]["X-BAPI-TIMESTAMP"] == "1658384314791"
    assert out["headers"]["X-BAPI-RECV-WINDOW"] == "5000"


# Coinbase Advanced Trade signs an ES256 JWT (random ECDSA nonce), so no published vector can
# be reproduced; the docs' example uri ("GET api.coinbase.com/api/v3/brokerage/accounts",
# https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication)
# must be in the token, which must verify with the key's public half.
def test_coinbase_jwt_verifies_and_carries_the_docs_uri(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = arb_sign_json(capsys, "coinbase", "--secret", KEY_PEM, "--key", KEY_NAME,
                        "--method", "GET", "--path", "/api/v3/brokerage/accounts",
                        "--timestamp", "1700000000000")  # fmt: skip
    token = out["signature"]
    assert out["headers"] == {"Authorization": f"Bearer {token}"}
    claims = coinbase_verify(token, KEY_PEM, uri="GET api.coinbase.com/api/v3/brokerage/accounts",
                             now_s=1_700_000_001)  # fmt: skip
    assert claims["sub"] == KEY_NAME and claims["nbf"] == 1_700_000_000


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit", "kraken"])
def test_plain_output_shows_the_signature_and_never_the_secret(
    capsys: pytest.CaptureFixture[str], venue: str
) -> None:
    secret = KRAKEN_SECRET if venue == "kraken" else "a-secret-never-printed"
    body = KRAKEN_BODY if venue == "kraken" else ""
    code, out, err = arb_sign(capsys, venue, "--secret", secret, "--key", "k",
                              "--passphrase", "p", "--method", "POST", "--path", "/x",
                              "--body", body, "--timestamp", "1700000000000")  # fmt: skip
    assert code == 0, err
    assert out.startswith("signature: ")
    assert secret not in out and secret not in err


def test_unknown_venue_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = arb_sign(capsys, "nowhere", "--secret", "s", "--method", "GET", "--path", "/")
    assert code == 2 and "unknown venue 'nowhere'" in err and len(err.strip().splitlines()) == 1
