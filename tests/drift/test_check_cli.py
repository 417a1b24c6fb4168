"""``lockdown check`` from the command line: exit bitmask, formats parsed back, failures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex
from tests.support.venvs import uv_pip

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_clean_env(project: Path, env: Path, cli: Cli) -> None:
    result = cli("check", "--project", project, "--venv", env)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "in sync: 3 packages"
    quiet = cli("check", "--project", project, "--venv", env, "--quiet")
    assert (quiet.code, quiet.out) == (0, "")


def test_drift_bitmask_and_every_format(
    project: Path, env: Path, cli: Cli, catalog: PackageIndex, tmp_path: Path
) -> None:
    python = env / "bin" / "python"
    assert uv_pip(python, "uninstall", "gamma").returncode == 0
    assert uv_pip(python, "install", "--index-url", catalog.url, "devtool").returncode == 0
    site = next((env / "lib").glob("python3*/site-packages"))
    (site / "evil.pth").write_text("import os\n")
    args = ("check", "--project", project, "--venv", env, "--level", "files")
    text = cli(*args)
    assert text.code == 1 | 2 | 8
    assert "missing    gamma 1.0" in text.out
    assert "unexpected devtool 0.5" in text.out
    report = json.loads(cli(*args, "--format", "json").out)
    assert report["schema_version"] == 1
    assert report["exit_code"] == 11
    assert {p["name"]: p["kind"] for p in report["packages"]} == {
        "gamma": "missing",
        "devtool": "unexpected",
    }
    prom = tmp_path / "textfile" / "lockdown.prom"
    prom.parent.mkdir()
    assert cli(*args, "--format", "prometheus", "--output", prom).code == 11
    found = metrics(prom.read_text())
    assert found[("lockdown_drift_packages", (("kind", "missing"),))] == 1
    assert found[("lockdown_drift_packages", (("kind", "unexpected"),))] == 1
    assert found[("lockdown_drift_files_high_severity", ())] == 1
    assert found[("lockdown_check_exit_code", ())] == 11
    assert [p.name for p in prom.parent.iterdir()] == ["lockdown.prom"]
    junit = ET.fromstring(cli(*args, "--format", "junit").out)  # noqa: S314 - our own output
    suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
    assert suite is not None
    assert int(suite.get("failures", "0")) >= 2


def test_failed_check_writes_a_failure_textfile(project: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("lock", "--project", project).code == 0
    prom = tmp_path / "lockdown.prom"
    result = cli(
        "check", "--project", project, "--venv", tmp_path / "nothing-here",
        "--format", "prometheus", "--output", prom,
    )  # fmt: skip
    assert result.code == 64
    assert "is not a virtual environment" in result.err
    found = metrics(prom.read_text())
    assert found[("lockdown_check_failed", (("reason", "usage"),))] == 1
    assert found[("lockdown_check_exit_code", ())] == 64


def test_require_signature_refuses_unsigned_lock(project: Path, env: Path, cli: Cli) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.lockdown.trust]\nsigners = [{ public-key = "k.pub" }]\n'
    )
    result = cli("check", "--project", project, "--venv", env, "--require-signature")
    assert result.code == 16
    assert "no signature bundle at" in result.err


def test_active_venv_is_the_default_target(
    project: Path, env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", str(env))
    result = cli("check", "--project", project)
    assert result.code == 0, result.err
    assert str(env) in result.out.splitlines()[0]
