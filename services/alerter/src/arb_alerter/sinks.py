"""Where alerts go: a generic JSON webhook, a Telegram chat, the log.

Telegram: the Bot API's ``sendMessage``, ``POST {api}/bot<token>/sendMessage`` with a JSON
body ``{"chat_id": ..., "text": ...}`` (text at most 4096 characters); the answer is JSON
with ``ok`` true, or ``ok`` false with ``error_code``, ``description`` and, on 429,
``parameters.retry_after`` in seconds (https://core.telegram.org/bots/api#making-requests,
https://core.telegram.org/bots/api#sendmessage). The token is part of the URL, so no error
text here ever contains the URL.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import aiohttp

from arb_alerter.alerts import Alert, Severity
from arb_alerter.config import AlerterSettings
from arb_alerter.errors import SinkError

log = logging.getLogger("arb.alerts")

TELEGRAM_TEXT_LIMIT = 4096
_LEVELS = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING,
           Severity.CRITICAL: logging.ERROR}  # fmt: skip


class Sink(Protocol):
    name: str

    async def send(self, alert: Alert) -> None:
        """Deliver, or raise SinkError."""


class LogSink:
    name = "log"

    async def send(self, alert: Alert) -> None:
        log.log(_LEVELS[alert.severity], "ALERT %s: %s", alert.rule, alert.title,
                extra={"alert_rule": alert.rule, "alert_key": alert.key,
                       "alert_text": alert.text, **alert.fields})  # fmt: skip


def _retry_after(response: aiohttp.ClientResponse, body: Any) -> float | None:
    if isinstance(body, dict):
        seconds = (body.get("parameters") or {}).get("retry_after")
        if isinstance(seconds, int | float):
            return float(seconds)
    header = response.headers.get("Retry-After", "")
    return float(header) if header.replace(".", "", 1).isdigit() else None


class WebhookSink:
    """POST the alert's JSON form; any 2xx is delivered."""

    name = "webhook"

    def __init__(self, session: aiohttp.ClientSession, url: str, timeout_s: float) -> None:
        self.session = session
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, alert: Alert) -> None:
        try:
            async with self.session.post(self.url, json=alert.as_json(),
                                         timeout=self.timeout) as response:  # fmt: skip
                if 200 <= response.status < 300:
                    return
                text = (await response.text())[:200]
                raise SinkError(
                    f"webhook ARB_ALERTER_WEBHOOK_URL answered HTTP {response.status}: {text}",
                    retry_after_s=_retry_after(response, None),
                    retryable=response.status == 429 or response.status >= 500,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SinkError(f"webhook ARB_ALERTER_WEBHOOK_URL: {type(exc).__name__}: "
                            f"{_no_url(str(exc), self.url)}") from None  # fmt: skip


def _no_url(text: str, url: str) -> str:
    return text.replace(url, "<url>") if url else text


class TelegramSink:
    name = "telegram"

    def __init__(self, session: aiohttp.ClientSession, api_url: str, token: str, chat_id: str,
                 timeout_s: float) -> None:  # fmt: skip
        self.session = session
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self._token = token
        self.chat_id = chat_id
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    def body(self, alert: Alert) -> dict[str, Any]:
        text = alert.as_text()
        if len(text) > TELEGRAM_TEXT_LIMIT:
            text = text[: TELEGRAM_TEXT_LIMIT - 1] + "…"
        return {"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}

    async def send(self, alert: Alert) -> None:
        try:
            async with self.session.post(self._url, json=self.body(alert),
                                         timeout=self.timeout) as response:  # fmt: skip
                raw = await response.text()
                try:
                    answer = json.loads(raw)
                except ValueError:
                    answer = None
                if response.status == 200 and isinstance(answer, dict) and answer.get("ok"):
                    return
                description = answer.get("description", "") if isinstance(answer, dict) else ""
                hint = " (check ARB_ALERTER_TELEGRAM_BOT_TOKEN)" if response.status == 401 else ""
                raise SinkError(
                    f"telegram sendMessage to chat {self.chat_id}: HTTP {response.status} "
                    f"{description or raw[:200]}{hint}".replace(self._token, "***"),
                    retry_after_s=_retry_after(response, answer),
                    retryable=response.status == 429 or response.status >= 500,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            text = _no_url(str(exc), self._url).replace(self._token, "***")
            raise SinkError(f"telegram sendMessage: {type(exc).__name__}: {text}") from None


def build_sinks(settings: AlerterSettings, session: aiohttp.ClientSession) -> list[Sink]:
    """Every configured sink; the log first (it cannot fail)."""
    sinks: list[Sink] = [LogSink()] if settings.log_alerts else []
    if settings.webhook_url:
        sinks.append(WebhookSink(session, settings.webhook_url, settings.send_timeout_s))
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if token and settings.telegram_chat_id:
        sinks.append(TelegramSink(session, settings.telegram_api_url, token,
                                  settings.telegram_chat_id, settings.send_timeout_s))  # fmt: skip
    return sinks
