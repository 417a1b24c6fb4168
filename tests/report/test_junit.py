"""The JUnit XML report: parsed back with ElementTree, counts checked against the testcases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lockdown.drift.model import DriftReport, FileDrift, PackageDrift
from lockdown.report.junit import IN_SYNC_CASE, render_junit
from lockdown.report.render import render
from tests.report.test_text import LOCK_SHA256, SIGNER, SP, clean_report, drifted_report


def parse(report: DriftReport) -> ET.Element:
    """The ``<testsuite>``, after checking the document and both count sets agree with it."""
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    assert text.endswith("</testsuites>\n")
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - lockdown's own output
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    actual = {
        "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.find("failure") is not None)),
        "errors": "0",
        "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
    }
    for element in (root, suite):
        assert {key: element.get(key) for key in actual} == actual
    assert all(len(c.findall("failure")) <= 1 for c in cases)
    return suite


def cases(suite: ET.Element) -> list[tuple[str | None, str | None, str | None]]:
    """``(classname, name, failure type or None)`` for each testcase, in document order."""
    out = []
    for case in suite.findall("testcase"):
        failure = case.find("failure")
        out.append(
            (
                case.get("classname"),
                case.get("name"),
                None if failure is None else failure.get("type"),
            )
        )
    return out


def test_drifted_report() -> None:
    suite = parse(drifted_report())
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "5", "0")
    assert suite.get("name") == "lockdown check"
    assert suite.get("timestamp") == "2024-06-10T06:13:20"
    assert suite.get("time") == "0.042"
    assert cases(suite) == [
        ("lockdown.packages", "alpha", "missing"),
        ("lockdown.packages", "beta", "version"),
        ("lockdown.packages", "gamma", "source"),
        ("lockdown.packages", IN_SYNC_CASE, None),
        ("lockdown.packages", "devtool", "unexpected"),
        ("lockdown.files", "files", "files"),
    ]
    failures = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    beta = failures["beta"]
    assert beta is not None
    assert beta.get("message") == "version: beta is 1.0, the lock says 1.1"
    assert beta.text == "version    beta 1.0 (locked 1.1)\n  installed 1.0, the lock says 1.1"
    gamma = failures["gamma"]
    assert gamma is not None
    assert gamma.get("message") == (
        "source: gamma 2.0 is not installed from the locked source: "
        "editable install from file:///src/gamma"
    )
    files = failures["files"]
    assert files is not None
    assert files.get("message") == (
        "2 files modified, 1 file missing, 1 unowned file, 1 path escaping the environment, "
        "1 symlink pointing outside, 1 RECORD mismatch, 3 high severity"
    )
    assert files.text is not None
    assert f"S.5......  {SP}/beta/__init__.py" in files.text.splitlines()
    assert len(files.text.splitlines()) == 7
    in_sync = suite.find(f"testcase[@name='{IN_SYNC_CASE}']/system-out")
    assert in_sync is not None
    assert in_sync.text == "11 of 14 locked packages match the lock"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "target": "/srv/app/.venv",
        "python_version": "3.11.7",
        "lock": "/srv/app/pylock.toml",
        "lock_sha256": LOCK_SHA256,
        "level": "artifacts",
        "signature": "verified",
        "signer": SIGNER,
        "guarded": "false",
        "exit_code": "15",
    }
    notes = suite.find("system-out")
    assert notes is not None
    assert notes.text == "2 files listed in RECORD without a hash were not checked"


def test_clean_versions_level_skips_files() -> None:
    suite = parse(clean_report())
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
    assert cases(suite) == [
        ("lockdown.packages", IN_SYNC_CASE, None),
        ("lockdown.files", "files", None),
    ]
    skipped = suite.find("testcase[@name='files']/skipped")
    assert skipped is not None
    assert skipped.get("message") == "level versions does not check files"
    assert suite.find("system-out") is None


def test_clean_files_level_passes_files() -> None:
    suite = parse(clean_report("files"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "0")
    out = suite.find("testcase[@name='files']/system-out")
    assert out is not None
    assert out.text == "230 files checked, all match"


def test_two_drifts_of_one_package_share_one_failure() -> None:
    report = clean_report()._replace(
        expected=1,
        packages=(
            PackageDrift(name="beta", kind="source", expected="1.1", installed="1.0", detail=""),
            PackageDrift(name="beta", kind="version", expected="1.1", installed="1.0", detail=""),
        ),
    )
    suite = parse(report)
    # Every locked package drifted: no in-sync case.
    assert cases(suite) == [
        ("lockdown.packages", "beta", "version,source"),
        ("lockdown.files", "files", None),
    ]
    failure = suite.find("testcase[@name='beta']/failure")
    assert failure is not None
    assert failure.get("message") == (
        "version: beta is 1.0, the lock says 1.1; "
        "source: beta 1.0 is not installed from the locked source"
    )


def test_hostile_names_still_make_valid_xml() -> None:
    report = clean_report("files")._replace(
        packages=(
            PackageDrift(
                name="evil\x01]]></x>",
                kind="unexpected",
                expected=None,
                installed="1\x00",
                detail='"<&>"',
            ),
        ),
        files=(FileDrift(path=f"{SP}/caf\udce9\uffff.pth", kind="unowned", package=None),),
    )
    suite = parse(report)
    assert cases(suite)[-2] == ("lockdown.packages", "evil\\x01]]></x>", "unexpected")
    files = suite.find("testcase[@name='files']/failure")
    assert files is not None
    assert files.text == f"unowned    {SP}/caf\\xe9\\uffff.pth"


def test_render_dispatches_junit() -> None:
    assert render(drifted_report(), "junit") == render_junit(drifted_report())
