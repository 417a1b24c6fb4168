"""The versions level's "source changed": the locked source against PEP 610 ``direct_url.json``.

Locks are written by the real lockers (``uv pip compile --format pylock.toml``,
``pip lock``) for a local directory, a git commit and an archive, and the
package is then installed from the locked source, from another one, or from
the test index; installers record the source in ``direct_url.json`` (or,
for an index install, nothing at all).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lockdown.commands.check import run_check
from lockdown.drift.compare import ExpectedPin, LockedSource, other_source
from lockdown.drift.model import DriftReport
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex, build_sdist, build_wheel
from tests.support.venvs import UV, make_venv, pip, uv_pip

GIT = shutil.which("git")


def source_tree(root: Path, name: str, version: str, marker: str = "") -> Path:
    """A buildable source tree (the test sdist, unpacked), optionally with a different module."""
    sdist = build_sdist(root / "sdists", name, version)
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    tree = root / "unpacked" / f"{name}-{version}"
    if marker:
        module = tree / "src" / name / "__init__.py"
        module.write_text(module.read_text() + f"# {marker}\n")
    return tree


def uv_lock(requirements: str, output: Path) -> Path:
    """``uv pip compile --format pylock.toml`` of ``requirements`` (no index, no config)."""
    infile = output.parent / "requirements.in"
    infile.write_text(requirements)
    proc = subprocess.run(
        [UV, "--no-config", "pip", "compile", "--no-index", "--format", "pylock.toml",
         str(infile), "-o", str(output)],
        env=isolated_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return output


def pip_lock(requirements: str, output: Path) -> Path:
    """``pip lock`` (pip >= 25.1) of ``requirements``, run next to the lock (no index)."""
    infile = output.parent / "requirements.in"
    infile.write_text(requirements)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "lock", "--no-index", "-r", str(infile), "-o", str(output)],
        env=isolated_env(), capture_output=True, text=True, check=False, cwd=output.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return output


def sources(report: DriftReport) -> list[tuple[str, str, str]]:
    return [(p.name, p.kind, p.detail) for p in report.packages]


@pytest.mark.slow
def test_a_locked_directory(tmp_path: Path, package_index: PackageIndex) -> None:
    locked_tree = source_tree(tmp_path / "a", "localpkg", "1.0")
    other_tree = source_tree(tmp_path / "b", "localpkg", "1.0", marker="another checkout")
    lock = uv_lock(f"localpkg @ {locked_tree.as_uri()}\n", tmp_path / "pylock.toml")
    assert 'directory = { path = "' in lock.read_text()
    python = make_venv(tmp_path / "venv")
    venv = python.parent.parent
    assert uv_pip(python, "install", "--no-index", str(locked_tree)).returncode == 0
    assert run_check(lock, venv=venv).in_sync
    # Another directory: both sides named.
    assert uv_pip(python, "install", "--reinstall", "--no-index", str(other_tree)).returncode == 0
    assert sources(run_check(lock, venv=venv)) == [
        (
            "localpkg",
            "source",
            f"installed from local directory {other_tree.as_uri()}; "
            f"the lock pins local directory {locked_tree.as_uri()}",
        )
    ]
    # The same name and version from an index: no direct_url.json at all.
    package_index.add("localpkg", "1.0")
    proc = uv_pip(python, "install", "--reinstall", "--index-url", package_index.url, "localpkg")
    assert proc.returncode == 0, proc.stderr
    report = run_check(lock, venv=venv)
    assert sources(report) == [
        (
            "localpkg",
            "source",
            "installed from an index (no direct_url.json); "
            f"the lock pins local directory {locked_tree.as_uri()}",
        )
    ]
    assert report.exit_code() == 4


@pytest.mark.slow
@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_a_locked_git_commit(tmp_path: Path, package_index: PackageIndex) -> None:
    repo = source_tree(tmp_path / "src", "vcspkg", "1.0")
    environ = isolated_env(
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
    )  # fmt: skip

    def git(*args: str) -> str:
        proc = subprocess.run(
            [str(GIT), "-C", str(repo), *args], env=environ, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return proc.stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "first")
    first = git("rev-parse", "HEAD")
    (repo / "NEWS").write_text("second\n")
    git("add", "-A")
    git("commit", "-qm", "second")
    second = git("rev-parse", "HEAD")
    lock = pip_lock(f"vcspkg @ git+{repo.as_uri()}@{first}\n", tmp_path / "pylock.toml")
    assert f'commit-id = "{first}"' in lock.read_text()
    python = make_venv(tmp_path / "venv")
    venv = python.parent.parent
    proc = pip(python, "install", "--no-index", f"vcspkg @ git+{repo.as_uri()}@{first}")
    assert proc.returncode == 0, proc.stderr
    assert run_check(lock, venv=venv).in_sync
    proc = uv_pip(python, "install", "--reinstall", "--no-index", f"git+{repo.as_uri()}@{second}")
    assert proc.returncode == 0, proc.stderr
    assert sources(run_check(lock, venv=venv)) == [
        (
            "vcspkg",
            "source",
            f"installed from git {repo.as_uri()}@{second}; "
            f"the lock pins git {repo.as_uri()}@{first}",
        )
    ]
    package_index.add("vcspkg", "1.0")
    proc = pip(python, "install", "--force-reinstall", "--index-url", package_index.url, "vcspkg")
    assert proc.returncode == 0, proc.stderr
    assert sources(run_check(lock, venv=venv)) == [
        (
            "vcspkg",
            "source",
            "installed from an index (no direct_url.json); "
            f"the lock pins git {repo.as_uri()}@{first}",
        )
    ]


@pytest.mark.slow
def test_a_locked_archive(tmp_path: Path) -> None:
    sdist = build_sdist(tmp_path / "dist", "arcpkg", "1.0")
    wheel = build_wheel(tmp_path / "dist", "arcpkg", "1.0")
    lock = uv_lock(f"arcpkg @ {sdist.as_uri()}\n", tmp_path / "pylock.toml")
    assert "archive = {" in lock.read_text()
    python = make_venv(tmp_path / "venv")
    venv = python.parent.parent
    # pip records the archive's sha256 too; it is the locked one.
    assert pip(python, "install", "--no-index", str(sdist)).returncode == 0
    assert run_check(lock, venv=venv).in_sync
    assert uv_pip(python, "install", "--reinstall", "--no-index", str(wheel)).returncode == 0
    [(name, kind, detail)] = sources(run_check(lock, venv=venv))
    assert (name, kind) == ("arcpkg", "source")
    assert detail.startswith(f"installed from direct URL {wheel.as_uri()}; the lock pins archive ")
    assert sdist.name in detail


@pytest.mark.slow
def test_an_index_pin_names_its_index(
    project: Path, env: Path, catalog: PackageIndex, tmp_path: Path
) -> None:
    wheel = build_wheel(tmp_path / "elsewhere", "beta", "1.1")
    proc = uv_pip(env / "bin" / "python", "install", "--reinstall", "--no-index", str(wheel))
    assert proc.returncode == 0, proc.stderr
    report = run_check(project / "pylock.toml", venv=env)
    assert sources(report) == [
        (
            "beta",
            "source",
            f"installed from direct URL {wheel.as_uri()}; "
            f"the lock pins an index artifact from {catalog.url}",
        )
    ]


COMMIT, OTHER = "a" * 40, "b" * 40
REPO, ARCHIVE = "https://example.org/r.git", "https://example.org/p-1.0.tar.gz"
SHA, OTHER_SHA = "ab" * 32, "cd" * 32
GIT_PIN = ExpectedPin("1.0", False, LockedSource("vcs", REPO, COMMIT, "git"))
ARCHIVE_PIN = ExpectedPin("1.0", False, LockedSource("archive", ARCHIVE, SHA))


def vcs(url: str, commit: str, kind: str = "git", **more: str) -> dict[str, object]:
    return {"url": url, "vcs_info": {"vcs": kind, "commit_id": commit}, **more}


def archive(url: str, info: dict[str, object]) -> dict[str, object]:
    return {"url": url, "archive_info": info}


@pytest.mark.parametrize(
    ("pin", "direct_url", "same"),
    [
        (GIT_PIN, vcs(REPO, COMMIT), True),
        (GIT_PIN, vcs("git+" + REPO, COMMIT), True),
        (GIT_PIN, vcs(REPO, OTHER), False),
        (GIT_PIN, vcs("https://example.org/fork.git", COMMIT), False),
        (GIT_PIN, vcs(REPO, COMMIT, "hg"), False),
        (GIT_PIN, vcs(REPO, COMMIT, subdirectory="sub"), False),
        (GIT_PIN, {"url": REPO, "dir_info": {}}, False),
        (GIT_PIN, None, False),
        (ARCHIVE_PIN, archive(ARCHIVE, {"hashes": {"sha256": SHA}}), True),
        (ARCHIVE_PIN, archive(ARCHIVE, {"hash": "sha256=" + SHA}), True),
        (ARCHIVE_PIN, archive(ARCHIVE, {}), True),  # uv records no hash: the URL decides
        (ARCHIVE_PIN, archive(ARCHIVE, {"hashes": {"sha256": OTHER_SHA}}), False),
        (ARCHIVE_PIN, archive("https://mirror.example.org/p-1.0.tar.gz", {}), False),
        (ExpectedPin("1.0", True), None, True),
        (ExpectedPin("1.0", True, LockedSource("index", "https://ix.invalid/simple")), None, True),
        (ExpectedPin("1.0", True), {"url": "file:///src", "dir_info": {"editable": True}}, False),
        (ExpectedPin(None, False), {"url": "file:///src", "dir_info": {}}, True),
    ],
)
def test_which_records_are_the_locked_source(
    pin: ExpectedPin, direct_url: dict[str, object] | None, same: bool
) -> None:
    found = other_source(pin, direct_url)
    assert (found is None) is same, found
    if found is not None and pin.source is not None:
        assert found.endswith(pin.source.describe())
