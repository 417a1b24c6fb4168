"""``lockdown audit`` of real environments: a venv installed from the lock, a conda lock and prefix.

The venv is made by ``lockdown install`` from a lock of wheels published
under the advisories' names; the conda packages are built into a local
channel under the same names, locked with ``lock --conda`` and installed
with ``install --prefix``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.commands.install import install_conda
from lockdown.commands.lock import lock_conda
from lockdown.env.conda_meta import current_platform
from tests.audit.conftest import ADVISORIES
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]


def findings(result: CliResult) -> set[tuple[str, str, str, str]]:
    doc = json.loads(result.out)
    return {(f["ecosystem"], f["package"], f["version"], f["id"]) for f in doc["findings"]}


def test_a_venv_installed_from_the_lock(vulnerable_project: Path, cli: Cli, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert cli("install", "--project", vulnerable_project, "--venv", venv).code == 0
    result = cli(
        "audit", "--project", vulnerable_project, "--venv", venv, "--db", ADVISORIES,
        "--format", "json",
    )  # fmt: skip
    assert result.code == 1, result.err
    doc = json.loads(result.out)
    assert doc["kind"] == "environment"
    assert doc["target"] == str(venv)
    assert findings(result) == {
        ("PyPI", "0requests", "0.0.1", "MAL-2026-15859"),
        ("PyPI", "idna", "3.6", "PYSEC-2024-60"),
        ("PyPI", "jinja2", "2.10", "PYSEC-2019-217"),
        ("PyPI", "jinja2", "2.10", "PYSEC-2021-66"),
        ("PyPI", "requests", "2.30.0", "PYSEC-2023-74"),
    }
    # The same through its interpreter.
    python = cli(
        "audit", "--project", vulnerable_project, "--python", venv / "bin" / "python",
        "--db", ADVISORIES, "--format", "json",
    )  # fmt: skip
    assert findings(python) == findings(result)


@pytest.fixture
def conda_project(tmp_path: Path) -> Path:
    """A conda environment of packages named as the advisories name them."""
    channel = CondaChannel(tmp_path / "channel")
    channel.add("python", "3.11.9")
    channel.add("requests", "2.30.0", depends=["python >=3.8", "idna"])
    channel.add("idna", "3.6", depends=["python"])
    channel.add("3web-py", "1.0.0", depends=["python"])
    # Not a Python package: its name is no PyPI project's to match.
    channel.add("jinja2", "2.10")
    channel.index()
    root = tmp_path / "svc"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"name: svc\nchannels:\n  - {channel.file_url}\ndependencies:\n"
        "  - python\n  - requests\n  - 3web-py\n  - jinja2\n"
        f"platforms:\n  - {current_platform()}\n",
        encoding="utf-8",
    )
    return root


CONDA_FINDINGS = {
    ("conda", "3web-py", "1.0.0", "MAL-2024-9934"),
    ("conda", "idna", "3.6", "PYSEC-2024-60"),
    ("conda", "requests", "2.30.0", "PYSEC-2023-74"),
}


def test_a_conda_lock_and_its_prefix(conda_project: Path, cli: Cli, tmp_path: Path) -> None:
    lock_conda(conda_project)
    lock = conda_project / "conda-lock.yml"
    result = cli(
        "audit", "--project", conda_project, "--db", ADVISORIES, "--format", "json",
    )  # fmt: skip
    assert result.code == 1, result.err
    doc = json.loads(result.out)
    assert (doc["kind"], doc["target"]) == ("conda-lock", str(lock))
    assert findings(result) == CONDA_FINDINGS
    text = cli("audit", "--lock", lock, "--db", ADVISORIES, "--project", conda_project)
    assert "  MALICIOUS  3web-py 1.0.0 (conda)  MAL-2024-9934" in text.out

    prefix = tmp_path / "prefix"
    install_conda(lock, prefix)
    installed = cli(
        "audit", "--prefix", prefix, "--db", ADVISORIES, "--format", "json",
        "--project", conda_project,
    )  # fmt: skip
    assert installed.code == 1, installed.err
    assert json.loads(installed.out)["kind"] == "conda-prefix"
    assert findings(installed) == CONDA_FINDINGS
    # check --audit of the prefix: in sync with its lock, yet exit bit 32.
    checked = cli(
        "check", "--prefix", prefix, "--project", conda_project, "--audit", "--db", ADVISORIES,
        "--format", "json",
    )  # fmt: skip
    assert checked.code == 32, checked.err
    doc = json.loads(checked.out)
    assert doc["in_sync"] is True
    assert {
        (f["ecosystem"], f["package"], f["version"], f["id"]) for f in doc["audit"]["findings"]
    } == CONDA_FINDINGS
