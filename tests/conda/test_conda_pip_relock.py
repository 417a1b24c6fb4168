"""Re-locking the pip: section of a conda environment: kept pins, the cooldown, agreement.

The conda side's ``python`` is a stand-in package (locking never runs it); the
pip side resolves against the test package index.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown.commands.lock import lock_conda
from lockdown.env.conda_meta import current_platform
from lockdown.lock.condalock import read_conda_lock
from lockdown.report.outcomes import CondaLockOutcome
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel
from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
FROZEN = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
LONG_AGO = FROZEN - timedelta(days=60)


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    """python (this interpreter's version, never run here) and beta 1.0 on the conda side."""
    chan = CondaChannel(tmp_path / "channel")
    chan.add(
        "python",
        platform.python_version(),
        files={"bin/python": b"a stand-in: locking never runs it\n"},
        placeholder_file=False,
    )
    chan.add("beta", "1.0")
    chan.index()
    return chan


def project(
    root: Path,
    channel: CondaChannel,
    index: PackageIndex,
    pip: Sequence[str],
    *,
    conda: Sequence[str] = ("python",),
    policy: str = "",
) -> Path:
    root.mkdir(parents=True)
    deps = "".join(f"  - {spec}\n" for spec in conda)
    pips = "".join(f"    - {spec}\n" for spec in pip)
    (root / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\ndependencies:\n{deps}  - pip:\n{pips}",
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        f'[tool.lockdown]\nindex-url = "{index.url}"\n'
        '[tool.lockdown.conda]\nenvironment-file = "environment.yml"\n'
        f'platforms = ["{current_platform()}"]\n'
        + (f"[tool.lockdown.policy]\n{policy}" if policy else ""),
        encoding="utf-8",
    )
    return root


def lock(root: Path, **options: object) -> CondaLockOutcome:
    return lock_conda(root, clock=lambda: FROZEN, **options)  # type: ignore[arg-type]


def pip_versions(root: Path) -> dict[str, str]:
    lock_file = read_conda_lock(root / "conda-lock.yml")
    return {p.name: p.version for p in lock_file.packages if p.conda.manager == "pip"}


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_relocking_keeps_the_pip_pins_unless_asked_to_move(
    tmp_path: Path, channel: CondaChannel, package_index: PackageIndex
) -> None:
    package_index.add("alpha", "1.0", sdist=False, upload_time=LONG_AGO)
    root = project(tmp_path / "p", channel, package_index, ["alpha"])
    assert not lock(root).blocked
    assert pip_versions(root) == {"alpha": "1.0"}
    # The index each wheel came from is kept for the gate (conda-lock.yml has only its URL).
    custom = read_conda_lock(root / "conda-lock.yml").custom
    assert custom["pip-index alpha"] == package_index.url
    before = (root / "conda-lock.yml").read_bytes()
    # A newer release appears: a plain re-lock keeps the pin, and writes nothing.
    package_index.add("alpha", "1.1", sdist=False, upload_time=LONG_AGO + timedelta(days=1))
    again = lock(root)
    assert (again.blocked, again.changed) == (False, False)
    assert (root / "conda-lock.yml").read_bytes() == before
    # --upgrade-package moves it; the gate then judges the move (unapproved: blocked).
    moved = lock(root, upgrade_packages=["alpha"])
    assert [(v.name, v.version, v.reason) for v in moved.gate.blocked] == [
        ("alpha", "1.1", "minor upgrade; needs approval")
    ]
    assert (root / "conda-lock.yml").read_bytes() == before
    # --upgrade too.
    assert [v.name for v in lock(root, upgrade=True).gate.blocked] == ["alpha"]


def test_a_kept_pip_pin_the_inputs_now_exclude_is_relaxed(
    tmp_path: Path, channel: CondaChannel, package_index: PackageIndex
) -> None:
    package_index.add("alpha", "1.0", sdist=False, upload_time=LONG_AGO)
    package_index.add("alpha", "1.1", sdist=False, upload_time=LONG_AGO)
    root = project(tmp_path / "p", channel, package_index, ["alpha<1.1"])
    lock(root)
    assert pip_versions(root) == {"alpha": "1.0"}
    environment = root / "environment.yml"
    environment.write_text(environment.read_text().replace("alpha<1.1", "alpha>=1.1"))
    moved = lock(root)
    # The kept 1.0 no longer fits: resolved afresh, and the move is judged.
    assert [(v.name, v.version) for v in moved.gate.blocked] == [("alpha", "1.1")]


def test_the_cooldown_applies_to_the_pip_side(
    tmp_path: Path, channel: CondaChannel, package_index: PackageIndex
) -> None:
    package_index.add("alpha", "1.0", sdist=False, upload_time=LONG_AGO)
    package_index.add("alpha", "1.1", sdist=False, upload_time=FROZEN - timedelta(hours=1))
    root = project(
        tmp_path / "p", channel, package_index, ["alpha"], policy='min-release-age = "7 days"\n'
    )
    outcome = lock(root)
    # Without the cutoff, uv would pick the hour-old 1.1 and the gate would block it.
    assert not outcome.blocked, outcome.gate.blocked
    assert pip_versions(root) == {"alpha": "1.0"}


def test_pip_and_conda_must_agree(
    tmp_path: Path, channel: CondaChannel, package_index: PackageIndex, cli: Cli
) -> None:
    # conda installs beta 1.0; the only alpha on the index needs beta>=2.
    package_index.add("beta", "1.0", sdist=False, upload_time=LONG_AGO)
    package_index.add("beta", "2.0", sdist=False, upload_time=LONG_AGO)
    package_index.add("alpha", "1.0", dependencies=["beta>=2"], sdist=False, upload_time=LONG_AGO)
    root = project(tmp_path / "p", channel, package_index, ["alpha"], conda=("python", "beta"))
    before = snapshot(root)
    result = cli("lock", "--project", root, "--conda")
    assert result.code == 70, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"lockdown: error: pip and conda must agree: the pip: section for {current_platform()} "
        "does not resolve with the versions the conda side installs as constraints: "
    )
    assert "beta" in lines[0]
    assert snapshot(root) == before


def test_pip_requirements_that_do_not_resolve_at_all_say_so(
    tmp_path: Path, channel: CondaChannel, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add("alpha", "1.0", sdist=False, upload_time=LONG_AGO)
    root = project(tmp_path / "p", channel, package_index, ["alpha>=5"])
    before = snapshot(root)
    result = cli("lock", "--project", root, "--conda")
    assert result.code == 70, result.err
    assert result.err.startswith("lockdown: error: cannot resolve dependencies: ")
    assert "alpha" in result.err
    assert "pip and conda must agree" not in result.err
    assert snapshot(root) == before


def test_a_conda_version_pip_cannot_be_held_to_is_refused_when_pip_needs_it(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    chan = CondaChannel(tmp_path / "channel")
    chan.add(
        "python",
        platform.python_version(),
        files={"bin/python": b"a stand-in\n"},
        placeholder_file=False,
    )
    chan.add("beta", "1.1.1w")  # a conda version, not a PEP 440 one
    chan.index()
    package_index.add("beta", "1.0", sdist=False, upload_time=LONG_AGO)
    package_index.add("alpha", "1.0", dependencies=["beta"], sdist=False, upload_time=LONG_AGO)
    root = project(tmp_path / "p", chan, package_index, ["alpha"], conda=("python", "beta"))
    before = snapshot(root)
    result = cli("lock", "--project", root, "--conda")
    assert result.code == 70, result.err
    assert result.err.strip() == (
        f"lockdown: error: pip and conda must agree: the pip: section for {current_platform()} "
        "needs beta, which conda installs as 1.1.1w, not a version pip can be held to; "
        "move the pip requirement that needs beta to the conda dependencies"
    )
    assert snapshot(root) == before
