"""The alerter: rules over the engine's streams and state keys (unhedged or unexplained
exposure, breakers, the kill switch, venues down, the daily loss, restarts), delivered to a
JSON webhook, a Telegram chat and the log, de-duplicated and rate-limited.

It runs on its own, not inside the recorder or the dashboard: the recorder stalls on purpose
while its database is away (back-pressure), which is exactly when an operator must still be
told things; and a dashboard is a view that may not run at all in a headless deployment."""
