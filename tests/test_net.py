"""The network settings: ``[tool.lockdown]`` keys, ``LOCKDOWN_HTTP_*`` variables, and what
uv and pip are told; bad values are one line, exit 64, and nothing is written.

(The transport against failing servers is in ``tests/hardening/test_hostile_servers.py``.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.config import HTTP_KEYS, load_config
from lockdown.config.http import SETTINGS, HttpSettings, http_settings
from lockdown.errors import ConfigError, UsageError
from lockdown.net import pip_options, uv_environ
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def _configure(project: Path, lines: str) -> None:
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[tool.lockdown]\n", f"[tool.lockdown]\n{lines}\n"), "utf-8")


def test_defaults_are_uv_s() -> None:
    assert http_settings(environ={}) == HttpSettings(timeout=30.0, retries=3, backoff=0.5)
    assert HttpSettings().tries == 4


def test_config_keys_and_the_environment_over_them(project: Path) -> None:
    _configure(project, "http-timeout = 5\nhttp-retries = 0\nhttp-backoff = 0.25")
    config, _ = load_config(project)

    assert http_settings(config, environ={}) == HttpSettings(timeout=5, retries=0, backoff=0.25)
    overridden = http_settings(
        config, environ={"LOCKDOWN_HTTP_RETRIES": " 7 ", "LOCKDOWN_HTTP_TIMEOUT": "2.5"}
    )
    assert overridden == HttpSettings(timeout=2.5, retries=7, backoff=0.25)
    # An empty variable is unset, as for uv and pip.
    assert http_settings(config, environ={"LOCKDOWN_HTTP_TIMEOUT": ""}).timeout == 5


def test_the_config_knows_every_setting() -> None:
    assert frozenset(SETTINGS) == HTTP_KEYS


def test_uv_and_pip_are_told_the_same() -> None:
    settings = HttpSettings(timeout=2.5, retries=5, backoff=0)
    # uv takes whole seconds: rounded up, never down to "no time at all".
    assert uv_environ(settings) == {"UV_HTTP_TIMEOUT": "3", "UV_HTTP_RETRIES": "5"}
    assert uv_environ(HttpSettings(timeout=0.2)) == {"UV_HTTP_TIMEOUT": "1", "UV_HTTP_RETRIES": "3"}
    assert pip_options(settings) == ["--retries", "5", "--timeout", "2.5"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "http-timeout = 0",
            "http-timeout 0 is not a number of seconds above 0 (at most 3600); for example 30",
        ),
        (
            'http-timeout = "30"',
            "http-timeout '30' is not a number of seconds above 0 (at most 3600); for example 30",
        ),
        (
            "http-timeout = inf",
            "http-timeout inf is not a number of seconds above 0 (at most 3600); for example 30",
        ),
        (
            "http-retries = 1.5",
            "http-retries 1.5 is not a whole number of retries from 0 to 100; for example 3",
        ),
        (
            "http-retries = -1",
            "http-retries -1 is not a whole number of retries from 0 to 100; for example 3",
        ),
        (
            "http-retries = true",
            "http-retries True is not a whole number of retries from 0 to 100; for example 3",
        ),
        (
            "http-backoff = 61",
            "http-backoff 61 is not a number of seconds from 0 to 60; for example 0.5",
        ),
    ],
)
def test_a_bad_config_value_is_one_line_and_nothing_is_written(
    project: Path, cli: Cli, line: str, message: str
) -> None:
    _configure(project, line)
    with pytest.raises(ConfigError):
        load_config(project)

    result = cli("lock", "--project", project)

    assert result.code == 64
    assert result.err == (
        f"lockdown: error: {project / 'pyproject.toml'}: [tool.lockdown] {message}\n"
    )
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "LOCKDOWN_HTTP_TIMEOUT",
            "soon",
            "'soon' is not a number of seconds above 0 (at most 3600); for example 30",
        ),
        (
            "LOCKDOWN_HTTP_TIMEOUT",
            "nan",
            "'nan' is not a number of seconds above 0 (at most 3600); for example 30",
        ),
        (
            "LOCKDOWN_HTTP_RETRIES",
            "-1",
            "'-1' is not a whole number of retries from 0 to 100; for example 3",
        ),
        (
            "LOCKDOWN_HTTP_RETRIES",
            "1000",
            "'1000' is not a whole number of retries from 0 to 100; for example 3",
        ),
        (
            "LOCKDOWN_HTTP_BACKOFF",
            "-0.5",
            "'-0.5' is not a number of seconds from 0 to 60; for example 0.5",
        ),
    ],
)
def test_a_bad_variable_is_one_line_and_nothing_is_written(
    project: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(UsageError):
        http_settings()

    result = cli("lock", "--project", project)

    assert result.code == 64
    assert result.err == f"lockdown: error: {variable} {message}\n"
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]


def test_install_refuses_a_bad_variable_before_changing_anything(
    locked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_HTTP_TIMEOUT", "-3")
    venv = tmp_path / "venv"

    result = cli("install", "--project", locked, "--venv", venv)

    assert result.code == 64
    assert result.err == (
        "lockdown: error: LOCKDOWN_HTTP_TIMEOUT '-3' is not a number of seconds above 0 "
        "(at most 3600); for example 30\n"
    )
    assert not venv.exists()


@pytest.mark.parametrize("configured", [False, True], ids=["default", "configured"])
def test_a_versions_check_never_imports_the_transport(
    env: Path, locked: Path, configured: bool
) -> None:
    """The cron path stays fast: no HTTP machinery, and the settings module only when set."""
    if configured:
        _configure(locked, "http-retries = 5")
    script = (
        "import json, sys\n"
        "from lockdown.cli import main\n"
        f"code = main(['check', '-q', '--project', {str(locked)!r}, '--venv', {str(env)!r}])\n"
        "print(json.dumps([code, sorted(m for m in ('lockdown.config.http', 'lockdown.net',"
        " 'urllib3', 'urllib.request') if m in sys.modules)]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    expected = ["lockdown.config.http"] if configured else []
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [0, expected]
