"""The pip: section of a conda environment: locked by the Python path, installed, checked."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.commands.check import run_conda_check
from lockdown.commands.install import install_conda
from lockdown.commands.lock import lock_conda
from lockdown.lock.condalock import read_conda_lock
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel
from tests.support.pkgindex import PackageIndex
from tests.support.venvs import uv_pip

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
VERSION = platform.python_version()


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    """A channel whose ``python`` package is this machine's interpreter, as a venv-style prefix."""
    binary = Path(os.path.realpath(sys.executable))
    home = binary.parent
    chan = CondaChannel(tmp_path / "channel")
    chan.add(
        "python",
        VERSION,
        files={
            "bin/python": binary.read_bytes(),
            "pyvenv.cfg": (
                f"home = {home}\ninclude-system-site-packages = false\nversion = {VERSION}\n"
            ).encode(),
        },
        placeholder_file=False,
    )
    chan.add("gamma", "1.0")
    chan.index()
    # The copied interpreter must run from another directory (it does wherever its
    # shared library is found by an absolute path, as with pyenv's builds).
    probe = tmp_path / "probe"
    (probe / "bin").mkdir(parents=True)
    (probe / "bin" / "python").write_bytes(binary.read_bytes())
    (probe / "bin" / "python").chmod(0o755)
    (probe / "pyvenv.cfg").write_text(f"home = {home}\n")
    ran = subprocess.run([probe / "bin" / "python", "-c", "pass"], capture_output=True, check=False)
    if ran.returncode != 0:
        pytest.skip("this interpreter does not run when copied into a prefix")
    return chan


@pytest.fixture
def project(tmp_path: Path, channel: CondaChannel, catalog: PackageIndex) -> Path:
    root = tmp_path / "ml"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\n"
        "dependencies:\n  - python\n  - gamma\n  - pip:\n    - alpha>=1\n",
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        f'[tool.lockdown]\nindex-url = "{catalog.url}"\n'
        '[tool.lockdown.conda]\nenvironment-file = "environment.yml"\n'
        f'platforms = ["{_here()}"]\n',
        encoding="utf-8",
    )
    return root


def _here() -> str:
    from lockdown.env.conda_meta import current_platform

    return current_platform()


def test_pip_section_locked_installed_and_checked(project: Path, tmp_path: Path) -> None:
    outcome = lock_conda(project)
    lock = read_conda_lock(outcome.path)
    pip = sorted((p.name, p.version) for p in lock.packages if p.conda.manager == "pip")
    assert pip == [("alpha", "1.1"), ("beta", "1.1")]
    wheel = next(p for p in lock.packages if p.name == "alpha")
    assert wheel.file.url.endswith("alpha-1.1-py3-none-any.whl")
    assert len(wheel.file.sha256) == 64
    # conda-lock's own parser reads the pip entries too.
    from lockdown.lock.condalock import require

    require()
    from conda_lock.lockfile import parse_conda_lock_file

    managers = sorted({p.manager for p in parse_conda_lock_file(outcome.path).package})
    assert managers == ["conda", "pip"]

    prefix = tmp_path / "prefix"
    done = install_conda(outcome.path, prefix)
    assert [line for line in done.plan.lines() if "pip" in line] == [
        "+ pip alpha==1.1",
        "+ pip beta==1.1",
    ]
    site = prefix / "lib" / f"python{VERSION.rsplit('.', 1)[0]}" / "site-packages"
    assert (site / "alpha").is_dir()
    for level in ("versions", "files"):
        report = run_conda_check(outcome.path, prefix, level=level)
        assert report.in_sync, (report.packages, report.files)
        assert report.expected == 4
    assert install_conda(outcome.path, prefix).plan.in_sync

    # Drift on the pip side: beta removed behind lockdown's back.
    assert uv_pip(prefix / "bin" / "python", "uninstall", "beta").returncode == 0
    report = run_conda_check(outcome.path, prefix)
    assert [(p.name, p.kind) for p in report.packages] == [("pip beta", "missing")]
    assert report.exit_code() == 2


def test_pip_wheels_are_pinned_as_the_index_declares_them(
    project: Path, catalog: PackageIndex
) -> None:
    def wheel_reads() -> list[str]:
        return sorted(s.path for s in catalog.served_to("lockdown/") if s.path.endswith(".whl"))

    # The index declares each wheel's sha256 and size: pinned without a download
    # (as for a Python lock); install verifies the bytes it uses.
    outcome = lock_conda(project)
    assert wheel_reads() == []
    declared = {p.name: p.file.sha256 for p in read_conda_lock(outcome.path).packages}
    assert len(declared["alpha"]) == 64
    # An index that gives no size: each chosen wheel is downloaded once and hashed.
    catalog.sizes = False
    outcome.path.unlink()
    again = lock_conda(project)
    reads = wheel_reads()
    assert [r.rsplit("/", 1)[-1] for r in reads] == [
        "alpha-1.1-py3-none-any.whl",
        "beta-1.1-py3-none-any.whl",
    ]
    assert {p.name: p.file.sha256 for p in read_conda_lock(again.path).packages} == declared


def test_a_pip_package_from_another_source_is_reinstalled_from_the_locked_wheel(
    project: Path, tmp_path: Path
) -> None:
    import shutil

    from lockdown.artifacts import ArtifactCache
    from lockdown.fsutil import default_cache_dir

    outcome = lock_conda(project)
    prefix = tmp_path / "prefix"
    install_conda(outcome.path, prefix)
    alpha = next(p for p in read_conda_lock(outcome.path).packages if p.name == "alpha")
    # The locked version, installed behind lockdown's back from a local file (a direct URL).
    elsewhere = tmp_path / "elsewhere" / alpha.file.filename
    elsewhere.parent.mkdir()
    shutil.copyfile(ArtifactCache(default_cache_dir()).path_for(alpha.file.sha256), elsewhere)
    ran = uv_pip(prefix / "bin" / "python", "install", "--reinstall", "--no-deps", str(elsewhere))
    assert ran.returncode == 0, ran.stderr
    before = run_conda_check(outcome.path, prefix)
    assert [(p.name, p.kind) for p in before.packages] == [("pip alpha", "source")]
    done = install_conda(outcome.path, prefix)
    assert [line for line in done.plan.lines() if "pip" in line] == ["+ pip alpha==1.1"]
    after = run_conda_check(outcome.path, prefix)
    assert after.in_sync, after.packages
    assert install_conda(outcome.path, prefix).plan.in_sync


def test_pip_section_without_python_is_refused(
    tmp_path: Path, channel: CondaChannel, catalog: PackageIndex, cli: Cli
) -> None:
    root = tmp_path / "nopy"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\ndependencies:\n  - gamma\n  - pip:\n    - alpha\n"
        f"platforms: [{_here()}]\n"
    )
    (root / "pyproject.toml").write_text(f'[tool.lockdown]\nindex-url = "{catalog.url}"\n')
    result = cli("lock", "--project", root, "--conda", "environment.yml")
    assert result.code == 64
    assert "the pip: section needs python among the conda dependencies" in result.err
    assert not (root / "conda-lock.yml").exists()


def test_artifacts_level_checks_the_pip_wheels_against_the_locked_wheels(
    project: Path, tmp_path: Path
) -> None:
    import base64
    import hashlib

    outcome = lock_conda(project)
    prefix = tmp_path / "prefix"
    install_conda(outcome.path, prefix)
    report = run_conda_check(outcome.path, prefix, level="artifacts")
    assert report.in_sync, (report.packages, report.files)
    # A file of the pip package alpha changed, and its installed RECORD rewritten to
    # match: the files level trusts the RECORD, the locked wheel does not.
    site = prefix / "lib" / f"python{VERSION.rsplit('.', 1)[0]}" / "site-packages"
    module = site / "alpha" / "__init__.py"
    module.write_bytes(b"import os  # planted\n")
    record = next(site.glob("alpha-*.dist-info")) / "RECORD"
    digest = base64.urlsafe_b64encode(hashlib.sha256(module.read_bytes()).digest()).rstrip(b"=")
    record.write_text(
        "".join(
            f"alpha/__init__.py,sha256={digest.decode()},{module.stat().st_size}\n"
            if line.startswith("alpha/__init__.py,")
            else line + "\n"
            for line in record.read_text().splitlines()
        )
    )
    assert run_conda_check(outcome.path, prefix, level="files").in_sync
    caught = run_conda_check(outcome.path, prefix, level="artifacts")
    rel = str(module.relative_to(prefix))
    assert sorted((f.path, f.kind, f.package, f.severity) for f in caught.files) == [
        (rel, "modified", "alpha", "normal"),
        (rel, "record", "alpha", "high"),
    ]
    assert caught.exit_code() == 8


def test_noarch_python_packages_are_checked_where_installers_put_them(
    channel: CondaChannel, tmp_path: Path
) -> None:
    channel.add(
        "pytool",
        "1.0",
        noarch="python",
        files={
            "site-packages/pytool/__init__.py": b"VERSION = '1.0'\n",
            "python-scripts/pytool-run": b"#!/bin/sh\necho pytool\n",
        },
        placeholder_file=False,
    )
    channel.index()
    root = tmp_path / "noarch"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\ndependencies: [python, pytool]\nplatforms: [{_here()}]\n"
    )
    lock_conda(root)
    prefix = tmp_path / "noarch-prefix"
    install_conda(root / "conda-lock.yml", prefix)
    site = prefix / "lib" / f"python{VERSION.rsplit('.', 1)[0]}" / "site-packages"
    module = site / "pytool" / "__init__.py"
    assert module.is_file()
    lock = root / "conda-lock.yml"
    report = run_conda_check(lock, prefix, level="artifacts")
    assert report.in_sync, report.files
    module.write_bytes(b"VERSION = 'planted'\n")
    caught = run_conda_check(lock, prefix, level="artifacts")
    assert [(f.path, f.kind) for f in caught.files] == [
        (str(module.relative_to(prefix)), "modified")
    ]
