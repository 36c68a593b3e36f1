"""The Coinbase tests' key pair, instruments, and the simulator's market with a known book.

``coinbase_market()`` is the real simulator market (arb_simulator) with two products whose
books the tests set exactly: BTC-USD bids 68900.00 x 1.5, 68899.50 x 0.75; asks 68901.00 x
0.5, 68902.00 x 2; ETH-USD 3500.10 x 3 / 3500.50 x 4. The account KEY_NAME (EC P-256 key
KEY_PEM) holds 100,000 USD, 1 BTC and 0 ETH.
"""

from __future__ import annotations

from decimal import Decimal

from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import Instrument
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

D = Decimal


def new_pem() -> str:
    """A fresh EC P-256 private key in the PEM form CDP keys have."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


KEY_NAME = "organizations/0000-org/apiKeys/1111-key"
KEY_PEM = new_pem()


def instrument(symbol: str, tick: str, lot: str) -> Instrument:
    base, quote = symbol.split("-")
    return Instrument(
        venue="coinbase", symbol=symbol, venue_symbol=symbol, base=base, quote=quote,
        tick_size=tick, lot_size=lot, min_size=lot, min_notional="1",
        price_decimals=len(tick.split(".")[1]) if "." in tick else 0,
        size_decimals=len(lot.split(".")[1]) if "." in lot else 0,
    )  # fmt: skip


def coinbase_market() -> VenueMarket:
    account = Account(KEY_NAME, KEY_PEM, balances={"USD": "100000", "BTC": "1", "ETH": "0"})
    market = venue_market(
        "coinbase",
        instruments=[
            instrument("BTC-USD", "0.01", "0.00000001"),
            instrument("ETH-USD", "0.01", "0.00000001"),
        ],
        accounts=[account],
    )
    market.set_book(
        "BTC-USD",
        bids=[(D("68900.00"), D("1.5")), (D("68899.50"), D("0.75"))],
        asks=[(D("68901.00"), D("0.5")), (D("68902.00"), D("2"))],
    )
    market.set_book("ETH-USD", bids=[(D("3500.10"), D("3"))], asks=[(D("3500.50"), D("4"))])
    return market
