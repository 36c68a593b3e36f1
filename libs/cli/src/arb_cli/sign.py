"""arb sign: exactly what the live client would send for one request (signature, headers)."""

from __future__ import annotations

import argparse
import time

from arb_runtime.errors import ConfigError
from arb_venues import get_venue
from arb_venues.base import Credentials, SignRequest
from pydantic import SecretStr

from arb_cli.common import print_json


def run(args: argparse.Namespace) -> int:
    try:
        spec = get_venue(args.venue)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if spec.sign is None:
        raise ConfigError(f"{args.venue}: no private API signing implemented")
    credentials = Credentials(
        api_key=args.key, secret=SecretStr(args.secret),
        passphrase=SecretStr(args.passphrase) if args.passphrase is not None else None,
    )  # fmt: skip
    request = SignRequest(
        method=args.method.upper(), path=args.path, query=args.query, body=args.body,
        timestamp_ms=args.timestamp or int(time.time() * 1000),
    )  # fmt: skip
    signed = spec.sign(credentials, request)
    if args.json:
        out: dict[str, object] = {"signature": signed.signature}
        if signed.headers:
            out["headers"] = signed.headers
        if signed.params:
            out["params"] = signed.params
        if signed.query:
            out["query"] = signed.query
        print_json(out)
        return 0
    print(f"signature: {signed.signature}")
    for name, value in signed.headers.items():
        print(f"header  {name}: {value}")
    for name, value in signed.params.items():
        print(f"param   {name}={value}")
    if signed.query:
        print(f"query   {signed.query}")
    return 0
