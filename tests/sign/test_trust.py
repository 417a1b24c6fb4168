"""[tool.lockdown.trust]: signers from config or flags, validated; an empty policy never passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.config import load_config
from lockdown.config.trust import IdentityRule, KeyRule, SigstoreInstance, TrustSettings
from lockdown.errors import ConfigError, UsageError
from lockdown.sign.interface import SignatureError
from lockdown.sign.keys import key_hint, sign_with_key
from lockdown.sign.trust import TrustPolicy, bundle_kind, policy_from_flags
from tests.conftest import CliResult
from tests.sign.conftest import KeyPair

Cli = Callable[..., CliResult]

GITHUB = "https://token.actions.githubusercontent.com"
LOCK_WORKFLOW = "https://github.com/acme/svc/.github/workflows/lock.yml@refs/heads/main"


def trust_of(tmp_path: Path, table: str) -> TrustSettings:
    (tmp_path / "pyproject.toml").write_text(f"[tool.lockdown.trust]\n{table}\n", encoding="utf-8")
    config, _ = load_config(tmp_path)
    assert config.trust is not None
    return config.trust


def test_signers_of_each_kind(tmp_path: Path) -> None:
    policy = trust_of(
        tmp_path,
        f"""require = true
trusted-root = "root.json"
signers = [
  {{ identity = "{LOCK_WORKFLOW}", issuer = "{GITHUB}" }},
  {{ identity-regex = "https://github\\\\.com/acme/.*", issuer = "{GITHUB}" }},
  {{ public-key = "keys/release.pub" }},
]""",
    )
    root = tmp_path.resolve()
    assert policy.require
    assert policy.instance == SigstoreInstance(trusted_root=root / "root.json")
    assert policy.identities == (
        IdentityRule(identity=LOCK_WORKFLOW, issuer=GITHUB),
        IdentityRule(identity="https://github\\.com/acme/.*", issuer=GITHUB, regex=True),
    )
    assert policy.keys == (KeyRule(public_key=root / "keys" / "release.pub"),)


def test_no_trust_table_means_no_policy(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lockdown]\n", encoding="utf-8")
    config, _ = load_config(tmp_path)
    assert config.trust is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("requre = true", "unknown key 'requre' in [tool.lockdown.trust]"),
        ('require = "yes"', "[tool.lockdown.trust] require must be true or false"),
        ('signers = "me"', "signers must be a list of tables"),
        ('signers = ["me"]', "signers[0] must be a table"),
        ('signers = [{ identity = "a" }]', "signers[0]: an identity needs its issuer"),
        (
            'signers = [{ identity = "a", identity-regex = "b", issuer = "c" }]',
            "give exactly one of identity, identity-regex or public-key",
        ),
        ('signers = [{ issuer = "c" }]', "give exactly one of identity, identity-regex"),
        ('signers = [{ public-key = "k.pub", issuer = "c" }]', "public-key stands alone"),
        ('signers = [{ identity-regex = "(", issuer = "c" }]', "invalid identity-regex '('"),
        (
            'signers = [{ subject = "a", issuer = "c" }]',
            "unknown key 'subject' in [tool.lockdown.trust] signers[0]",
        ),
    ],
)
def test_bad_trust_config(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        trust_of(tmp_path, table)
    assert message in str(info.value)
    assert info.value.exit_code == 64


def test_empty_policy_is_an_error_not_a_pass() -> None:
    with pytest.raises(UsageError, match="no trusted signers"):
        TrustPolicy().verify(b"data", b"{}", where="pylock.toml")


def test_flags_need_identity_and_issuer_together() -> None:
    instance = SigstoreInstance()
    with pytest.raises(UsageError, match="--identity needs --issuer"):
        policy_from_flags(
            identities=["a"], issuer=None, identity_regex=(), keys=(), instance=instance
        )
    with pytest.raises(UsageError, match="--issuer needs --identity"):
        policy_from_flags(identities=(), issuer="x", identity_regex=(), keys=(), instance=instance)
    with pytest.raises(UsageError, match="invalid --identity-regex"):
        policy_from_flags(
            identities=(), issuer="x", identity_regex=["["], keys=(), instance=instance
        )
    policy = policy_from_flags(
        identities=["a"],
        issuer="x",
        identity_regex=["b.*"],
        keys=[Path("k.pub")],
        instance=instance,
    )
    assert [r.regex for r in policy.identities] == [False, True]
    assert policy.keys == (KeyRule(public_key=Path("k.pub")),)


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (b"", "signature bundle is not valid JSON"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verif',
            "not valid JSON",
        ),
        (b"[]", "signature bundle is not a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_bundles(bundle: bytes, message: str) -> None:
    with pytest.raises(SignatureError) as info:
        bundle_kind(bundle, where="pylock.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("pylock.toml: ")
    assert info.value.exit_code == 16


def test_bundle_kinds() -> None:
    assert (
        bundle_kind(b'{"verificationMaterial": {"publicKey": {"hint": "x"}}}', where="f") == "key"
    )
    assert bundle_kind(b'{"verificationMaterial": {"certificate": {}}}', where="f") == "keyless"


def test_key_bundle_with_only_identities_in_policy() -> None:
    policy = TrustPolicy(identities=(IdentityRule(identity="a", issuer="b"),))
    with pytest.raises(
        SignatureError, match="signed with a key, but the trust policy lists no public keys"
    ):
        policy.verify(b"x", b'{"verificationMaterial": {"publicKey": {"hint": "h"}}}', where="f")


def test_keyless_bundle_with_only_keys_in_policy() -> None:
    policy = TrustPolicy(keys=(KeyRule(public_key=Path("k.pub")),))
    with pytest.raises(SignatureError, match=r"signed keylessly .* lists no identities"):
        policy.verify(b"x", b'{"verificationMaterial": {"certificate": {}}}', where="f")


# --- "passes if ANY listed signer verifies": a key that cannot be loaded is one failed signer ---


def _unloadable_keys(tmp_path: Path, key_pair: KeyPair) -> dict[str, tuple[Path, str]]:
    """Public-key entries that cannot be loaded, each with the reason verify gives."""
    garbage = tmp_path / "garbage.pub"
    garbage.write_bytes(b"not a key\n")
    missing = tmp_path / "missing.pub"
    return {
        "missing": (missing, f"public key file {missing} not found"),
        "unreadable": (tmp_path, f"cannot read public key file {tmp_path}: Is a directory"),
        "not-pem": (garbage, f"{garbage} is not a PEM public key"),
        "private": (key_pair.private_path, f"{key_pair.private_path} is a private key"),
    }


@pytest.mark.parametrize("bad", ["missing", "unreadable", "not-pem", "private"])
def test_an_unloadable_key_does_not_stop_another_from_verifying(
    tmp_path: Path, key_pair: KeyPair, bad: str
) -> None:
    data = b"lock bytes\n"
    bundle = sign_with_key(data, key_pair.private_key)
    unloadable, _ = _unloadable_keys(tmp_path, key_pair)[bad]
    policy = TrustPolicy(
        keys=(KeyRule(public_key=unloadable), KeyRule(public_key=key_pair.public_path))
    )
    verified = policy.verify(data, bundle, where="pylock.toml")
    assert verified.signer.startswith(f"key {key_pair.public_path} (SHA256:")
    assert verified.data == data


def test_unloadable_key_is_a_reason_when_none_verifies(
    tmp_path: Path, key_pair: KeyPair, other_key_pair: KeyPair
) -> None:
    data = b"lock bytes\n"
    bundle = sign_with_key(data, key_pair.private_key)
    reasons = _unloadable_keys(tmp_path, key_pair)
    missing, missing_reason = reasons["missing"]
    garbage, garbage_reason = reasons["not-pem"]
    policy = TrustPolicy(
        keys=(
            KeyRule(public_key=missing),
            KeyRule(public_key=other_key_pair.public_path),
            KeyRule(public_key=garbage),
        )
    )
    with pytest.raises(SignatureError) as caught:
        policy.verify(data, bundle, where="pylock.toml")
    assert caught.value.exit_code == 16
    assert str(caught.value) == (
        f"pylock.toml: no trusted key verifies it: {missing_reason}; "
        f"signed by a different key (hint {key_hint(key_pair.public_key)}), "
        f"not {other_key_pair.public_path}; {garbage_reason}"
    )


def test_no_key_loadable_is_a_usage_error(tmp_path: Path, key_pair: KeyPair) -> None:
    data = b"lock bytes\n"
    bundle = sign_with_key(data, key_pair.private_key)
    missing, missing_reason = _unloadable_keys(tmp_path, key_pair)["missing"]
    policy = TrustPolicy(keys=(KeyRule(public_key=missing),))
    with pytest.raises(UsageError) as caught:
        policy.verify(data, bundle, where="pylock.toml")
    assert caught.value.exit_code == 64
    assert str(caught.value) == (
        f"pylock.toml: no trusted public key could be loaded: {missing_reason}; "
        "fix the public-key paths in [tool.lockdown.trust] signers or --key"
    )


def test_configured_missing_key_does_not_abort_verify(
    tmp_path: Path, key_pair: KeyPair, other_key_pair: KeyPair, cli: Cli
) -> None:
    # Through the CLI and [tool.lockdown.trust]: the first signer's key file is gone.
    project = tmp_path / "svc"
    project.mkdir()
    artifact = project / "release-notes.txt"
    artifact.write_text("release notes\n", encoding="utf-8")
    (project / "release-notes.txt.sigstore.json").write_bytes(
        sign_with_key(artifact.read_bytes(), key_pair.private_key)
    )
    pyproject = project / "pyproject.toml"

    def trust(*keys: Path) -> None:
        signers = ", ".join(f'{{ public-key = "{k}" }}' for k in keys)
        pyproject.write_text(f"[tool.lockdown.trust]\nsigners = [{signers}]\n", encoding="utf-8")

    trust(Path("keys/retired.pub"), key_pair.public_path)
    before = sorted(p.name for p in project.iterdir())
    ok = cli("verify", artifact, "--project", project)
    assert ok.code == 0, ok.err
    assert ok.out == f"verified {artifact}: signed by key {key_pair.public_path} (SHA256:" + (
        f"{key_hint(key_pair.public_key)})\n"
    )
    # With no listed key able to verify: exit 16, every reason on one line.
    trust(Path("keys/retired.pub"), other_key_pair.public_path)
    refused = cli("verify", artifact, "--project", project)
    assert refused.code == 16
    assert refused.err == (
        f"lockdown: error: {artifact}: no trusted key verifies it: public key file "
        f"{project.resolve() / 'keys' / 'retired.pub'} not found; signed by a different key "
        f"(hint {key_hint(key_pair.public_key)}), not {other_key_pair.public_path}\n"
    )
    assert sorted(p.name for p in project.iterdir()) == before
