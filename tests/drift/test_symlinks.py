"""A recorded regular file replaced by a symlink: reported at every file level, by its RECORD path.

A wheel cannot hold a symlink, so a link where RECORD lists a file is a change
(``rpm -V``'s ``L``), wherever it points and whatever the target holds.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lockdown.commands.check import run_check
from lockdown.drift.files import RecordEntry, check_recorded
from lockdown.drift.model import DriftReport
from lockdown.report.text import file_line

pytestmark = pytest.mark.slow


def check(project: Path, venv: Path, level: str) -> DriftReport:
    return run_check(project / "pylock.toml", venv=venv, level=level)  # type: ignore[arg-type]


def site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def found(report: DriftReport) -> list[tuple[str, str, str, str]]:
    return [(f.path.split("site-packages/")[-1], f.kind, f.flags, f.detail) for f in report.files]


@pytest.mark.parametrize("level", ["files", "artifacts"])
def test_a_module_replaced_by_a_link_to_another_module(
    project: Path, env: Path, level: str
) -> None:
    module = site(env) / "alpha" / "__init__.py"
    module.unlink()
    module.symlink_to("../beta/__init__.py")
    report = check(project, env, level)
    assert found(report) == [
        ("alpha/__init__.py", "modified", "L", "replaced by a symlink to ../beta/__init__.py")
    ]
    assert report.files[0].package == "alpha"
    assert report.files[0].path.startswith("lib/python")  # relative to the venv, as RECORD says
    assert report.exit_code() == 8
    assert file_line(report.files[0]).startswith("....L....  lib/python")


@pytest.mark.parametrize("level", ["files", "artifacts"])
def test_a_link_to_an_identical_copy_is_still_a_change(
    project: Path, env: Path, level: str
) -> None:
    # The target's bytes are exactly the recorded ones, and it lies inside the
    # environment but outside site-packages (no unowned file to give it away).
    module = site(env) / "gamma" / "__init__.py"
    copy = env / "share" / "gamma-copy.py"
    copy.parent.mkdir()
    shutil.copyfile(module, copy)
    module.unlink()
    module.symlink_to(copy)
    report = check(project, env, level)
    assert found(report) == [
        ("gamma/__init__.py", "modified", "L", f"replaced by a symlink to {copy}")
    ]


def test_a_dangling_link_and_a_link_over_a_hashless_entry(project: Path, env: Path) -> None:
    module = site(env) / "beta" / "__init__.py"
    module.unlink()
    module.symlink_to("nowhere.py")
    # RECORD lists itself without a hash: its content is not checked, its type is.
    record = next(site(env).glob("alpha-*.dist-info")) / "RECORD"
    saved = env / "RECORD.saved"
    record.rename(saved)
    record.symlink_to(saved)
    report = check(project, env, "files")
    assert {(path, kind, flags) for path, kind, flags, _ in found(report)} == {
        ("beta/__init__.py", "modified", "L"),
        (f"{record.parent.name}/RECORD", "modified", "L"),
    }


@pytest.mark.parametrize("level", ["files", "artifacts"])
def test_a_link_pointing_out_of_the_environment_stays_high_severity(
    project: Path, env: Path, tmp_path: Path, level: str
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    module = site(env) / "alpha" / "__init__.py"
    module.unlink()
    module.symlink_to(outside)
    report = check(project, env, level)
    assert [(f.path.split("site-packages/")[-1], f.kind, f.severity) for f in report.files] == [
        ("alpha/__init__.py", "symlink", "high")
    ]


def test_records_that_allow_links_do_not_flag_them(tmp_path: Path) -> None:
    # Conda packages ship symlinks: their records keep the old judgement.
    real = tmp_path / "lib" / "libz.so.1.3"
    real.parent.mkdir()
    real.write_bytes(b"\x7fELF")
    link = tmp_path / "lib" / "libz.so"
    link.symlink_to(real.name)
    entries = [RecordEntry("lib/libz.so", None, None)]
    root = Path(os.path.realpath(tmp_path))
    assert check_recorded([("zlib", str(root), entries)], root).drift == []
    strict = check_recorded([("zlib", str(root), entries)], root, symlinks_allowed=False)
    assert [(f.path, f.kind, f.flags) for f in strict.drift] == [("lib/libz.so", "modified", "L")]
