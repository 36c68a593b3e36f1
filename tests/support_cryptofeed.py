"""cryptofeed pointed at the simulator: its feed class for a venue with every REST and WS
endpoint moved to one simulated venue's port (paths kept, as for ccxt in support_clients), and
its synchronous REST reads (the symbol listing its constructor fetches, KuCoin's bullet token)
moved too. Nothing else of the client changes: it loads its instruments, subscribes and keeps
its book as it does against the real venue.

cryptofeed connects only to ``wss://`` addresses and the simulator speaks plain WS, so
``tls_front`` puts a TLS terminator on loopback before it (a certificate made for the test,
which the feed's WS options trust): real TLS, real sockets, the same simulator behind.

cryptofeed's constructor reads the instrument listing with blocking ``requests`` calls, so
``started_feed`` builds the feed in a worker thread while the simulator keeps serving on the
test's event loop; the feed then runs its own connection handlers on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import ipaddress
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support_clients import moved

# The registry's venue → cryptofeed 2.4.1's feed class of it.
CRYPTOFEED_CLASSES = {
    "binance": "Binance",
    "okx": "OKX",
    "bybit": "Bybit",
    "kraken": "Kraken",
    "coinbase": "Coinbase",
    "bitfinex": "Bitfinex",
    "gateio": "Gateio",
    "kucoin": "KuCoin",
    "htx": "Huobi",
    "bitget": "Bitget",
    "cryptocom": "CryptoDotCom",
}


class _MovedSync:
    """cryptofeed's ``HTTPSync`` with every absolute URL moved to ``host``."""

    def __init__(self, inner: Any, host: str) -> None:
        self.inner, self.host = inner, host

    def read(self, address: str, *args: Any, **kwargs: Any) -> Any:
        return self.inner.read(moved(address, self.host), *args, **kwargs)

    def write(self, address: str, *args: Any, **kwargs: Any) -> Any:
        return self.inner.write(moved(address, self.host), *args, **kwargs)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tls_front(target: str) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """A TLS listener on loopback relaying each connection to ``target`` (host:port) in
    plain TCP; yields its host:port and a client context that trusts its certificate."""
    target_host, target_port = target.rsplit(":", 1)
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = _certificate(Path(directory))
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert_path, key_path)
        client_context = ssl.create_default_context(cafile=str(cert_path))
    relays: set[asyncio.Task[Any]] = set()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            writer.close()
            return
        both = asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        relays.add(both)
        try:
            await both
        finally:
            relays.discard(both)

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}", client_context
    finally:
        server.close()
        for task in list(relays):
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)


def _moved_endpoints(endpoints: Any, host: str, tls: ssl.SSLContext | None = None) -> Any:
    """cryptofeed endpoints on ``host``; WS ones as ``wss://`` trusting ``tls``."""
    out = []
    for ep in endpoints:
        address = moved(ep.address, host)
        if tls is None:
            out.append(dataclasses.replace(ep, address=address, sandbox=None))
        else:
            out.append(
                dataclasses.replace(
                    ep,
                    address="wss" + address.removeprefix("ws"),
                    sandbox=None,
                    options={**ep.options, "ssl": tls},
                )
            )
    return out


def feed_class(venue: str, rest_url: str) -> Any:
    """cryptofeed's feed class of ``venue`` with its REST on the simulator at ``rest_url``."""
    from cryptofeed import exchanges
    from cryptofeed.symbols import Symbols

    host = urlsplit(rest_url).netloc
    base = getattr(exchanges, CRYPTOFEED_CLASSES[venue])
    Symbols.clear()  # a listing another test loaded belongs to another simulator
    attrs = {
        "rest_endpoints": _moved_endpoints(base.rest_endpoints, host),
        "http_sync": _MovedSync(base.http_sync, host),
    }
    return type(base.__name__, (base,), attrs)


@contextlib.asynccontextmanager
async def started_feed(venue: str, rest_url: str, symbols: list[str], **options: Any
                       ) -> AsyncIterator[Any]:  # fmt: skip
    """cryptofeed's L2 book feed of ``venue`` on ``symbols``, running on this event loop."""
    from cryptofeed.defines import L2_BOOK

    async with tls_front(urlsplit(rest_url).netloc) as (wss_host, tls):
        cls = feed_class(venue, rest_url)
        feed = await asyncio.to_thread(cls, symbols=symbols, channels=[L2_BOOK], **options)
        # The WS addresses are read when the feed connects; KuCoin's came from its bullet.
        feed.websocket_endpoints = _moved_endpoints(feed.websocket_endpoints, wss_host, tls)
        feed.start(asyncio.get_running_loop())
        try:
            yield feed
        finally:
            feed.stop()
            with contextlib.suppress(Exception):
                await feed.shutdown()
