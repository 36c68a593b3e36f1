"""A TOML config file under the environment (ARB_CONFIG / arb --config, arb config --check)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from arb_book.config import BookSettings
from arb_detector.config import DetectorSettings
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError

pytestmark = pytest.mark.integration

GOOD = 'log_level = "warning"\n[detector]\nuniverse = ["BTC-USDT"]\n[book]\ndepth = 7\n'


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "arb.toml"
    path.write_text(text)
    return str(path)


def check(path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    return subprocess.run([sys.executable, "-m", "arb_cli", "config", "--check", path],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip


def test_the_file_sets_shared_and_per_service_settings_and_env_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_CONFIG", write(tmp_path, GOOD))
    detector = load_settings(DetectorSettings)
    assert (detector.universe, detector.log_level) == (["BTC-USDT"], "WARNING")
    assert load_settings(BookSettings).depth == 7
    monkeypatch.setenv("ARB_BOOK_DEPTH", "3")
    assert load_settings(BookSettings).depth == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('log_levl = "x"\n', "log_levl: no such shared setting (did you mean 'log_level'?)"),
        ("[detecter]\nx = 1\n", "[detecter]: no such service (did you mean 'detector'?)"),
        ("[book]\ndepht = 3\n", "no such setting (did you mean 'depth'?)"),
        ("[book]\ndepth = -3\n", "DEPTH=-3: Input should be greater than or equal to 1"),
        ("[book\n", "not TOML"),
    ],
)
def test_a_bad_file_is_one_line_per_problem_and_exit_2(tmp_path, monkeypatch, text, message):
    path = write(tmp_path, text)
    out = check(path)
    assert out.returncode == 2, out
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
    monkeypatch.setenv("ARB_CONFIG", path)
    with pytest.raises(ConfigError):
        load_settings(BookSettings if "book" in text or "TOML" in message else DetectorSettings)


def test_a_good_file_checks_ok(tmp_path):
    out = check(write(tmp_path, GOOD))
    assert out.returncode == 0, out.stderr
    assert "ok (shared: log_level; tables: detector, book)" in out.stdout


def test_arb_config_option_sets_the_file_for_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    path = write(tmp_path, "[book\n")
    out = subprocess.run([sys.executable, "-m", "arb_cli", "--config", path, "status"],
                         capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert out.returncode == 2 and "not TOML" in out.stderr, out


def test_secret_files_never_reach_arb_config_output(tmp_path, monkeypatch, capsys):
    """Secrets from ARB_SECRETS_DIR with problems around them: the problems are named, the
    values never shown, in `arb config --check` or in `arb config`."""
    from arb_cli.main import main
    from arb_runtime.environment import environment

    canary = "canary-3b7d40"
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "arb_executor_credentials__okx__secrt").write_text(canary)  # a typo'd name
    (secrets / "arb_alerter_telegram_bot_token").write_text(canary)  # without its chat id
    (secrets / "arb_recorder_db_url").write_text(f"postgresql://arb:{canary}@db/arb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    env |= {"ARB_SECRETS_DIR": str(secrets), "ARB_DETECTOR_MIN_EDGE_BPS": "lots"}
    codes = []
    with environment(env):  # what main() reads into os.environ is put back after
        for argv in (["config", "--check", write(tmp_path, GOOD)], ["config"]):
            with pytest.raises(SystemExit) as done:
                main(argv)
            codes.append(done.value.code)
            if argv == ["config"]:
                assert os.environ["ARB_RECORDER_DB_URL"].endswith(f"{canary}@db/arb")  # read
    out = capsys.readouterr()
    assert codes == [2, 0]
    problems = out.err.splitlines()
    assert any("ARB_EXECUTOR_CREDENTIALS__OKX__SECRT: no such setting (did you mean 'secret'?)"
               in line for line in problems), problems  # fmt: skip
    assert any("ARB_ALERTER_TELEGRAM_BOT_TOKEN is set but ARB_ALERTER_TELEGRAM_CHAT_ID is not"
               in line for line in problems), problems  # fmt: skip
    assert any("ARB_DETECTOR_MIN_EDGE_BPS='lots'" in line for line in problems), problems
    assert "ARB_SECRETS_DIR" in out.out  # arb config's page
    assert canary not in out.out + out.err
