"""Simulated venue accounts: API credentials and exact balances.

Every venue has one default account with known *test* credentials (they open nothing but this
simulator) and generous balances, so the executor and the venue contract tests can trade at
once. Their shape follows the venue's ``VenueSpec.credentials``: a plain HMAC secret, a
base64 one (the HMAC key is the decoded bytes), or an EC P-256 private key in PEM under a key
name (ES256 JWT signing), with a passphrase where the venue has one. Secrets that must be
real key material are derived deterministically from a fixed label, so every process
computes the same ones.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from arb_venues import get_venue
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


def ec_p256_key_pem(label: str) -> str:
    """A deterministic EC P-256 private key (SEC1 PEM, as CDP keys are issued)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    value = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (order - 1) + 1
    key = ec.derive_private_key(value, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _secret(kind: str, venue: str) -> str:
    label = f"cexarb-simulator-{venue}"
    if kind == "ec_p256_pem":
        return ec_p256_key_pem(label)
    if kind == "base64":  # 64 random-looking bytes, base64, like the keys such venues issue
        return base64.b64encode(hashlib.sha512(label.encode()).digest()).decode()
    return f"sim-{venue}-secret"


def default_credentials(venue: str) -> SimCredentials:
    """The default account's credentials of a simulated venue, in its credential format."""
    shape = get_venue(venue).credentials
    return SimCredentials(
        api_key=shape.key_name.format(key=f"sim-{venue}-key", org="sim-org"),
        secret=_secret(shape.secret, venue),
        passphrase=f"sim-{venue}-passphrase" if shape.passphrase else None,
    )
