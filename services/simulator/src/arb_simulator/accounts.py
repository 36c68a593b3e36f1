"""Simulated venue accounts: API credentials and exact balances.

Every venue has one default account with known *test* credentials (they open nothing but this
simulator) and generous balances, so the executor and the venue contract tests can trade at
once. Coinbase Advanced Trade keys are a key name plus an EC P-256 private key in PEM (ES256
JWT signing); the default one is derived deterministically from a fixed label, so every
process computes the same key.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_BALANCES: dict[str, str] = {
    "USDT": "1000000",
    "BTC": "10",
    "ETH": "200",
    "SOL": "5000",
}


class Account:
    """One API key's balances: asset -> [free, locked], exact."""

    __slots__ = ("api_key", "balances", "passphrase", "secret")

    def __init__(
        self,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        balances: dict[str, str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.passphrase = passphrase
        self.balances: dict[str, list[Decimal]] = {
            asset: [Decimal(amount), Decimal(0)]
            for asset, amount in (balances if balances is not None else DEFAULT_BALANCES).items()
        }

    def __repr__(self) -> str:  # never show secrets
        return f"Account(api_key={self.api_key[:8]}..., assets={sorted(self.balances)})"

    def free(self, asset: str) -> Decimal:
        entry = self.balances.get(asset)
        return entry[0] if entry is not None else Decimal(0)

    def add(self, asset: str, amount: Decimal) -> None:
        self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0] += amount

    def lock(self, asset: str, amount: Decimal) -> None:
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[0] -= amount
        entry[1] += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[0] += amount
        entry[1] -= amount

    def snapshot(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {asset: (free, locked) for asset, (free, locked) in self.balances.items()}


@dataclass(frozen=True, slots=True)
class SimCredentials:
    """Known credentials of a venue's default simulated account (not a real secret)."""

    api_key: str
    secret: str
    passphrase: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"SimCredentials(api_key={self.api_key!r}, secret=**********)"


def coinbase_test_key_pem(label: str = "cexarb-simulator-coinbase") -> str:
    """A deterministic EC P-256 private key (SEC1 PEM, as Coinbase CDP keys are issued)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    value = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (order - 1) + 1
    key = ec.derive_private_key(value, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _kraken_secret() -> str:
    # Kraken secrets are base64; API-Sign is an HMAC-SHA512 keyed with the decoded bytes.
    return base64.b64encode(hashlib.sha512(b"cexarb-simulator-kraken").digest()).decode()


def default_credentials(venue: str) -> SimCredentials:
    """The default account's credentials of a simulated venue."""
    if venue == "coinbase":
        return SimCredentials(
            api_key="organizations/sim-org/apiKeys/sim-coinbase-key",
            secret=coinbase_test_key_pem(),
        )
    if venue == "kraken":
        return SimCredentials(api_key="sim-kraken-key", secret=_kraken_secret())
    if venue == "okx":
        return SimCredentials(
            api_key="sim-okx-key", secret="sim-okx-secret", passphrase="sim-okx-passphrase"
        )
    return SimCredentials(api_key=f"sim-{venue}-key", secret=f"sim-{venue}-secret")
