"""The ARB_* environment: a .env file and a secrets folder under the environment, a typo under
any ARB_ prefix is an error with the closest name, and a secret value is never echoed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from arb_core.variables import KNOWN, SERVICE_PREFIXES, is_known_outside_services
from arb_executor.config import ExecutorSettings
from arb_runtime.config import ServiceSettings, load_settings, settings_config
from arb_runtime.environment import environment, load_files, unknown_variable
from arb_runtime.errors import ConfigError
from pydantic import Field, SecretStr

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
CANARY = "canary-5e1f0c"


class DemoSettings(ServiceSettings):
    model_config = settings_config("ARB_DEMO_")
    depth: int = Field(default=20, description="levels per side")
    token: SecretStr | None = Field(default=None, description="a secret")
    limit: int = Field(default=1, description="a plain setting")
    password_retries: int = Field(default=1, description="named like a credential")


@pytest.fixture(autouse=True)
def no_arb_variables() -> Iterator[None]:
    """Each test starts from an environment with no ARB_* variable, and the whole environment
    is put back after it (load_files adds variables monkeypatch does not know of)."""
    with environment({k: v for k, v in os.environ.items() if not k.startswith("ARB_")}):
        yield


def test_an_env_file_sets_variables_under_the_environment(tmp_path, monkeypatch) -> None:
    env_file = tmp_path / "live.env"
    env_file.write_text("# comment\nARB_DEMO_DEPTH=7\nexport ARB_LOG_LEVEL=warning\n"
                        "ARB_DEMO_LIMIT='3'\nCOMPOSE_PROFILES=demo\n")  # fmt: skip
    monkeypatch.setenv("ARB_ENV_FILE", str(env_file))
    monkeypatch.setenv("ARB_DEMO_LIMIT", "9")  # the environment wins over the file
    settings = load_settings(DemoSettings)
    assert (settings.depth, settings.log_level, settings.limit) == (7, "WARNING", 9)
    assert "COMPOSE_PROFILES" not in os.environ  # only ARB_* names are taken
    assert load_files() == []  # once is enough: nothing is read twice


def test_a_secrets_folder_gives_one_variable_per_file(tmp_path, monkeypatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "arb_demo_token").write_text(CANARY + "\n")  # Docker secrets: lower case
    (secrets / "ARB_DEMO_DEPTH").write_text("4")
    (secrets / "postgres_password").write_text("not ours")  # another service's secret
    env_file = tmp_path / ".env"
    env_file.write_text("ARB_DEMO_DEPTH=5\n")  # the .env file wins over the folder
    monkeypatch.setenv("ARB_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("ARB_ENV_FILE", str(env_file))
    settings = load_settings(DemoSettings)
    assert settings.token is not None and settings.token.get_secret_value() == CANARY
    assert settings.depth == 5
    assert CANARY not in repr(settings) and "POSTGRES_PASSWORD" not in os.environ


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ARB_ENV_FILE", "/nowhere/live.env", "ARB_ENV_FILE=/nowhere/live.env: no such file"),
        ("ARB_SECRETS_DIR", "/nowhere", "ARB_SECRETS_DIR=/nowhere: no such folder"),
    ],
)
def test_a_missing_env_file_or_secrets_folder_is_one_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(message)) as refused:
        load_settings(DemoSettings)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "hint"),
    [
        ("ARB_METRCS_PORT", "(did you mean 'ARB_METRICS_PORT'?)"),
        ("ARB_LOG_LEVL", "(did you mean 'ARB_LOG_LEVEL'?)"),
        ("ARB_REDIS_ULR", "(did you mean 'ARB_REDIS_URL'?)"),
        ("ARB_BOOKS_VENUES", "(did you mean a setting of ARB_BOOK_?)"),
        ("ARB_DEMO_DEPHT", "(did you mean 'ARB_DEMO_DEPTH'?)"),  # the class's own prefix
    ],
)
def test_a_typo_under_the_shared_prefix_is_an_error_with_the_closest_name(
    monkeypatch, variable, hint
) -> None:
    monkeypatch.setenv(variable, "1")
    with pytest.raises(ConfigError) as refused:
        load_settings(DemoSettings)
    assert str(refused.value).startswith(f"{variable}: no such setting {hint}"), refused.value


def test_names_other_services_and_tools_own_are_not_typos(monkeypatch) -> None:
    for name in ("ARB_EXECUTOR_MODE", "ARB_TAKER_FEES__OKX", "ARB_SYMBOLS", "ARB_TEST_REDIS_URL",
                 "ARB_FIXTURES_DIR", "ARB_DATA_DIR", "ARB_METRICS_PORT"):  # fmt: skip
        monkeypatch.setenv(name, "1")
    assert unknown_variable() is None
    assert load_settings(DemoSettings).metrics_port == 1


def test_a_secret_value_is_never_in_an_error(tmp_path, monkeypatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    # a credential the executor refuses (a venue with no such field): named, value masked
    (secrets / "arb_executor_credentials__binance__api_key").write_text(CANARY)
    (secrets / "arb_executor_credentials__binance__secret").write_text(CANARY)
    (secrets / "arb_executor_credentials__binance__passphras").write_text(CANARY)
    monkeypatch.setenv("ARB_SECRETS_DIR", str(secrets))
    with pytest.raises(ConfigError) as nested:
        load_settings(ExecutorSettings)
    assert "PASSPHRAS: no such setting (did you mean 'passphrase'?)" in str(nested.value)
    monkeypatch.setenv("ARB_DEMO_TOKEN", CANARY)
    assert load_settings(DemoSettings).token is not None  # a good token
    with pytest.raises(ConfigError) as refused:
        load_settings(DemoSettings, token=[CANARY])  # a SecretStr given a bad value
    monkeypatch.setenv("ARB_DEMO_PASSWORD_RETRIES", CANARY)
    with pytest.raises(ConfigError) as named:
        load_settings(DemoSettings)
    for error in (nested.value, refused.value, named.value):
        assert CANARY not in str(error)
    assert "ARB_DEMO_TOKEN=***" in str(refused.value)
    assert str(named.value).startswith("ARB_DEMO_PASSWORD_RETRIES=***: Input should be")


def test_every_variable_the_compose_file_interpolates_is_known() -> None:
    """Compose's own ${ARB_*} names share the .env file with the services' settings: a name
    missing from arb_core.variables would be refused as a typo by every service."""
    text = (ROOT / "docker-compose.yml").read_text()
    names = set(re.findall(r"\$\{(ARB_[A-Z0-9_]+)", text))
    assert names, "the compose file interpolates no ARB_ variable any more?"
    unknown = [n for n in sorted(names) if n not in KNOWN and not n.startswith(SERVICE_PREFIXES)]
    assert unknown == []


def test_every_knob_the_makefile_and_the_tests_set_is_known() -> None:
    """The Makefile's and the tests' own ARB_* knobs, and the ones code reads from the
    environment directly, reach the services' environment (a make target sets one, the
    engine it starts inherits it): one missing from arb_core.variables is refused as a typo
    by every service started with it (ARB_CLUSTER_TESTS and ARB_TRACEMALLOC_DUMP once were)."""
    shell = [(ROOT / "Makefile").read_text()]
    shell += [p.read_text() for p in (ROOT / ".ci").iterdir() if p.is_file()]
    names = {n for text in shell for n in re.findall(r"\b(ARB_[A-Z0-9_]*[A-Z0-9])\b", text)}
    # the knobs the tests read (their other ARB_ names are typos on purpose, or settings)
    read = r"""(?:environ\.get\(|getenv\(|environ\[)\s*["'](ARB_[A-Z0-9_]+)["']"""
    for folder in ("tests", "libs", "services", "apps"):  # and the ones the code reads itself
        for path in (ROOT / folder).rglob("*.py"):
            names.update(re.findall(read, path.read_text()))
    assert {"ARB_FIXTURES_DIR", "ARB_CLUSTER_ROUNDS", "ARB_TRACEMALLOC_DUMP"} <= names
    unknown = sorted(n for n in names if not is_known_outside_services(n)
                     and not n.startswith(SERVICE_PREFIXES))  # fmt: skip
    assert unknown == [], "add them to arb_core.variables (TOOLING) or fix the name"
