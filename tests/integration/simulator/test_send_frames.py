"""``simapi.send_frames``: several WS messages in one socket write, read back by a real client
(aiohttp's) as the same messages in the same order, at every header length RFC 6455 has
(payloads under 126 bytes, under 64 KiB, and longer), as text and as binary; and, where the
client asked for per-message compression, through aiohttp's own compressing send."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from arb_venues.simapi import send_frames

pytestmark = pytest.mark.integration

TEXTS = ["{}", "x" * 125, "y" * 126, "é" * 300, "z" * 65_535, "v" * 65_536, "w" * 70_000, "end"]


async def _serve(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await send_frames(ws, TEXTS)
    await send_frames(ws, [t.encode() for t in TEXTS], binary=True)
    await ws.close()
    return ws


@pytest.mark.parametrize("compress", [0, 15])
async def test_a_batch_arrives_as_the_same_messages_in_order(compress: int) -> None:
    app = web.Application()
    app.router.add_get("/", _serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.make_url("/"), compress=compress, max_msg_size=0) as ws,
        ):
            texts = [(await ws.receive()) for _ in TEXTS]
            binaries = [(await ws.receive()) for _ in TEXTS]
            closing = await ws.receive()
    finally:
        await server.close()
    assert [m.type for m in texts] == [aiohttp.WSMsgType.TEXT] * len(TEXTS)
    assert [m.data for m in texts] == TEXTS
    assert [m.type for m in binaries] == [aiohttp.WSMsgType.BINARY] * len(TEXTS)
    assert [m.data for m in binaries] == [t.encode() for t in TEXTS]
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
