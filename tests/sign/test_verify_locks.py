"""``verify`` checks the lock too: which files are checked as locks, and what a conda lock must pin.

The rule: a file named ``pylock.toml`` / ``pylock.<name>.toml`` or
``conda-lock.yml`` / ``conda-lock.<name>.yml`` / ``<name>.conda-lock.yml``, the
project's configured Python or conda lock whatever its name, or any file with
``--as-lock``, is also checked as a lock; every other file is verified as
plain bytes. Keys are real (made by ``lockdown keygen``'s code), bundles are
made by ``lockdown sign``; verification never writes, and every refusal is
checked to have left the directory byte-identical.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockdown.commands._lockfile import configured_lock_kind
from lockdown.config import load_config
from lockdown.sign.keys import key_hint
from lockdown.sign.verify import is_conda_lock, lock_kind
from tests.conftest import CliResult
from tests.sign.conftest import PASSWORD, SIGSTORE_FIXTURES, KeyPair

yaml = pytest.importorskip("yaml", reason="PyYAML writes the conda-lock files")

Cli = Callable[..., CliResult]

SHA256 = "5" * 64
MD5 = "d" * 32
FORGE = "https://channel.example.invalid/conda-forge"


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", PASSWORD.decode())


def conda_package(
    name: str = "alpha",
    *,
    url: str | None = None,
    sha256: str | None = SHA256,
    md5: str | None = MD5,
    manager: str = "conda",
) -> dict[str, Any]:
    """One ``package:`` entry of conda-lock's unified format."""
    hashes = {k: v for k, v in (("md5", md5), ("sha256", sha256)) if v is not None}
    return {
        "name": name,
        "version": "1.0",
        "manager": manager,
        "platform": "linux-64",
        "dependencies": {},
        "url": url or f"{FORGE}/linux-64/{name}-1.0-h0_0.conda",
        "hash": hashes,
        "category": "main",
        "optional": False,
    }


def write_conda_lock(path: Path, *packages: dict[str, Any]) -> Path:
    """A conda-lock.yml (version 1) holding ``packages`` (one good package by default)."""
    document = {
        "version": 1,
        "metadata": {
            "content_hash": {"linux-64": "0" * 64},
            "channels": [{"url": "conda-forge", "used_env_vars": []}],
            "platforms": ["linux-64"],
            "sources": ["environment.yml"],
        },
        "package": list(packages or (conda_package(),)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def write_pylock_without_sha256(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "a"\nversion = "1"\n'
        'wheels = [{ url = "https://files.example/a-1-py3-none-any.whl", '
        'hashes = { md5 = "0123456789abcdef0123456789abcdef" } }]\n',
        encoding="utf-8",
    )
    return path


def signed(cli: Cli, path: Path, key_pair: KeyPair) -> Path:
    """``path`` after ``lockdown sign --key``: a real key bundle next to it."""
    result = cli("sign", path, "--key", key_pair.private_path)
    assert result.code == 0, result.err
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def signer(key_pair: KeyPair) -> str:
    return f"key {key_pair.public_path} (SHA256:{key_hint(key_pair.public_key)})"


def refused(cli: Cli, root: Path, *argv: str | Path) -> CliResult:
    """Run ``verify`` expecting a refusal; nothing under ``root`` may change."""
    before = snapshot(root)
    result = cli("verify", *argv)
    assert result.code != 0
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert snapshot(root) == before
    return result


# --- the rule ---


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("pylock.toml", "pylock"),
        ("pylock.prod.toml", "pylock"),
        ("conda-lock.yml", "conda"),
        ("conda-lock.yaml", "conda"),
        ("conda-lock.prod.yml", "conda"),
        ("prod.conda-lock.yml", "conda"),
        ("my-conda-lock.yml", None),
        ("conda-lock.toml", None),
        ("environment.yml", None),
        ("pylock.toml.txt", None),
        ("README.md", None),
        ("rfc8785-0.1.2-py3-none-any.whl", None),
    ],
)
def test_which_names_are_locks(name: str, kind: str | None) -> None:
    assert lock_kind(Path("d") / name) == kind
    assert is_conda_lock(Path(name)) == (kind == "conda")


@pytest.mark.parametrize(
    ("name", "as_lock", "kind"),
    [
        ("locks.yml", True, "conda"),
        ("locks.yaml", True, "conda"),
        ("locks.toml", True, "pylock"),
        ("pylock.toml", True, "pylock"),
        ("pylock.toml", False, None),
        ("conda-lock.yml", "pylock", "pylock"),
        ("notes.txt", "conda", "conda"),
    ],
)
def test_as_lock_decides(name: str, as_lock: bool | str, kind: str | None) -> None:
    assert lock_kind(Path(name), as_lock) == kind  # type: ignore[arg-type]


def test_configured_locks_are_known_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lockdown]\noutput = "pylock.prod.toml"\n\n'
        '[tool.lockdown.conda]\noutput = "envs/prod.yml"\n',
        encoding="utf-8",
    )
    config, _ = load_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert configured_lock_kind(Path("pylock.prod.toml"), config) == "pylock"
    assert configured_lock_kind(tmp_path / "envs" / "prod.yml", config) == "conda"
    assert configured_lock_kind(Path("envs/../envs/prod.yml"), config) == "conda"
    assert configured_lock_kind(Path("envs/other.yml"), config) is None
    assert configured_lock_kind(Path("pylock.toml"), config) is None
    assert configured_lock_kind(Path("envs/prod.yml"), None) is None


# --- conda locks ---


@pytest.mark.parametrize("name", ["conda-lock.yml", "conda-lock.prod.yaml", "prod.conda-lock.yml"])
def test_conda_lock_by_name_verifies_as_a_lock(
    tmp_path: Path, cli: Cli, key_pair: KeyPair, name: str
) -> None:
    lock = signed(
        cli,
        write_conda_lock(
            tmp_path / name,
            conda_package("alpha"),
            conda_package("beta", manager="pip", md5=None, url="https://files.example/b.whl"),
        ),
        key_pair,
    )
    result = cli("verify", lock, "--key", key_pair.public_path)
    assert result.code == 0, result.err
    assert result.out == (
        f"verified {lock}: signed by {signer(key_pair)}; "
        "conda lock: 2 packages on 1 platform, every one pinned by sha256\n"
    )


@pytest.mark.parametrize(
    ("package", "described"),
    [
        (conda_package("alpha", sha256=None), "package[0] (alpha 1.0, linux-64)"),
        (conda_package("alpha", sha256="not-hex"), "package[0] (alpha 1.0, linux-64)"),
        (conda_package("alpha", md5=None), "package[0] (alpha 1.0, linux-64)"),
        (
            conda_package("beta", manager="pip", md5=None, sha256=None),
            "package[0] (beta 1.0, linux-64)",
        ),
    ],
    ids=["no-sha256", "bad-sha256", "no-md5", "pip-no-sha256"],
)
def test_conda_lock_without_sha256_is_refused(
    tmp_path: Path, cli: Cli, key_pair: KeyPair, package: dict[str, Any], described: str
) -> None:
    lock = signed(cli, write_conda_lock(tmp_path / "conda-lock.yml", package), key_pair)
    result = refused(cli, tmp_path, lock, "--key", key_pair.public_path)
    assert result.code == 16
    assert result.err == (
        f"lockdown: error: signature verifies, but {lock}: {described} needs a sha256 and an "
        "md5; lockdown installs only archives pinned by both; re-lock and re-sign\n"
    )


def test_malformed_conda_lock_is_refused(tmp_path: Path, cli: Cli, key_pair: KeyPair) -> None:
    lock = tmp_path / "conda-lock.yml"
    lock.write_text("version: 2\npackage: []\n", encoding="utf-8")
    signed(cli, lock, key_pair)
    result = refused(cli, tmp_path, lock, "--key", key_pair.public_path)
    assert result.code == 16
    assert result.err == (
        f"lockdown: error: signature verifies, but {lock}: version 2 is not conda-lock's "
        "unified format 1; re-lock and re-sign\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://mirror.example/conda-forge/linux-64/alpha-1.0-h0_0.conda",
        "file:///srv/channel/linux-64/alpha-1.0-h0_0.conda",
    ],
)
def test_conda_lock_not_over_https_is_refused(
    tmp_path: Path, cli: Cli, key_pair: KeyPair, url: str
) -> None:
    lock = signed(
        cli, write_conda_lock(tmp_path / "conda-lock.yml", conda_package(url=url)), key_pair
    )
    result = refused(cli, tmp_path, lock, "--key", key_pair.public_path)
    assert result.code == 16
    scheme = url.split(":", 1)[0]
    assert result.err == (
        f"lockdown: error: {lock}: package[0] (alpha 1.0, linux-64): alpha-1.0-h0_0.conda is "
        f"fetched over {scheme}, not https, from a channel or index that is not allowed; "
        "use https, or list the channel in [tool.lockdown.conda] channels or "
        "[tool.lockdown.policy] allowed-channels\n"
    )


@pytest.mark.parametrize(
    ("config", "url"),
    [
        (
            '[tool.lockdown.conda]\nchannels = ["http://mirror.example/conda-forge"]\n',
            "http://mirror.example/conda-forge/linux-64/alpha-1.0-h0_0.conda",
        ),
        (
            '[tool.lockdown.conda]\nchannels = ["/srv/channel"]\n',
            "file:///srv/channel/linux-64/alpha-1.0-h0_0.conda",
        ),
        (
            '[tool.lockdown.policy]\nallowed-channels = ["http://mirror.example/conda-forge"]\n',
            "http://mirror.example/conda-forge/linux-64/alpha-1.0-h0_0.conda",
        ),
    ],
    ids=["configured-channel", "local-channel", "allowed-channels"],
)
def test_conda_lock_on_a_configured_channel_is_allowed(
    tmp_path: Path, cli: Cli, key_pair: KeyPair, config: str, url: str
) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text(config, encoding="utf-8")
    lock = signed(
        cli, write_conda_lock(project / "conda-lock.yml", conda_package(url=url)), key_pair
    )
    result = cli("verify", lock, "--project", project, "--key", key_pair.public_path)
    assert result.code == 0, result.err
    # The same lock, verified without that project's config: refused.
    elsewhere = refused(cli, tmp_path, lock, "--key", key_pair.public_path)
    assert "not https, from a channel or index that is not allowed" in elsewhere.err


def test_configured_conda_lock_is_checked_whatever_its_name(
    tmp_path: Path, cli: Cli, key_pair: KeyPair
) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.lockdown.conda]\noutput = "envs/prod.yml"\n', encoding="utf-8"
    )
    lock = signed(
        cli,
        write_conda_lock(project / "envs" / "prod.yml", conda_package(sha256=None)),
        key_pair,
    )
    result = refused(cli, tmp_path, lock, "--project", project, "--key", key_pair.public_path)
    assert result.code == 16
    assert result.err.startswith(
        f"lockdown: error: signature verifies, but {lock}: package[0] (alpha 1.0, linux-64) "
        "needs a sha256 and an md5"
    )
    # The same signed bytes elsewhere, where no config names them: a plain file.
    other = tmp_path / "copy" / "prod.yml"
    other.parent.mkdir()
    shutil.copy(lock, other)
    shutil.copy(lock.with_name("prod.yml.sigstore.json"), other.with_name("prod.yml.sigstore.json"))
    plain = cli("verify", other, "--key", key_pair.public_path)
    assert plain.code == 0, plain.err
    assert plain.out == f"verified {other}: signed by {signer(key_pair)}\n"


def test_as_lock_checks_any_name(tmp_path: Path, cli: Cli, key_pair: KeyPair) -> None:
    conda = signed(
        cli, write_conda_lock(tmp_path / "locks" / "prod.yml", conda_package(sha256=None)), key_pair
    )
    python = signed(cli, write_pylock_without_sha256(tmp_path / "locks" / "python.toml"), key_pair)
    for path in (conda, python):
        plain = cli("verify", path, "--key", key_pair.public_path)
        assert plain.code == 0, plain.err
        assert plain.out == f"verified {path}: signed by {signer(key_pair)}\n"
    conda_refused = refused(cli, tmp_path, conda, "--as-lock", "--key", key_pair.public_path)
    assert conda_refused.code == 16
    assert "needs a sha256 and an md5" in conda_refused.err
    python_refused = refused(cli, tmp_path, python, "--as-lock", "--key", key_pair.public_path)
    assert python_refused.code == 16
    assert python_refused.err == (
        f"lockdown: error: {python}: packages[0] (a): a-1-py3-none-any.whl has no sha256 hash\n"
    )


def test_plain_files_still_verify_as_files(tmp_path: Path, cli: Cli, key_pair: KeyPair) -> None:
    # A project whose config names its locks: other files in it stay plain files.
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[tool.lockdown.conda]\noutput = "envs/prod.yml"\n\n[tool.lockdown.trust]\n'
        f'signers = [{{ public-key = "{key_pair.public_path}" }}]\n',
        encoding="utf-8",
    )
    readme = project / "README.md"
    readme.write_text("# svc\n", encoding="utf-8")
    settings = project / "settings.yml"
    settings.write_text("not: [a, conda, lock\n", encoding="utf-8")  # not even valid YAML
    files = [readme, settings]
    if SIGSTORE_FIXTURES.is_dir():
        wheel = project / "rfc8785-0.1.2-py3-none-any.whl"
        shutil.copy(SIGSTORE_FIXTURES / "bundle_v3_github.whl", wheel)
        files.append(wheel)
    for path in files:
        signed(cli, path, key_pair)
        result = cli("verify", path, "--project", project)
        assert result.code == 0, result.err
        assert result.out == f"verified {path}: signed by {signer(key_pair)}\n"


def test_configured_python_lock_is_checked(cli: Cli, project: Path, key_pair: KeyPair) -> None:
    assert cli("lock", "--project", project).code == 0
    signed(cli, project / "pylock.toml", key_pair)
    result = cli("verify", "--project", project, "--key", key_pair.public_path)
    assert result.code == 0, result.err
    assert result.out.startswith(
        f"verified {project / 'pylock.toml'}: signed by {signer(key_pair)}"
    )
    packages = (project / "pylock.toml").read_text(encoding="utf-8").count("[[packages]]")
    assert packages > 1
    assert result.out.endswith(
        f"; PEP 751 lock: {packages} packages, every artifact pinned by sha256\n"
    )


def test_conda_lock_check_imports_neither_rattler_nor_conda_lock(
    tmp_path: Path, cli: Cli, key_pair: KeyPair
) -> None:
    lock = signed(cli, write_conda_lock(tmp_path / "conda-lock.yml"), key_pair)
    script = (
        "import json, sys\n"
        "from lockdown.cli import main\n"
        f"code = main(['verify', '-q', {str(lock)!r}, '--key', {str(key_pair.public_path)!r}])\n"
        "print(json.dumps([code, sorted(m for m in ('conda_lock', 'rattler', 'pydantic')"
        " if m in sys.modules)]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [0, []]


def test_conda_lock_without_pyyaml_is_refused(
    tmp_path: Path, cli: Cli, key_pair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = signed(cli, write_conda_lock(tmp_path / "conda-lock.yml"), key_pair)
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    result = refused(cli, tmp_path, lock, "--key", key_pair.public_path)
    assert result.code == 64
    assert result.err == (
        f"lockdown: error: {lock}: checking a conda lock needs PyYAML, which is not installed; "
        "pip install 'lockdown[conda]'\n"
    )


@pytest.mark.slow
def test_real_conda_lock_from_a_local_channel(tmp_path: Path, cli: Cli, key_pair: KeyPair) -> None:
    """``lock --conda`` on a real channel, signed with a key: verify checks what it pins."""
    pytest.importorskip("rattler", reason="the conda extra builds and solves the channel")
    from lockdown.commands.lock import lock_conda
    from tests.support.condachannel import CondaChannel

    channel = CondaChannel(tmp_path / "channel")
    archive = channel.add("alpha", "1.0")
    channel.index()
    project = tmp_path / "svc"
    project.mkdir()
    # The channel comes from environment.yml, one of the project's inputs.
    (project / "environment.yml").write_text(
        f"channels: [{channel.file_url}]\ndependencies: [alpha]\nplatforms: [linux-64]\n",
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        '[tool.lockdown.conda]\nenvironment-file = "environment.yml"\noutput = "envs/prod.yml"\n',
        encoding="utf-8",
    )
    (project / "envs").mkdir()
    lock = lock_conda(project).path
    assert lock == project.resolve() / "envs" / "prod.yml"
    signed(cli, lock, key_pair)
    # The project's own inputs (environment.yml) name the channel: allowed.
    own = cli("verify", lock, "--project", project, "--key", key_pair.public_path)
    assert own.code == 0, own.err
    # Once the project's inputs no longer name it, nothing allows file:// any more.
    (project / "environment.yml").write_text(
        "channels: [https://example.invalid/channel]\ndependencies: [alpha]\n"
        "platforms: [linux-64]\n",
        encoding="utf-8",
    )
    result = refused(cli, tmp_path, lock, "--project", project, "--key", key_pair.public_path)
    assert result.code == 16
    assert result.err.startswith(
        f"lockdown: error: {lock}: package[0] (alpha 1.0, linux-64): {archive.name} is "
        "fetched over file, not https, from a channel or index that is not allowed; use https, "
    )
    # The channel listed in [tool.lockdown.conda]: allowed, and the lock is checked as one.
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + f'channels = ["{channel.file_url}"]\n',
        encoding="utf-8",
    )
    ok = cli("verify", lock, "--project", project, "--key", key_pair.public_path)
    assert ok.code == 0, ok.err
    assert ok.out == (
        f"verified {lock}: signed by {signer(key_pair)}; "
        "conda lock: 1 package on 1 platform, every one pinned by sha256\n"
    )
