"""Conda environments end to end: lock, install and drift-check, against a real local channel.

The channel holds real ``.tar.bz2`` and ``.conda`` packages built by the
fixture and indexed with rattler; it is used as ``file://`` and over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.commands.check import run_conda_check
from lockdown.commands.install import install_conda
from lockdown.commands.lock import lock_conda
from lockdown.env.conda_meta import current_platform
from lockdown.errors import IntegrityError
from lockdown.lock.condalock import read_conda_lock, require
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
HERE = current_platform()


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    """alpha 1.0 / 1.1 (1.1 needs beta >=1), beta 1.0 / 2.0 (2.0 as .conda), gamma 1.0."""
    chan = CondaChannel(tmp_path / "channel")
    chan.add("alpha", "1.0")
    chan.add("alpha", "1.1", depends=["beta >=1"])
    chan.add("beta", "1.0")
    chan.add("beta", "2.0", fmt="conda")
    chan.add("gamma", "1.0")
    chan.index()
    return chan


def environment(root: Path, channel_url: str, *specs: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    deps = "".join(f"  - {s}\n" for s in specs or ("alpha",))
    (root / "environment.yml").write_text(
        f"name: svc\nchannels:\n  - {channel_url}\ndependencies:\n{deps}"
        f"platforms:\n  - {HERE}\n  - osx-arm64\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def project(tmp_path: Path, channel: CondaChannel) -> Path:
    return environment(tmp_path / "svc", channel.file_url)


@pytest.fixture
def installed(project: Path, tmp_path: Path) -> Path:
    lock_conda(project)
    prefix = tmp_path / "prefix"
    install_conda(project / "conda-lock.yml", prefix)
    return prefix


def test_lock_writes_a_conda_lock_file_conda_lock_reads(
    project: Path, channel: CondaChannel
) -> None:
    require()  # imports conda-lock with its vendored code's deprecation warnings silenced
    from conda_lock.lockfile import parse_conda_lock_file

    outcome = lock_conda(project)
    assert outcome.changed
    parsed = parse_conda_lock_file(project / "conda-lock.yml")
    got = sorted((p.platform, p.name, p.version) for p in parsed.package)
    assert got == sorted(
        (platform, name, version)
        for platform in (HERE, "osx-arm64")
        for name, version in (("alpha", "1.1"), ("beta", "2.0"))
    )
    beta = next(p for p in parsed.package if p.name == "beta" and p.platform == HERE)
    record = channel.record(beta.url.rsplit("/", 1)[-1])
    assert (beta.hash.sha256, beta.hash.md5) == (record["sha256"], record["md5"])
    assert beta.url.endswith(".conda")
    # Deterministic: the same inputs and channel give the same bytes.
    before = (project / "conda-lock.yml").read_bytes()
    assert not lock_conda(project).changed
    assert (project / "conda-lock.yml").read_bytes() == before
    assert b"created_at" not in before


def test_lock_from_config_over_http(tmp_path: Path, channel: CondaChannel) -> None:
    root = tmp_path / "cfg"
    root.mkdir()
    with channel.serve() as url:
        (root / "pyproject.toml").write_text(
            "[tool.lockdown.conda]\n"
            f'channels = ["{url}"]\n'
            'dependencies = ["alpha 1.0.*", "gamma"]\n'
            f'platforms = ["{HERE}"]\n'
            'output = "envs/prod.conda-lock.yml"\n',
            encoding="utf-8",
        )
        (root / "envs").mkdir()
        outcome = lock_conda(root)
    lock = read_conda_lock(outcome.path)
    assert outcome.path == root.resolve() / "envs" / "prod.conda-lock.yml"
    assert sorted((p.name, p.version) for p in lock.packages) == [
        ("alpha", "1.0"),
        ("gamma", "1.0"),
    ]
    assert all(p.file.url.startswith(url) for p in lock.packages)


def test_install_then_check_in_sync_at_both_levels(installed: Path, project: Path) -> None:
    lock = project / "conda-lock.yml"
    assert sorted(p.name.split("-")[0] for p in (installed / "conda-meta").glob("*.json")) == [
        "alpha",
        "beta",
    ]
    # The prefix placeholder was rewritten to the real prefix.
    assert f"prefix={installed}" in (installed / "share" / "alpha" / "prefix.txt").read_text()
    for level in ("versions", "files"):
        report = run_conda_check(lock, installed, level=level)
        assert report.in_sync, (report.packages, report.files)
        assert (report.expected, report.installed) == (2, 2)
    assert run_conda_check(lock, installed, level="files").files_checked > 0
    again = install_conda(lock, installed)
    assert again.plan.in_sync


def test_drift_upgrade_extra_package_edited_file_and_forged_record(
    installed: Path, project: Path, channel: CondaChannel, tmp_path: Path
) -> None:
    lock = project / "conda-lock.yml"
    # Another lock moves beta down and adds gamma; installing it is the drift.
    other = environment(tmp_path / "other", channel.file_url, "alpha", "beta 1.0.*", "gamma")
    lock_conda(other)
    install_conda(other / "conda-lock.yml", installed)
    (installed / "share" / "alpha" / "alpha.txt").write_text("changed by hand\n")
    report = run_conda_check(lock, installed, level="files")
    assert [(p.name, p.kind) for p in report.packages] == [
        ("beta", "version"),
        ("gamma", "unexpected"),
    ]
    assert [(f.path, f.kind, f.flags) for f in report.files] == [
        ("share/alpha/alpha.txt", "modified", "S5")
    ]
    assert report.exit_code() == 1 | 4 | 8
    # A forged conda-meta record: the version says 1.1, the archive was another one.
    meta = next((installed / "conda-meta").glob("alpha-*.json"))
    record = json.loads(meta.read_text())
    record["sha256"] = "0" * 64
    meta.write_text(json.dumps(record))
    forged = run_conda_check(lock, installed)
    assert next((p.name, p.kind) for p in forged.packages) == ("alpha", "source")


def test_a_tampered_archive_is_refused_and_the_prefix_is_unchanged(
    project: Path, channel: CondaChannel, tmp_path: Path
) -> None:
    lock_conda(project)
    archive = next(p for p in channel.archives() if p.name.startswith("beta-2.0"))
    channel.tamper(archive.name)
    prefix = tmp_path / "new-prefix"
    with pytest.raises(IntegrityError) as caught:
        install_conda(project / "conda-lock.yml", prefix)
    assert archive.name in str(caught.value)
    assert "sha256" in str(caught.value)
    assert not prefix.exists()


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root``: directories, files (mode and bytes), symlinks (target)."""
    import os
    import stat

    out: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        rel = str(path.relative_to(root))
        if stat.S_ISLNK(info.st_mode):
            out[rel] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            out[rel] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            out[rel] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return out


def test_a_tampered_archive_is_refused_for_an_existing_prefix_which_stays_unchanged(
    installed: Path, channel: CondaChannel, tmp_path: Path, cli: Cli
) -> None:
    # The prefix holds alpha 1.1 and beta 2.0; the new lock moves beta and adds gamma,
    # whose archive on the channel no longer has its locked bytes.
    other = environment(tmp_path / "other", channel.file_url, "alpha", "beta 1.0.*", "gamma")
    lock_conda(other)
    gamma = next(p for p in channel.archives() if p.name.startswith("gamma-1.0"))
    channel.tamper(gamma.name)
    before = tree(installed)
    assert any(name.startswith("conda-meta/beta-2.0") for name in before)
    result = cli("install", "--project", other, "--prefix", installed)
    assert result.code == 16, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert gamma.name in result.err
    assert "sha256" in result.err
    assert tree(installed) == before


def test_install_reads_the_prefix_only_under_its_run_lock(installed: Path, project: Path) -> None:
    import threading

    from lockdown.fsutil import run_lock

    lock = project / "conda-lock.yml"
    outcomes: list[object] = []

    def install() -> None:
        try:
            outcomes.append(install_conda(lock, installed))
        except Exception as exc:  # reported by the assertion below
            outcomes.append(exc)

    with run_lock(installed):  # another lockdown run is busy with this prefix
        worker = threading.Thread(target=install)
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive(), "install went ahead while another run held the prefix"
        # Meanwhile that run removes beta; a plan made before the lock would miss it.
        meta = next((installed / "conda-meta").glob("beta-*.json"))
        for name in json.loads(meta.read_text())["files"]:
            (installed / name).unlink()
        meta.unlink()
    worker.join(timeout=300)
    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert not isinstance(outcome, Exception), outcome
    assert [p.name for p in outcome.plan.add] == ["beta"]  # type: ignore[attr-defined]
    assert run_conda_check(lock, installed, level="files").in_sync


def test_nothing_locked_for_this_platform(tmp_path: Path, channel: CondaChannel) -> None:
    root = tmp_path / "elsewhere"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\ndependencies: [alpha]\nplatforms: [osx-arm64]\n"
    )
    lock_conda(root)
    with pytest.raises(IntegrityError) as caught:
        install_conda(root / "conda-lock.yml", tmp_path / "p", platform=HERE)
    assert f"nothing is locked for {HERE} (locked: osx-arm64)" in str(caught.value)


# --- the command line ---


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed\n", "environment.yml: invalid YAML: "),
        (
            "channels: [c]\ndependencies: [alpha]\nextra: 1\n",
            "environment.yml: unknown key 'extra'",
        ),
        ("dependencies: [alpha]\n", "environment.yml: no channels"),
        ("channels: [c]\ndependencies: ['alpha >>=1']\n", "invalid conda match spec"),
        (
            "channels: [c]\ndependencies: [alpha]\nplatforms: [linux-128]\n",
            "unknown conda platform",
        ),
        ("- just a list\n", "an environment file is a mapping"),
    ],
)
def test_bad_environment_files_are_refused(
    tmp_path: Path, cli: Cli, content: str, message: str
) -> None:
    (tmp_path / "environment.yml").write_text(content, encoding="utf-8")
    before = snapshot(tmp_path)
    result = cli("lock", "--project", tmp_path, "--conda", "environment.yml")
    assert result.code == 64, result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_cli_lock_install_check(project: Path, tmp_path: Path, cli: Cli) -> None:
    locked = cli("lock", "--project", project, "--conda", "environment.yml")
    assert locked.code == 0, locked.err
    assert locked.out.startswith("locked 2 conda packages (4 archives, md5 and sha256 pinned)")
    prefix = tmp_path / "cli-prefix"
    dry = cli("install", "--project", project, "--prefix", prefix, "--dry-run")
    assert (dry.code, prefix.exists()) == (1, False)
    assert "+ alpha 1.1 (" in dry.out
    done = cli("install", "--project", project, "--prefix", prefix)
    assert done.code == 0, done.err
    assert done.out.rstrip().endswith(f"added 2, changed 0, removed 0 in {prefix} (created)")
    prom = tmp_path / "lockdown.prom"
    checked = cli(
        "check",
        "--project",
        project,
        "--prefix",
        prefix,
        "--level",
        "files",
        "--format",
        "prometheus",
        "--output",
        prom,
    )
    assert checked.code == 0, checked.err
    assert "lockdown_drift_packages" in prom.read_text() or "lockdown_" in prom.read_text()
    (prefix / "share" / "beta" / "beta.txt").unlink()
    missing = cli("check", "--project", project, "--prefix", prefix, "--level", "files")
    assert missing.code == 8
    assert "share/beta/beta.txt" in missing.out


def test_prefix_and_venv_options_do_not_mix(project: Path, tmp_path: Path, cli: Cli) -> None:
    result = cli("check", "--project", project, "--prefix", tmp_path, "--venv", tmp_path)
    assert result.code == 64
    assert "--prefix checks a conda environment" in result.err


@pytest.mark.parametrize("flag", [["--check"], ["--resolver", "uv"]])
def test_python_only_lock_options_are_refused_with_conda(
    project: Path, cli: Cli, flag: list[str]
) -> None:
    before = snapshot(project)
    result = cli("lock", "--project", project, "--conda", *flag)
    assert result.code == 64
    assert result.err.strip() == (
        "lockdown: error: --conda locks with py-rattler; "
        "--check and --resolver apply to Python locks only"
    )
    assert snapshot(project) == before


def test_without_the_conda_extra_the_command_says_how_to_get_it(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rattler", None)  # as if py-rattler were not installed
    before = snapshot(project)
    result = cli("lock", "--project", project, "--conda")
    assert result.code == 64
    assert result.err.strip() == (
        "lockdown: error: conda support needs py-rattler and conda-lock (rattler is missing); "
        "pip install 'lockdown[conda]'"
    )
    assert snapshot(project) == before


def test_conda_commands_exit_cleanly_every_time(project: Path, tmp_path: Path) -> None:
    # py-rattler 0.28 can crash while the interpreter shuts down; the CLI leaves
    # with os._exit after flushing, so the exit code is always the command's own.
    prefix = tmp_path / "loop-prefix"
    base = [sys.executable, "-m", "lockdown"]
    for _ in range(4):
        for argv in (
            ["lock", "--project", str(project), "--conda", "-q"],
            ["install", "--project", str(project), "--prefix", str(prefix), "-q"],
            ["check", "--project", str(project), "--prefix", str(prefix), "-q"],
        ):
            proc = subprocess.run([*base, *argv], capture_output=True, text=True, check=False)
            assert proc.returncode == 0, (argv, proc.stderr)
            assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("version: 1\n", "version: 2\n"), "version 2 is not conda-lock's"),
        (lambda t: t.replace("    md5: ", "    md6: ", 1), "needs a sha256 and an md5"),
        (lambda t: t.replace("  manager: conda", "  manager: npm", 1), ".manager must be"),
        (lambda t: t[: t.index("package:")] + "package: 7\n", "package must be a list"),
        (lambda t: t + "\n  - [unclosed", "not a valid conda-lock file"),
        (lambda t: t.replace("  platforms:\n", "  platforms: 3\n  x:\n", 1), "metadata.platforms"),
    ],
)
def test_a_malformed_conda_lock_is_refused_by_check_and_install(
    installed: Path, project: Path, cli: Cli, edit: Callable[[str], str], message: str
) -> None:
    lock = project / "conda-lock.yml"
    lock.write_text(edit(lock.read_text()))
    before = snapshot(installed)
    for command in ("check", "install"):
        result = cli(command, "--project", project, "--prefix", installed)
        assert result.code == 16, (command, result.err)
        assert message in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert snapshot(installed) == before


def test_artifacts_level_catches_a_forged_record_the_files_level_trusts(
    installed: Path, project: Path
) -> None:
    lock = project / "conda-lock.yml"
    assert run_conda_check(lock, installed, level="artifacts").in_sync
    # Change a file AND rewrite its conda-meta entry to match: the files level,
    # which trusts conda-meta, sees nothing; the locked archive's paths.json does.
    target = installed / "share" / "alpha" / "alpha.txt"
    target.write_bytes(b"replaced\n")
    meta = next((installed / "conda-meta").glob("alpha-*.json"))
    record = json.loads(meta.read_text())
    for entry in record["paths_data"]["paths"]:
        if entry["_path"] == "share/alpha/alpha.txt":
            entry["sha256"] = hashlib.sha256(b"replaced\n").hexdigest()
            entry["size_in_bytes"] = len(b"replaced\n")
    meta.write_text(json.dumps(record))
    assert run_conda_check(lock, installed, level="files").in_sync
    report = run_conda_check(lock, installed, level="artifacts")
    assert sorted((f.path, f.kind, f.severity) for f in report.files) == [
        ("share/alpha/alpha.txt", "modified", "normal"),
        ("share/alpha/alpha.txt", "record", "high"),
    ]
    assert report.exit_code() == 8


def test_lock_and_install_over_http(tmp_path: Path, channel: CondaChannel) -> None:
    with channel.serve() as url:
        root = environment(tmp_path / "http", url)
        lock_conda(root)
        prefix = tmp_path / "http-prefix"
        install_conda(root / "conda-lock.yml", prefix)
        served = list(channel.requests)
    assert any(path.endswith(".tar.bz2") or path.endswith(".conda") for path in served)
    assert run_conda_check(root / "conda-lock.yml", prefix, level="files").in_sync
