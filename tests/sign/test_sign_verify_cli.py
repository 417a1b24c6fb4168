"""``lockdown keygen`` / ``sign`` / ``verify`` end to end: real keys, real locks, real bundles."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "sigstore"
GITHUB = "https://token.actions.githubusercontent.com"
RFC8785 = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "correct horse battery staple")
    return "correct horse battery staple"


@pytest.fixture
def keys(tmp_path: Path, cli: Cli) -> tuple[Path, Path]:
    private = tmp_path / "keys" / "release.key"
    private.parent.mkdir()
    result = cli("keygen", private)
    assert result.code == 0, result.err
    return private, private.with_suffix(".pub")


@pytest.fixture
def signed(project: Path, cli: Cli, keys: tuple[Path, Path]) -> Path:
    """A locked, key-signed project."""
    assert cli("lock", "--project", project).code == 0
    result = cli("sign", "--project", project, "--key", keys[0])
    assert result.code == 0, result.err
    assert result.out == (
        f"signed {project / 'pylock.toml'} -> {project / 'pylock.toml.sigstore.json'}\n"
    )
    return project


def test_keygen_writes_an_encrypted_key_and_its_public_key(
    cli: Cli, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    assert private.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    again = cli("keygen", private)
    assert again.code == 64
    assert str(private) in again.err


def test_keygen_without_passphrase_source(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCKDOWN_KEY_PASSWORD")
    result = cli("keygen", tmp_path / "k.key")
    assert result.code == 64
    assert "no passphrase for the private key; set LOCKDOWN_KEY_PASSWORD" in result.err
    assert list(tmp_path.glob("k.*")) == []


def test_verify_with_key_flag(signed: Path, cli: Cli, keys: tuple[Path, Path]) -> None:
    result = cli("verify", "--project", signed, "--key", keys[1])
    assert result.code == 0, result.err
    assert result.out.startswith(f"verified {signed / 'pylock.toml'}: signed by key {keys[1]}")


def test_verify_with_configured_trust(signed: Path, cli: Cli, keys: tuple[Path, Path]) -> None:
    pyproject = signed / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.lockdown.trust]\nsigners = [{{ public-key = "{keys[1]}" }}]\n',
        encoding="utf-8",
    )
    result = cli("verify", "--project", signed)
    assert result.code == 0, result.err
    assert "signed by key" in result.out


def test_tampered_lock_fails(signed: Path, cli: Cli, keys: tuple[Path, Path]) -> None:
    lock = signed / "pylock.toml"
    data = bytearray(lock.read_bytes())
    data[-2] ^= 1
    lock.write_bytes(bytes(data))
    result = cli("verify", "--project", signed, "--key", keys[1])
    assert result.code == 16
    assert result.err.startswith(f"lockdown: error: {lock}: ")
    assert "digest" in result.err


def test_wrong_key_fails(signed: Path, cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    assert cli("keygen", other).code == 0
    result = cli("verify", "--project", signed, "--key", other.with_suffix(".pub"))
    assert result.code == 16
    assert "no trusted key verifies it" in result.err


def test_missing_bundle(project: Path, cli: Cli, keys: tuple[Path, Path]) -> None:
    assert cli("lock", "--project", project).code == 0
    result = cli("verify", "--project", project, "--key", keys[1])
    assert result.code == 16
    lock = project / "pylock.toml"
    assert result.err == (
        f"lockdown: error: {lock}: no signature bundle at {lock}.sigstore.json; "
        f"sign it with: lockdown sign {lock}\n"
    )


def test_no_trust_policy_is_a_usage_error(signed: Path, cli: Cli) -> None:
    result = cli("verify", "--project", signed)
    assert result.code == 64
    assert "no trust policy: nothing says whose signature to accept" in result.err


def test_keyless_sign_without_credential_writes_nothing(
    signed: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GITHUB_ACTIONS",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GITLAB_CI",
        "BUILDKITE",
        "SIGSTORE_ID_TOKEN",
        "CIRCLECI",
        "GOOGLE_SERVICE_ACCOUNT_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    bundle = signed / "pylock.toml.sigstore.json"
    before = bundle.read_bytes()
    result = cli("sign", "--project", signed)
    assert result.code == 70
    assert "no OIDC identity token" in result.err
    assert bundle.read_bytes() == before
    assert [p.name for p in signed.iterdir() if p.name.endswith(".tmp")] == []


def test_sign_missing_file(tmp_path: Path, cli: Cli, keys: tuple[Path, Path]) -> None:
    result = cli("sign", tmp_path / "pylock.toml", "--key", keys[0])
    assert result.code == 64
    assert "pylock.toml: file not found" in result.err
    assert not (tmp_path / "pylock.toml.sigstore.json").exists()


def test_signed_lock_must_pin_every_artifact_by_sha256(
    tmp_path: Path, cli: Cli, keys: tuple[Path, Path]
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "a"\nversion = "1"\n'
        'wheels = [{ url = "https://files.example/a-1-py3-none-any.whl", '
        'hashes = { md5 = "0123456789abcdef0123456789abcdef" } }]\n',
        encoding="utf-8",
    )
    assert cli("sign", lock, "--key", keys[0]).code == 0
    result = cli("verify", lock, "--key", keys[1])
    assert result.code == 16
    assert "packages[0] (a): a-1-py3-none-any.whl has no sha256 hash" in result.err


def test_signed_lock_over_plain_http_is_refused(
    tmp_path: Path, cli: Cli, keys: tuple[Path, Path]
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "a"\nversion = "1"\n'
        'wheels = [{ url = "http://mirror.example/a-1-py3-none-any.whl", '
        f'hashes = {{ sha256 = "{"0" * 64}" }} }}]\n',
        encoding="utf-8",
    )
    assert cli("sign", lock, "--key", keys[0]).code == 0
    result = cli("verify", lock, "--key", keys[1])
    assert result.code == 16
    assert "is fetched over http, not https, from an index that is not allowed" in result.err


def test_lock_on_the_configured_index_is_allowed(
    signed: Path, cli: Cli, keys: tuple[Path, Path]
) -> None:
    # The catalog index is plain http on 127.0.0.1 and is the configured index-url.
    result = cli("verify", "--project", signed, "--key", keys[1])
    assert result.code == 0, result.err


@pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"Sigstore fixtures not found at {FIXTURES}")
def test_keyless_fixture_verifies_offline_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    artifact = tmp_path / "rfc8785-0.1.2-py3-none-any.whl"
    shutil.copy(FIXTURES / "bundle_v3_github.whl", artifact)
    bundle = FIXTURES / "bundle_v3_github.whl.sigstore"
    ok = cli("verify", artifact, "--bundle", bundle, "--identity", RFC8785, "--issuer", GITHUB)
    assert ok.code == 0, ok.err
    assert f"signed by identity {RFC8785}" in ok.out
    wrong = cli(
        "verify", artifact, "--bundle", bundle, "--identity", RFC8785 + "x", "--issuer", GITHUB
    )
    assert wrong.code == 16
    regex = cli(
        "verify", artifact, "--bundle", bundle,
        "--identity-regex", r"https://github\.com/trailofbits/.*", "--issuer", GITHUB,
    )  # fmt: skip
    assert regex.code == 0, regex.err
    staging = cli(
        "verify", artifact, "--bundle", bundle, "--identity", RFC8785, "--issuer", GITHUB,
        "--staging",
    )  # fmt: skip
    assert staging.code == 16


def test_bundle_is_a_sigstore_v03_key_bundle(signed: Path) -> None:
    bundle = json.loads((signed / "pylock.toml.sigstore.json").read_bytes())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert "hint" in bundle["verificationMaterial"]["publicKey"]
    assert bundle["messageSignature"]["messageDigest"]["algorithm"] == "SHA2_256"


def test_key_signing_ignores_the_configured_keyless_instance(
    project: Path, cli: Cli, keys: tuple[Path, Path]
) -> None:
    # [tool.lockdown.trust] staging / trust-config describe keyless signing; with --key
    # they neither apply nor conflict (only the flags --staging / --trust-config do).
    assert cli("lock", "--project", project).code == 0
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.lockdown.trust]\ntrust-config = "missing.json"\n',
        encoding="utf-8",
    )
    result = cli("sign", "--project", project, "--key", keys[0])
    assert result.code == 0, result.err
    verified = cli("verify", "--project", project, "--key", keys[1])
    assert verified.code == 0, verified.err
