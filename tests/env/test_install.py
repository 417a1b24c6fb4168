"""``lockdown install`` and ``guard``: real venvs, the real installers, the test index.

Every failure path asserts that the environment is byte-for-byte what it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex
from tests.support.venvs import installed, uv_pip

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow

BASE = {"alpha": "1.1", "beta": "1.1", "gamma": "1.0"}


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256: to prove nothing changed."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_install_from_scratch(locked: Path, cli: Cli, tmp_path: Path, installer: str) -> None:
    venv = tmp_path / "venv"
    result = cli(
        "install", "--project", locked, "--venv", venv, "--extra", "fast", "--installer", installer
    )
    assert result.code == 0, result.err
    python = venv / "bin" / "python"
    assert installed(python) == BASE | {"speedup": "2.0"}
    assert "+ alpha==1.1" in result.out
    assert result.out.rstrip().endswith(f"added 4, changed 0, removed 0 in {venv} (created)")
    site = next((venv / "lib").glob("python3*/site-packages"))
    # Installed by name from verified files: no direct-URL record pointing into a cache.
    assert list(site.glob("*.dist-info/direct_url.json")) == []
    again = cli("install", "--project", locked, "--venv", venv, "--extra", "fast")
    assert again.code == 0
    assert "is in sync with pylock.toml (4 packages)" in again.out


def test_sync_removes_extras_and_restores_versions(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    assert cli("install", "--project", locked, "--venv", venv).code == 0
    python = venv / "bin" / "python"
    # By hand: an unlocked package, and a downgrade of a locked one.
    proc = uv_pip(python, "install", "--index-url", catalog.url, "devtool", "alpha==1.0")
    assert proc.returncode == 0, proc.stderr
    assert installed(python)["alpha"] == "1.0"
    dry = cli("install", "--project", locked, "--venv", venv, "--dry-run")
    assert dry.code == 1
    assert "~ alpha 1.0 -> 1.1" in dry.out
    assert "- devtool==0.5" in dry.out
    assert installed(python)["alpha"] == "1.0"  # dry run touched nothing
    result = cli("install", "--project", locked, "--venv", venv)
    assert result.code == 0, result.err
    assert installed(python) == BASE
    assert cli("install", "--project", locked, "--venv", venv, "--dry-run").code == 0


def test_installer_tooling_is_kept(locked: Path, cli: Cli, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], env=isolated_env(), check=True)
    seeded = set(installed(venv / "bin" / "python"))
    assert "pip" in seeded
    assert seeded <= {"pip", "setuptools", "wheel"}
    assert cli("install", "--project", locked, "--venv", venv).code == 0
    assert set(installed(venv / "bin" / "python")) == set(BASE) | seeded


@pytest.mark.parametrize("damage", ["tampered", "dropped"])
def test_bad_artifact_changes_nothing(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path, damage: str
) -> None:
    venv = tmp_path / "venv"
    assert cli("install", "--project", locked, "--venv", venv).code == 0
    python = venv / "bin" / "python"
    uv_pip(python, "install", "--index-url", catalog.url, "alpha==1.0")
    before = snapshot(venv)
    # Serve gamma's wheel wrong: same size, other bytes; or cut off mid-file.
    wheel = catalog.file("gamma-1.0-py3-none-manylinux_2_17_x86_64.whl")
    if damage == "tampered":
        data = bytearray(wheel.path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        wheel.path.write_bytes(bytes(data))
    else:
        catalog.drop_connection(wheel.filename, after_bytes=wheel.size // 2)
    # Make gamma need a download: remove it by hand, and use a cold cache.
    uv_pip(python, "uninstall", "gamma")
    before = snapshot(venv)
    result = cli(
        "install", "--project", locked, "--venv", venv, "--cache-dir", tmp_path / "cold-cache"
    )
    expected_code = 16 if damage == "tampered" else 70
    assert result.code == expected_code, result.err
    assert "gamma-1.0-py3-none-manylinux_2_17_x86_64.whl" in result.err
    assert "Traceback" not in result.err
    assert snapshot(venv) == before


def test_cached_artifact_is_rehashed_before_use(
    locked: Path, cli: Cli, tmp_path: Path, artifact_cache: Path
) -> None:
    first = tmp_path / "first"
    assert cli("install", "--project", locked, "--venv", first).code == 0
    # Someone alters the cache on disk; the next install must not use those bytes.
    for cached in artifact_cache.rglob("*"):
        if cached.is_file():
            cached.write_bytes(cached.read_bytes() + b"tampered")
    second = tmp_path / "second"
    result = cli("install", "--project", locked, "--venv", second)
    assert result.code == 0, result.err
    assert installed(second / "bin" / "python") == BASE


def test_unsigned_lock_refused_when_signatures_are_required(
    locked: Path, cli: Cli, tmp_path: Path
) -> None:
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.lockdown.trust]\nrequire = true\nsigners = [{ public-key = "k.pub" }]\n',
        encoding="utf-8",
    )
    venv = tmp_path / "venv"
    result = cli("install", "--project", locked, "--venv", venv)
    assert result.code == 16
    assert "no signature bundle at" in result.err
    assert not venv.exists()


def test_signed_lock_installs_under_require_signature(
    locked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "pw-for-this-test")
    key = tmp_path / "k.key"
    assert cli("keygen", key).code == 0
    assert cli("sign", "--project", locked, "--key", key).code == 0
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.lockdown.trust]\nsigners = [{{ public-key = "{key.with_suffix(".pub")}" }}]\n',
        encoding="utf-8",
    )
    result = cli("install", "--project", locked, "--venv", tmp_path / "venv", "--require-signature")
    assert result.code == 0, result.err
    assert result.out.startswith(f"verified {locked / 'pylock.toml'}: signed by key")


def test_wrong_platform_lock(project: Path, cli: Cli, tmp_path: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "environments = [\"sys_platform == 'win32'\"]\n", encoding="utf-8"
    )
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    result = cli("install", "--project", project, "--venv", venv)
    assert result.code == 16
    assert "cannot install for Python" in result.err
    assert "on linux x86_64" in result.err
    assert not venv.exists()


def test_no_wheel_for_this_platform_without_allow_build(
    catalog: PackageIndex, project: Path, cli: Cli, tmp_path: Path
) -> None:
    catalog.add("sdistonly", "1.0", wheel_tags=())
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"gamma",', '"gamma", "sdistonly",'), encoding="utf-8"
    )
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    result = cli("install", "--project", project, "--venv", venv)
    assert result.code == 16
    assert "sdistonly: no wheel for linux x86_64, only an sdist; pass --allow-build" in result.err
    assert not venv.exists()
    built = cli("install", "--project", project, "--venv", venv, "--allow-build")
    assert built.code == 0, built.err
    assert installed(venv / "bin" / "python")["sdistonly"] == "1.0"


def test_not_a_venv_is_refused(locked: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    result = cli("install", "--project", locked, "--venv", tmp_path / "junk")
    assert result.code == 70
    assert "exists but is not a virtual environment" in result.err


def _pip_as_users_run_it(home: Path) -> dict[str, str]:
    """pip finding its configuration itself (site, user, global), with a user config we own."""
    env = {k: v for k, v in isolated_env().items() if k != "PIP_CONFIG_FILE"}
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CONFIG_DIRS": str(home / "no-global-config"),
    }
    return env


def test_guard_pins_pip_in_the_venv(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    catalog.add("alpha", "2.0")
    catalog.add("gamma", "1.0")
    catalog.add("gamma", "2.0")
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], env=isolated_env(), check=True)
    assert cli("install", "--project", locked, "--venv", venv).code == 0
    # The user's own pip configuration names a constraints file: the guard keeps it.
    home = tmp_path / "home"
    outer = tmp_path / "outer-constraints.txt"
    outer.write_text("gamma<2\n")
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(f"[global]\nconstraint = {outer}\n")
    env = _pip_as_users_run_it(home)
    # Run from another directory, with a relative --venv: pip.conf must name an absolute path.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lockdown",
            "guard",
            "--project",
            str(locked),
            "--venv",
            "venv",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "kept the constraint files pip's other configuration names" in result.stderr
    assert str(outer) in result.stderr
    conf = (venv / "pip.conf").read_text()
    assert f"constraint = {venv.resolve() / 'lockdown-constraints.txt'}" in conf
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--index-url", catalog.url]

    def run_pip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*pip, *args], cwd=elsewhere, env=env, capture_output=True, text=True, check=False
        )

    moved = run_pip("alpha==2.0")
    assert moved.returncode != 0
    assert "alpha==1.1" in moved.stdout + moved.stderr  # the constraint pip names
    upgrade = run_pip("-U", "alpha")
    assert upgrade.returncode == 0, upgrade.stderr
    assert installed(venv / "bin" / "python")["alpha"] == "1.1"
    kept = run_pip("gamma==2.0")
    assert kept.returncode != 0  # the user's own constraint still holds under the guard
    report = cli("check", "--project", locked, "--venv", venv, "--format", "json").out
    assert json.loads(report)["guarded"] is True

    removed = cli("guard", "--venv", venv, "--remove")
    assert removed.code == 0
    assert not (venv / "pip.conf").exists()
    assert not (venv / "lockdown-constraints.txt").exists()
    free = run_pip("alpha==2.0")  # pip's own configuration as before, without the guard
    assert free.returncode == 0, free.stderr
    assert installed(venv / "bin" / "python")["alpha"] == "2.0"
    assert run_pip("gamma==2.0").returncode != 0  # and the user's constraint is still theirs
    report = cli("check", "--project", locked, "--venv", venv, "--format", "json").out
    assert json.loads(report)["guarded"] is False


def test_guard_refuses_a_lock_that_must_be_signed_and_is_not(
    locked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "correct horse")
    assert cli("keygen", tmp_path / "release.key").code == 0
    with (locked / "pyproject.toml").open("a") as config:
        config.write(
            f"\n[tool.lockdown.trust]\nrequire = true\n"
            f'signers = [{{ public-key = "{tmp_path / "release.pub"}" }}]\n'
        )
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    before = snapshot(venv)
    result = cli("guard", "--project", locked, "--venv", venv)
    assert result.code == 16, result.err
    assert "pylock.toml.sigstore.json" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert snapshot(venv) == before


def test_guard_remove_cleans_up_a_relative_constraint_path(tmp_path: Path, cli: Cli) -> None:
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "lockdown-constraints.txt").write_text("alpha==1.1\n")
    (venv / "pip.conf").write_text(
        "[global]\ntimeout = 5\n\n[install]\nconstraint = venv/lockdown-constraints.txt\n"
    )
    result = cli("guard", "--venv", venv, "--remove")
    assert result.code == 0, result.err
    assert (venv / "pip.conf").read_text() == "[global]\ntimeout = 5\n\n"
    assert not (venv / "lockdown-constraints.txt").exists()


def test_an_extra_or_group_the_lock_does_not_declare_is_a_usage_error(
    locked: Path, cli: Cli, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    typo = cli("install", "--project", locked, "--venv", venv, "--extra", "postgress")
    assert typo.code == 64
    assert typo.err == (
        f"lockdown: error: {locked / 'pylock.toml'}: extra 'postgress' is not in the lock\n"
    )
    group = cli("install", "--project", locked, "--venv", venv, "--group", "nope")
    assert group.code == 64
    assert "dependency group 'nope' is not in the lock" in group.err
    assert not venv.exists()


def test_a_python_outside_requires_python_is_refused(
    locked: Path, cli: Cli, tmp_path: Path
) -> None:
    lock = locked / "pylock.toml"
    text = lock.read_text()
    assert 'requires-python = "' in text
    start = text.index('requires-python = "')
    end = text.index('"', start + len('requires-python = "'))
    lock.write_text(text[:start] + 'requires-python = ">=3.99' + text[end:])
    venv = tmp_path / "venv"
    result = cli("install", "--project", locked, "--venv", venv)
    assert result.code == 16, result.err
    assert f"{lock}: cannot install for Python " in result.err
    assert ">=3.99" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not venv.exists()


def test_python_for_an_existing_venv_is_named_as_ignored(env: Path, locked: Path, cli: Cli) -> None:
    result = cli("install", "--project", locked, "--venv", env, "--python", "/usr/bin/python3")
    assert result.code == 0, result.err
    assert (
        f"{env} exists: installing for its own interpreter, not --python /usr/bin/python3"
        in result.err
    )


def test_a_lock_that_selects_nothing_still_creates_the_venv(tmp_path: Path, cli: Cli) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "t"\nrequires-python = ">=3.8"\n\n'
        '[[packages]]\nname = "winonly"\nversion = "1.0"\nmarker = "sys_platform == \'win32\'"\n'
        f'[[packages.wheels]]\nurl = "http://127.0.0.1:9/winonly-1.0-py3-none-any.whl"\n'
        f'hashes = {{ sha256 = "{"ab" * 32}" }}\n'
    )
    venv = tmp_path / "venv"
    result = cli("install", "--lock", lock, "--venv", venv)
    assert result.code == 0, result.err
    assert (venv / "bin" / "python").exists()
    assert installed(venv / "bin" / "python") == {}
    again = cli("install", "--lock", lock, "--venv", venv, "--dry-run")
    assert again.code == 0


def _edit_alpha(venv: Path, *, forge_record: bool) -> Path:
    """Append a line to alpha's module; with ``forge_record``, make RECORD agree with it."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    module = site / "alpha" / "__init__.py"
    module.write_bytes(module.read_bytes() + b"import os  # not from the wheel\n")
    if forge_record:
        record = next(site.glob("alpha-*.dist-info")) / "RECORD"
        data = module.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows = [
            f"alpha/__init__.py,sha256={digest},{len(data)}"
            if line.startswith("alpha/__init__.py,")
            else line
            for line in record.read_text(encoding="utf-8").splitlines()
        ]
        record.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return module


def test_install_at_the_versions_level_leaves_an_edited_file_alone(
    env: Path, locked: Path, cli: Cli
) -> None:
    module = _edit_alpha(env, forge_record=False)
    before = snapshot(env)
    result = cli("install", "--project", locked, "--venv", env)
    assert result.code == 0, result.err
    assert f"{env} is in sync with pylock.toml (3 packages)" in result.out
    assert snapshot(env) == before
    assert module.read_bytes().endswith(b"# not from the wheel\n")


def test_install_level_files_reinstalls_a_package_whose_file_was_edited(
    env: Path, locked: Path, cli: Cli
) -> None:
    module = _edit_alpha(env, forge_record=False)
    before = snapshot(env)
    dry = cli("install", "--project", locked, "--venv", env, "--level", "files", "--dry-run")
    assert dry.code == 1
    assert dry.out.splitlines() == [
        "~ alpha 1.1 -> 1.1 (reinstall: 1 file differs from its RECORD)",
        f"would add 0, change 1, remove 0 in {env} (dry run: nothing changed)",
    ]
    assert snapshot(env) == before
    result = cli("install", "--project", locked, "--venv", env, "--level", "files")
    assert result.code == 0, result.err
    assert "~ alpha 1.1 -> 1.1 (reinstall: 1 file differs from its RECORD)" in result.out
    assert not module.read_bytes().endswith(b"# not from the wheel\n")
    assert cli("check", "--project", locked, "--venv", env, "--level", "files").code == 0
    assert installed(env / "bin" / "python") == BASE


def test_install_level_artifacts_repairs_what_a_forged_record_hides(
    env: Path, locked: Path, cli: Cli
) -> None:
    module = _edit_alpha(env, forge_record=True)
    # The files level is fooled by the forged RECORD, so it repairs nothing.
    files = cli("install", "--project", locked, "--venv", env, "--level", "files", "--dry-run")
    assert files.code == 0
    result = cli("install", "--project", locked, "--venv", env, "--level", "artifacts")
    assert result.code == 0, result.err
    assert "~ alpha 1.1 -> 1.1 (reinstall: 1 file differs from the locked wheel)" in result.out
    assert not module.read_bytes().endswith(b"# not from the wheel\n")
    assert cli("check", "--project", locked, "--venv", env, "--level", "artifacts").code == 0


def test_install_level_with_prefix_is_a_usage_error(locked: Path, cli: Cli, tmp_path: Path) -> None:
    prefix = tmp_path / "conda-env"
    result = cli("install", "--project", locked, "--prefix", prefix, "--level", "files")
    assert result.code == 64
    assert "--prefix installs a conda environment; it takes none of" in result.err
    assert "--level" in result.err
    assert not prefix.exists()


def test_install_level_files_counts_each_drifted_file_of_a_package(
    env: Path, locked: Path, cli: Cli
) -> None:
    _edit_alpha(env, forge_record=False)
    site = next((env / "lib").glob("python3*/site-packages"))
    metadata = next(site.glob("alpha-*.dist-info")) / "METADATA"
    metadata.write_bytes(metadata.read_bytes() + b"\nedited\n")
    result = cli("install", "--project", locked, "--venv", env, "--level", "files")
    assert result.code == 0, result.err
    assert "~ alpha 1.1 -> 1.1 (reinstall: 2 files differ from its RECORD)" in result.out
    assert not metadata.read_bytes().endswith(b"\nedited\n")
    assert cli("check", "--project", locked, "--venv", env, "--level", "files").code == 0
