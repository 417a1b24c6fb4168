"""Drift checks on real venvs built from the test index: every kind of drift, every level."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.commands.check import run_check
from lockdown.drift.model import DriftReport
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex
from tests.support.venvs import uv_pip

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow


def check(project: Path, venv: Path, level: str = "versions") -> DriftReport:
    return run_check(project / "pylock.toml", venv=venv, level=level)  # type: ignore[arg-type]


def site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def kinds(report: DriftReport) -> list[tuple[str, str]]:
    return [(p.name, p.kind) for p in report.packages]


@pytest.mark.parametrize("level", ["versions", "files", "artifacts"])
def test_clean_env_has_no_drift(project: Path, env: Path, level: str) -> None:
    report = check(project, env, level)
    assert report.in_sync, (report.packages, report.files)
    assert report.exit_code() == 0
    assert (report.expected, report.installed) == (3, 3)
    if level != "versions":
        assert report.files_checked > 0


def test_upgrade_uninstall_and_extra(project: Path, env: Path, catalog: PackageIndex) -> None:
    python = env / "bin" / "python"
    catalog.add("alpha", "2.0")
    assert uv_pip(python, "install", "--index-url", catalog.url, "-U", "alpha").returncode == 0
    assert uv_pip(python, "uninstall", "gamma").returncode == 0
    assert uv_pip(python, "install", "--index-url", catalog.url, "devtool").returncode == 0
    report = check(project, env)
    assert kinds(report) == [("alpha", "version"), ("gamma", "missing"), ("devtool", "unexpected")]
    assert report.packages[0].detail == "2.0 installed, 1.1 locked"
    assert report.exit_code() == 1 | 2 | 4


def test_editable_install_of_a_locked_name(project: Path, env: Path, tmp_path: Path) -> None:
    source = tmp_path / "beta-src"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        '[project]\nname = "beta"\nversion = "1.1"\n[build-system]\n'
        'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    # A tiny in-tree backend that supports editable installs, stdlib only.
    shutil.copy(Path(__file__).parent / "editable_backend.py", source / "backend.py")
    proc = uv_pip(env / "bin" / "python", "install", "--no-index", "-e", str(source))
    assert proc.returncode == 0, proc.stderr
    report = check(project, env)
    assert kinds(report) == [("beta", "source")]
    assert report.packages[0].detail.startswith("editable install from file://")
    assert report.exit_code() == 4


def test_modified_and_deleted_files(project: Path, env: Path) -> None:
    module = site(env) / "alpha" / "__init__.py"
    module.write_bytes(module.read_bytes().replace(b"1.1", b"6.6"))  # same size, other bytes
    (site(env) / "gamma" / "__init__.py").unlink()
    report = check(project, env, "files")
    assert [(f.path.split("site-packages/")[-1], f.kind, f.flags) for f in report.files] == [
        ("alpha/__init__.py", "modified", "5"),
        ("gamma/__init__.py", "missing", ""),
    ]
    assert report.exit_code() == 8
    assert check(project, env).exit_code() == 0  # versions level does not read files


def test_pth_and_sitecustomize_are_high_severity(project: Path, env: Path) -> None:
    (site(env) / "evil.pth").write_text("import os\n")
    (site(env) / "sitecustomize.py").write_text("print('hi')\n")
    (site(env) / "notes.txt").write_text("x\n")
    report = check(project, env, "files")
    found = {f.path.split("site-packages/")[-1]: (f.kind, f.severity) for f in report.files}
    assert found == {
        "evil.pth": ("unowned", "high"),
        "sitecustomize.py": ("unowned", "high"),
        "notes.txt": ("unowned", "normal"),
    }


def _record_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_forged_record_is_caught_only_against_the_wheel(project: Path, env: Path) -> None:
    module = site(env) / "alpha" / "__init__.py"
    forged = module.read_bytes() + b"import os  # backdoor\n"
    module.write_bytes(forged)
    record = next(site(env).glob("alpha-*.dist-info")) / "RECORD"
    forged_row = f"alpha/__init__.py,sha256={_record_digest(forged)},{len(forged)}"
    lines = [
        forged_row if row.startswith("alpha/__init__.py,") else row
        for row in record.read_text().splitlines()
    ]
    record.write_text("\n".join(lines) + "\n")
    assert check(project, env, "files").files == ()  # the installed RECORD was rewritten
    report = check(project, env, "artifacts")
    found = {(f.path.split("site-packages/")[-1], f.kind) for f in report.files}
    assert found == {("alpha/__init__.py", "modified"), ("alpha/__init__.py", "record")}
    assert report.exit_code() == 8


def test_record_entry_escaping_the_root(project: Path, env: Path) -> None:
    record = next(site(env).glob("beta-*.dist-info")) / "RECORD"
    record.write_text(record.read_text() + "../../../../../../../../etc/passwd,sha256=AAAA,1\n")
    report = check(project, env, "files")
    escapes = [f for f in report.files if f.kind == "escape"]
    assert len(escapes) == 1
    assert escapes[0].path == "../../../../../../../../etc/passwd"
    assert escapes[0].severity == "high"


def test_symlink_out_of_the_environment(project: Path, env: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    (site(env) / "linked.py").symlink_to(outside)
    report = check(project, env, "files")
    assert [(f.kind, f.severity) for f in report.files] == [("symlink", "high")]


def test_non_utf8_file_name(project: Path, env: Path) -> None:
    raw = bytes(site(env)) + b"/caf\xe9.txt"  # Latin-1 bytes, not valid UTF-8
    with open(raw, "wb") as handle:
        handle.write(b"x")
    report = check(project, env, "files")
    assert [f.path.split("site-packages/")[-1] for f in report.files] == ["caf\\xe9.txt"]
    report.files[0].path.encode("utf-8")  # printable, never a surrogate


def test_other_python_minor_version(project: Path, cli: Cli, tmp_path: Path) -> None:
    # Interpreters on PATH, and siblings of this one (pyenv-style version dirs).
    candidates = [shutil.which(f"python3.{minor}") for minor in (12, 13, 10, 14)]
    candidates += [str(p) for p in sorted(Path(sys.base_prefix).parent.glob("3.1*/bin/python3"))]
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next(
        (c for c in candidates if c and _runs(c) and _minor(c) not in (mine, "3.9", "")), None
    )
    if other is None:
        pytest.skip("no second Python minor version on this machine")
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "other"
    assert cli("install", "--project", project, "--venv", venv, "--python", other).code == 0
    report = check(project, venv, "files")
    assert report.in_sync
    assert not report.python_version.startswith("3.11")


def _runs(python: str) -> bool:
    return subprocess.run([python, "-c", "pass"], capture_output=True, check=False).returncode == 0


def _minor(python: str) -> str:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def test_versions_fast_path_is_exact_never_stale(
    project: Path, env: Path, cli: Cli, catalog: PackageIndex, artifact_cache: Path
) -> None:
    installs = set((artifact_cache / "check").glob("*.txt"))  # `install`'s own entries
    assert check(project, env).in_sync
    entries = set((artifact_cache / "check").glob("*.txt")) - installs
    assert len(entries) == 1  # the expected set was cached on the first run
    assert check(project, env).in_sync  # ...and served from the cache
    # The lock changes: the old entry must not answer for the new lock.
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('"alpha>=1"', '"alpha==1.0"')
    pyproject.write_text(text + '\n[tool.lockdown.policy]\nupgrades = "allow"\n')
    assert cli("lock", "--project", project).code == 0
    report = check(project, env)
    # alpha 1.0 needs no beta: beta is now unexpected.
    assert kinds(report) == [("alpha", "version"), ("beta", "unexpected")]
    assert len(set((artifact_cache / "check").glob("*.txt")) - installs) == 2
    # A damaged cache entry is ignored and rebuilt, never trusted.
    for entry in set((artifact_cache / "check").glob("*.txt")) - installs:
        entry.write_text(entry.read_text().rsplit("\n", 1)[0])  # cut short: no "end" line
    assert kinds(check(project, env)) == [("alpha", "version"), ("beta", "unexpected")]
