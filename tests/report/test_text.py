"""The text drift report: exact lines, escaping of names from disk, colors only when asked.

The report builders here (:func:`clean_report`, :func:`drifted_report`) are
shared by the other format tests in this directory.
"""

from __future__ import annotations

import re

import pytest

from lockdown.drift.model import DriftReport, FileDrift, Level, PackageDrift
from lockdown.errors import UsageError
from lockdown.report.render import FORMATS, render, write_report
from lockdown.report.text import printable, render_text, rpm_flags

SP = "lib/python3.11/site-packages"
LOCK_SHA256 = "3f" * 32
SIGNER = "https://github.com/acme/app/.github/workflows/lock.yml@refs/heads/main"


def clean_report(level: Level = "versions") -> DriftReport:
    """A check that found nothing: 14 locked packages, all as locked."""
    return DriftReport(
        lock="/srv/app/pylock.toml",
        lock_sha256=LOCK_SHA256,
        target="/srv/app/.venv",
        python_version="3.11.7",
        level=level,
        expected=14,
        installed=14,
        checked_at=1718000000.25,
        duration_seconds=0.042,
        files_checked=0 if level == "versions" else 230,
    )


def drifted_report() -> DriftReport:
    """Every kind of package drift and of file drift, in no particular order."""
    return clean_report("artifacts")._replace(
        installed=12,
        signature="verified",
        signer=SIGNER,
        guarded=False,
        lock_packages=16,
        lock_attested=12,
        notes=("2 files listed in RECORD without a hash were not checked",),
        packages=(
            PackageDrift(
                name="gamma",
                kind="source",
                expected="2.0",
                installed="2.0",
                detail="editable install from file:///src/gamma",
            ),
            PackageDrift(
                name="devtool",
                kind="unexpected",
                expected=None,
                installed="0.5",
                detail="installed, not in the lock",
            ),
            PackageDrift(
                name="beta",
                kind="version",
                expected="1.1",
                installed="1.0",
                detail="installed 1.0, the lock says 1.1",
            ),
            PackageDrift(
                name="alpha",
                kind="missing",
                expected="1.1",
                installed=None,
                detail="in the lock, not installed",
            ),
        ),
        files=(
            FileDrift(
                path=f"{SP}/zz_hook.pth",
                kind="unowned",
                package=None,
                severity="high",
                detail="runs code at every interpreter start",
            ),
            FileDrift(path=f"{SP}/beta/__init__.py", kind="modified", package="beta", flags="S5"),
            FileDrift(path=f"{SP}/beta/util.py", kind="modified", package="beta", flags="5"),
            FileDrift(path=f"{SP}/beta/data.txt", kind="missing", package="beta"),
            FileDrift(
                path="../../etc/passwd",
                kind="escape",
                package="beta",
                severity="high",
                detail="RECORD entry outside the environment",
            ),
            FileDrift(
                path=f"{SP}/gamma/link",
                kind="symlink",
                package="gamma",
                severity="high",
                detail="points to /etc/shadow",
            ),
            FileDrift(
                path=f"{SP}/gamma/core.py",
                kind="record",
                package="gamma",
                flags="5",
                detail="installed RECORD differs from the locked wheel",
            ),
        ),
    )


def test_clean_versions_level() -> None:
    assert render_text(clean_report()) == (
        "target /srv/app/.venv  python 3.11.7  lock /srv/app/pylock.toml  level versions\n"
        "in sync: 14 packages\n"
    )


def test_clean_files_level_counts_files() -> None:
    assert render_text(clean_report("files")).splitlines()[-1] == (
        "in sync: 14 packages, 230 files checked"
    )


def test_every_kind_of_drift() -> None:
    assert render_text(drifted_report()) == (
        "target /srv/app/.venv  python 3.11.7  lock /srv/app/pylock.toml  level artifacts"
        f"  signed by {SIGNER}  unguarded\n"
        "unexpected devtool 0.5\n"
        "missing    alpha 1.1\n"
        "version    beta 1.0 (locked 1.1)\n"
        "source     gamma 2.0: editable install from file:///src/gamma\n"
        "escape     ../../etc/passwd  !! RECORD entry outside the environment\n"
        f"S.5......  {SP}/beta/__init__.py\n"
        f"missing    {SP}/beta/data.txt\n"
        f"..5......  {SP}/beta/util.py\n"
        f"record     {SP}/gamma/core.py  installed RECORD differs from the locked wheel\n"
        f"symlink    {SP}/gamma/link  !! points to /etc/shadow\n"
        f"unowned    {SP}/zz_hook.pth  !! runs code at every interpreter start\n"
        "note: 2 files listed in RECORD without a hash were not checked\n"
        "drift: 1 unexpected, 1 missing, 1 version changed, 1 source changed, "
        "2 files modified, 1 file missing, 1 unowned file, 1 path escaping the environment, "
        "1 symlink pointing outside, 1 RECORD mismatch, 3 high severity\n"
    )


def test_summary_says_plurals() -> None:
    report = clean_report()._replace(
        packages=tuple(
            PackageDrift(name=name, kind=kind, expected="1", installed="2", detail="")
            for name in ("a", "b")
            for kind in ("missing", "version", "source")
        ),
    )
    assert render_text(report).splitlines()[-1] == (
        "drift: 2 missing, 2 versions changed, 2 sources changed"
    )


@pytest.mark.parametrize(
    ("changes", "tail"),
    [
        ({"signature": "unsigned"}, "level versions  unsigned"),
        ({"signature": "verified"}, "level versions  signed"),
        ({"guarded": True}, "level versions  guarded"),
        ({"signature": "not-checked", "guarded": None}, "level versions"),
    ],
)
def test_header_says_signature_and_guard(changes: dict[str, object], tail: str) -> None:
    report = clean_report()._replace(**changes)  # type: ignore[arg-type]
    assert render_text(report).splitlines()[0].endswith(tail)


def test_source_drift_without_detail_has_no_colon() -> None:
    report = clean_report()._replace(
        packages=(
            PackageDrift(name="gamma", kind="source", expected="2.0", installed=None, detail=""),
        ),
    )
    assert render_text(report).splitlines()[1] == "source     gamma 2.0"


@pytest.mark.parametrize(
    ("flags", "column"),
    [("S5", "S.5......"), ("5", "..5......"), ("S", "S........"), ("", "modified")],
)
def test_rpm_flags(flags: str, column: str) -> None:
    file = FileDrift(path="x.py", kind="modified", package="x", flags=flags)
    assert rpm_flags(file) == column


def test_no_color_by_default_and_color_when_asked() -> None:
    report = drifted_report()
    plain = render_text(report)
    colored = render_text(report, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31m" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain
    assert render(report, "text", color=True) == colored


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain/path.py", "plain/path.py"),
        ("café/ü.py", "café/ü.py"),
        ("caf\udce9.py", "caf\\xe9.py"),  # an undecodable byte, as os.fsdecode gives it
        ("a\nb\tc\x1b[31m", "a\\x0ab\\x09c\\x1b[31m"),
        ("evil\u202etxt.py", "evil\\u202etxt.py"),  # right-to-left override
        ("\ud800", "\\ud800"),
        ("\U000e0041", "\\U000e0041"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_names_from_disk_cannot_forge_lines() -> None:
    forged = "x.py\nin sync: 14 packages"
    report = clean_report("files")._replace(
        files=(FileDrift(path=forged, kind="unowned", package=None),),
    )
    lines = render_text(report).splitlines()
    assert lines[1:] == [
        "unowned    x.py\\x0ain sync: 14 packages",
        "drift: 1 unowned file",
    ]


def test_render_dispatches_every_format() -> None:
    assert FORMATS == ("text", "json", "prometheus", "junit")
    for fmt in FORMATS:
        assert render(drifted_report(), fmt).endswith("\n")


def test_render_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        render(clean_report(), "yaml")
    assert str(raised.value) == (
        "unknown report format 'yaml'; use one of text, json, prometheus, junit"
    )
    assert raised.value.exit_code == 64


def test_write_report_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    text = render_text(drifted_report())
    write_report(text, None)
    captured = capsys.readouterr()
    assert captured.out == text
    assert captured.err == ""
