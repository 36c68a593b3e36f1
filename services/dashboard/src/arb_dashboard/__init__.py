"""The dashboard: one aiohttp port serving a page (static assets inside this package, no CDN,
no build step) that the engine's live state is pushed to over a WebSocket, the trade
history and PnL from the recorder's database, and a kill switch guarded by a token."""
