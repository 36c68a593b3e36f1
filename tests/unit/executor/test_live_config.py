"""Live credentials come from the environment and never show in logs or reprs."""

from __future__ import annotations

import logging

import pytest
from arb_executor.accounts import credentials_of, live_gateways
from arb_executor.config import ExecutorSettings
from arb_executor.errors import GatewayNotConfigured

pytestmark = pytest.mark.unit


def test_credentials_are_read_from_nested_env_vars_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ARB_EXECUTOR_MODE", "live")
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__OKX__API_KEY", "okx-key")
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__OKX__SECRET", "very-secret-value")
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__OKX__PASSPHRASE", "pass-phrase-value")
    monkeypatch.setenv("ARB_EXECUTOR_CREDENTIALS__OKX__REST_URL", "http://127.0.0.1:1")
    settings = ExecutorSettings()
    okx = settings.credentials["okx"]
    assert okx.api_key == "okx-key" and okx.rest_url == "http://127.0.0.1:1"
    assert okx.secret.get_secret_value() == "very-secret-value"
    creds = credentials_of("okx", okx)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("arb.executor").info("settings %s creds %r", settings, creds)
    for shown in (repr(settings), str(settings), repr(creds), caplog.text):
        assert "very-secret-value" not in shown and "pass-phrase-value" not in shown


async def test_live_mode_without_credentials_says_which_variables_to_set() -> None:
    with pytest.raises(GatewayNotConfigured, match="ARB_EXECUTOR_CREDENTIALS__<VENUE>__API_KEY"):
        await live_gateways(ExecutorSettings(mode="live"), None)  # type: ignore[arg-type]


def test_empty_secret_is_refused_with_the_variable_to_set() -> None:
    settings = ExecutorSettings(credentials={"bybit": {"api_key": "k", "secret": ""}})
    with pytest.raises(GatewayNotConfigured, match="ARB_EXECUTOR_CREDENTIALS__BYBIT__API_KEY"):
        credentials_of("bybit", settings.credentials["bybit"])
