"""JUnit output of a real check: one testcase per locked package and per unexpected one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.commands.check import run_check
from lockdown.drift.model import DriftReport, PackageDrift
from lockdown.report.junit import IN_SYNC_CASE, render_junit
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex
from tests.support.venvs import uv_pip

Cli = Callable[..., CliResult]


def cases(xml: str) -> list[tuple[str | None, str | None, str | None, str | None]]:
    """``(classname, name, failure type, system-out)`` per testcase, in document order."""
    suite = ET.fromstring(xml).find("testsuite")  # noqa: S314 - lockdown's own output
    assert suite is not None
    out = []
    for case in suite.findall("testcase"):
        failure = case.find("failure")
        stdout = case.find("system-out")
        out.append(
            (
                case.get("classname"),
                case.get("name"),
                None if failure is None else failure.get("type"),
                None if stdout is None else stdout.text,
            )
        )
    return out


@pytest.mark.slow
def test_every_package_is_its_own_testcase(
    project: Path, env: Path, cli: Cli, catalog: PackageIndex
) -> None:
    clean = cli("check", "--project", project, "--venv", env, "--format", "junit")
    assert clean.code == 0, clean.err
    assert cases(clean.out) == [
        ("lockdown.packages", "alpha", None, "alpha 1.1 installed as locked"),
        ("lockdown.packages", "beta", None, "beta 1.1 installed as locked"),
        ("lockdown.packages", "gamma", None, "gamma 1.0 installed as locked"),
        ("lockdown.files", "files", None, None),
    ]
    python = env / "bin" / "python"
    catalog.add("beta", "2.0")
    assert uv_pip(python, "install", "--index-url", catalog.url, "beta==2.0").returncode == 0
    assert uv_pip(python, "uninstall", "gamma").returncode == 0
    assert uv_pip(python, "install", "--index-url", catalog.url, "devtool").returncode == 0
    args = ("check", "--project", project, "--venv", env, "--format", "junit")
    drifted = cli(*args)
    assert drifted.code == 1 | 2 | 4
    assert cases(drifted.out) == [
        ("lockdown.packages", "alpha", None, "alpha 1.1 installed as locked"),
        ("lockdown.packages", "beta", "version", None),
        ("lockdown.packages", "gamma", "missing", None),
        ("lockdown.packages", "devtool", "unexpected", None),
        ("lockdown.files", "files", None, None),
    ]
    root = ET.fromstring(drifted.out)  # noqa: S314
    assert (root.get("tests"), root.get("failures")) == ("5", "3")
    assert IN_SYNC_CASE not in drifted.out
    # Deterministic: the same environment gives the same cases, in the same order.
    assert cases(cli(*args).out) == cases(drifted.out)


@pytest.mark.slow
def test_the_report_names_the_matching_packages(project: Path, env: Path) -> None:
    report = run_check(project / "pylock.toml", venv=env)
    assert report.matching == (("alpha", "1.1"), ("beta", "1.1"), ("gamma", "1.0"))


#: Three locked packages, all as locked (the matching ones not named).
BASE = DriftReport(
    lock="/srv/app/pylock.toml",
    lock_sha256="0" * 64,
    target="/srv/app/.venv",
    python_version="3.11.7",
    level="versions",
    expected=3,
    installed=3,
    checked_at=1718000000.0,
)


def test_drifted_and_matching_packages_interleave_by_name() -> None:
    report = BASE._replace(
        matching=(("zeta", "1.0"), ("alpha", "2.0")),
        packages=(
            PackageDrift(name="mid", kind="version", expected="1", installed="2", detail=""),
            PackageDrift(
                name="aaa-extra", kind="unexpected", expected=None, installed="1", detail=""
            ),
        ),
    )
    assert [(name, kind) for _c, name, kind, _o in cases(render_junit(report))] == [
        ("alpha", None),
        ("mid", "version"),
        ("zeta", None),
        ("aaa-extra", "unexpected"),
        ("files", None),
    ]
    assert render_junit(report) == render_junit(report)


def test_a_report_that_only_counts_matching_packages_keeps_one_case_for_them() -> None:
    # A producer that counts matching packages without naming them (conda's
    # check, a hand-made report): they still show, as one passing case.
    report = BASE._replace(
        packages=(
            PackageDrift(name="mid", kind="missing", expected="1", installed=None, detail=""),
        )
    )
    assert cases(render_junit(report))[:2] == [
        ("lockdown.packages", "mid", "missing", None),
        ("lockdown.packages", IN_SYNC_CASE, None, "2 of 3 locked packages match the lock"),
    ]
