"""Coinbase Advanced Trade authentication: a CDP API key signs a short-lived ES256 JWT.

https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication
https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication
- the API key name is ``organizations/{org_id}/apiKeys/{key_id}``; the secret is an EC P-256
  private key in PEM ("-----BEGIN EC PRIVATE KEY-----...");
- header {"alg": "ES256", "kid": <key name>, "nonce": <random hex>, "typ": "JWT"};
- claims {"sub": <key name>, "iss": "cdp", "nbf": now, "exp": now + 120,
  "uri": "<METHOD> <host><path>"} - the path without the query string; the WebSocket JWT
  has no "uri" claim;
- sent as ``Authorization: Bearer <jwt>``; a JWT expires after 2 minutes, so every request
  (and every WS subscribe) gets a fresh one.

ES256 signatures are randomised (a new k each time), so there is no fixed test vector: tests
verify with the public key and check that any change to the token fails.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from arb_venues.base import Credentials, Signed, SignRequest
from arb_venues.errors import InvalidSignature

VENUE = "coinbase"
REST_HOST = "api.coinbase.com"
ISSUER = "cdp"
LIFETIME_S = 120  # "Your JWT expires after 2 minutes"
CLOCK_SKEW_S = 5  # what verify() tolerates between the two clocks


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=64)
def load_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The EC P-256 key of a CDP secret; ValueError names what is wrong (never the key)."""
    text = pem.replace("\\n", "\n")  # keys pasted into env vars often carry literal \n
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            "coinbase API secret is not a PEM private key; paste the whole "
            "'-----BEGIN EC PRIVATE KEY-----' block of the CDP key"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("coinbase API secret must be an EC P-256 (ECDSA) key, not Ed25519")
    return key


def public_key_of(pem: str) -> ec.EllipticCurvePublicKey:
    return load_private_key(pem).public_key()


def build_jwt(
    key_name: str,
    private_key_pem: str,
    *,
    uri: str | None,
    now_s: int | None = None,
    nonce: str | None = None,
) -> str:
    """A signed JWT; ``uri`` is "<METHOD> <host><path>" for REST, None for the WebSocket."""
    now = int(time.time()) if now_s is None else now_s
    header = {"alg": "ES256", "kid": key_name, "nonce": nonce or secrets.token_hex(), "typ": "JWT"}
    claims: dict[str, Any] = {"sub": key_name, "iss": ISSUER, "nbf": now,
                              "exp": now + LIFETIME_S}  # fmt: skip
    if uri is not None:
        claims["uri"] = uri
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    der = load_private_key(private_key_pem).sign(
        signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())
    )
    r, s = decode_dss_signature(der)  # JWS wants raw r || s, 32 bytes each (RFC 7518 3.4)
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def rest_uri(method: str, host: str, path: str) -> str:
    """The "uri" claim: method, host and path, no scheme, no query string."""
    return f"{method.upper()} {host}{path.split('?', 1)[0]}"


def sign(credentials: Credentials, request: SignRequest, host: str = REST_HOST) -> Signed:
    """Sign one REST request: ``Authorization: Bearer <jwt>``; the query stays as it is.

    ``host`` is the host (and port, if not the default) of the base URL the request goes to:
    api.coinbase.com in production, 127.0.0.1:<port> against the simulator.
    """
    now = request.timestamp_ms // 1000 if request.timestamp_ms else None
    token = build_jwt(
        credentials.api_key,
        credentials.secret.get_secret_value(),
        uri=rest_uri(request.method, host, request.path),
        now_s=now,
    )
    return Signed(signature=token, headers={"Authorization": f"Bearer {token}"},
                  query=request.query)  # fmt: skip


def ws_jwt(credentials: Credentials, now_s: int | None = None) -> str:
    """The JWT a WebSocket subscribe message carries (no "uri" claim)."""
    return build_jwt(credentials.api_key, credentials.secret.get_secret_value(), uri=None,
                     now_s=now_s)  # fmt: skip


def unverified_key_name(token: str) -> str | None:
    """The "kid" of a JWT without checking it (the server looks the key up by it)."""
    try:
        header = json.loads(_b64url_decode(token.split(".", 1)[0]))
    except (ValueError, binascii.Error):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def verify(
    token: str,
    private_key_pem: str,
    *,
    uri: str | None,
    now_s: float | None = None,
) -> dict[str, Any]:
    """Check a JWT the way Coinbase does (signature, issuer, key name, lifetime, uri).

    The simulator holds each account's private key (``SimMarket.secret_for``) and verifies
    with the public key derived from it. Returns the claims; raises InvalidSignature with the
    reason otherwise. ``uri`` None skips the uri check (WebSocket JWTs carry none).
    """
    now = time.time() if now_s is None else now_s
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidSignature(VENUE, "JWT must have three dot-separated parts", http_status=401)
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        raw = _b64url_decode(parts[2])
    except (ValueError, binascii.Error) as exc:
        raise InvalidSignature(
            VENUE, f"JWT is not base64url JSON: {exc}", http_status=401
        ) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidSignature(VENUE, "JWT header and claims must be objects", http_status=401)
    if header.get("alg") != "ES256" or len(raw) != 64:
        raise InvalidSignature(VENUE, f"JWT alg {header.get('alg')!r}: want ES256", http_status=401)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                     int.from_bytes(raw[32:], "big"))  # fmt: skip
    try:
        public_key_of(private_key_pem).verify(
            signature, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except CryptoInvalidSignature:
        raise InvalidSignature(VENUE, "JWT signature does not verify", http_status=401) from None
    problems = []
    if not header.get("nonce"):
        problems.append("header nonce missing")
    if claims.get("iss") != ISSUER:
        problems.append(f"iss {claims.get('iss')!r} is not 'cdp'")
    if claims.get("sub") != header.get("kid"):
        problems.append("sub and kid differ")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int):
        problems.append("nbf/exp missing")
    else:
        if nbf > now + CLOCK_SKEW_S:
            problems.append(f"not valid before {nbf}")
        if exp <= now - CLOCK_SKEW_S:
            problems.append(f"expired at {exp}")
        if exp - nbf > LIFETIME_S:
            problems.append(f"lifetime {exp - nbf}s exceeds {LIFETIME_S}s")
    if uri is not None and claims.get("uri") != uri:
        problems.append(f"uri {claims.get('uri')!r} is not {uri!r}")
    if problems:
        raise InvalidSignature(VENUE, "JWT refused: " + "; ".join(problems), http_status=401)
    return claims
