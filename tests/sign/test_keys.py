"""Key-based signing: key files, bundles, and every way a key bundle must fail (real crypto)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lockdown.errors import EXIT_INTEGRITY, EXIT_USAGE, UsageError
from lockdown.sign.interface import BUNDLE_MEDIA_TYPE, SignatureError, bundle_path_for
from lockdown.sign.keys import (
    generate_key_pair,
    key_hint,
    load_private_key,
    load_public_key,
    public_key_path_for,
    sign_with_key,
    verify_with_key,
)
from tests.sign.conftest import PASSWORD, KeyPair

LOCK = b'lock-version = "1.0"\ncreated-by = "lockdown"\n\n[[packages]]\nname = "alpha"\n'

#: A P-256 public key made by ``openssl ecparam``, and its hint computed with
#: ``openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64``.
OPENSSL_PUBLIC_KEY = b"""\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiaSp3SJ1Oa3fkXhszmhdALk+VOLl
3vPBtB60zVU1XCHllLv6PcGlLn2r2JBOEq4rBpDi/L8HSSryWCRWPdkdKQ==
-----END PUBLIC KEY-----
"""
OPENSSL_HINT = "NbXbFyovmZghVJ5m3N1l8nsbCU9xsSs7O9husOBZ2ec="


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def bundle_dict(bundle: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(bundle)
    return result


def to_bundle(obj: object) -> bytes:
    return json.dumps(obj, indent=2).encode()


def verify(data: bytes, bundle: bytes, pair: KeyPair, *, where: str | None = None) -> str:
    """Verify and return the signer, with the public key labelled by its file name."""
    return verify_with_key(
        data, bundle, pair.public_key, key_label=pair.public_path.name, where=where
    ).signer


def verify_error(data: bytes, bundle: bytes, pair: KeyPair) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(data, bundle, pair)
    assert caught.value.exit_code == EXIT_INTEGRITY
    return str(caught.value)


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test that changes it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# --- keygen ---


def test_keygen_writes_encrypted_private_key_and_public_key(tmp_path: Path) -> None:
    public_path = generate_key_pair(tmp_path / "release.key", password=PASSWORD)

    assert public_path == tmp_path / "release.pub"
    assert listing(tmp_path) == ["release.key", "release.pub"]  # no temp files left
    assert mode_of(tmp_path / "release.key") == 0o600
    assert mode_of(public_path) == 0o644
    private_pem = (tmp_path / "release.key").read_bytes()
    assert private_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(TypeError, match="private key is encrypted"):
        serialization.load_pem_private_key(private_pem, password=None)
    private_key = serialization.load_pem_private_key(private_pem, password=PASSWORD)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert isinstance(private_key.curve, ec.SECP256R1)
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert load_public_key(public_path).public_numbers() == (
        private_key.public_key().public_numbers()
    )


@pytest.mark.parametrize("process_umask", [0o000, 0o077])
@pytest.mark.usefixtures("umask")
def test_keygen_modes_do_not_depend_on_the_umask(tmp_path: Path, process_umask: int) -> None:
    os.umask(process_umask)
    generate_key_pair(tmp_path / "release.key", password=PASSWORD)
    assert mode_of(tmp_path / "release.key") == 0o600
    assert mode_of(tmp_path / "release.pub") == 0o644


@pytest.mark.parametrize(
    ("private", "public"),
    [
        ("release.key", "release.pub"),
        ("release", "release.pub"),
        ("acme.release.pem", "acme.release.pub"),
    ],
)
def test_public_key_path_for(private: str, public: str) -> None:
    assert public_key_path_for(Path("keys") / private) == Path("keys") / public


def test_keygen_without_suffix_appends_pub(tmp_path: Path) -> None:
    assert generate_key_pair(tmp_path / "release", password=PASSWORD) == tmp_path / "release.pub"
    assert listing(tmp_path) == ["release", "release.pub"]


@pytest.mark.parametrize("existing", ["release.key", "release.pub"])
def test_keygen_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_bytes(b"precious\n")

    with pytest.raises(UsageError) as caught:
        generate_key_pair(tmp_path / "release.key", password=PASSWORD)

    assert caught.value.exit_code == EXIT_USAGE
    assert str(caught.value) == (
        f"{tmp_path / existing} already exists; lockdown keygen never overwrites a key: "
        "remove it or choose another file name"
    )
    assert listing(tmp_path) == [existing]
    assert (tmp_path / existing).read_bytes() == b"precious\n"


def test_keygen_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "release.key").symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(UsageError, match="already exists"):
        generate_key_pair(tmp_path / "release.key", password=PASSWORD)
    assert not (tmp_path / "elsewhere.key").exists()


def test_keygen_refuses_an_empty_passphrase(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        generate_key_pair(tmp_path / "release.key", password=b"")
    assert str(caught.value) == (
        f"refusing to write {tmp_path / 'release.key'} with an empty passphrase; "
        "set LOCKDOWN_KEY_PASSWORD or type a passphrase at the prompt"
    )
    assert listing(tmp_path) == []


def test_keygen_refuses_a_pub_private_key_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        generate_key_pair(tmp_path / "release.pub", password=PASSWORD)
    assert str(caught.value) == (
        f"{tmp_path / 'release.pub'}: a private key file name must not end in .pub; "
        "use a name such as release.key"
    )
    assert listing(tmp_path) == []


def test_keygen_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        generate_key_pair(tmp_path / "missing" / "release.key", password=PASSWORD)
    assert str(caught.value) == (
        f"cannot write {tmp_path / 'missing' / 'release.key'}: No such file or directory"
    )
    assert listing(tmp_path) == []


# --- private keys ---


def test_load_private_key_with_the_passphrase(key_pair: KeyPair) -> None:
    key, warnings = load_private_key(key_pair.private_path, password=PASSWORD)
    assert warnings == []
    assert key.public_key().public_numbers() == key_pair.public_key.public_numbers()


def test_wrong_passphrase(key_pair: KeyPair) -> None:
    with pytest.raises(UsageError) as caught:
        load_private_key(key_pair.private_path, password=b"battery horse")
    assert caught.value.exit_code == EXIT_USAGE
    assert str(caught.value) == (
        f"{key_pair.private_path}: wrong passphrase for the private key; set LOCKDOWN_KEY_PASSWORD"
    )


@pytest.mark.parametrize("password", [None, b""])
def test_encrypted_key_without_a_passphrase(key_pair: KeyPair, password: bytes | None) -> None:
    with pytest.raises(UsageError) as caught:
        load_private_key(key_pair.private_path, password=password)
    assert str(caught.value) == (
        f"{key_pair.private_path}: the private key is encrypted and no passphrase was given; "
        "set LOCKDOWN_KEY_PASSWORD or type the passphrase at the prompt"
    )


@pytest.mark.parametrize("password", [None, PASSWORD])
def test_unencrypted_private_key_loads_with_a_warning(
    tmp_path: Path, password: bytes | None
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "plain.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)

    loaded, warnings = load_private_key(path, password=password)

    assert loaded.private_numbers() == key.private_numbers()
    assert warnings == [
        f"key file {path} is not encrypted; anyone who copies it can sign: "
        "re-create it with `lockdown keygen`"
    ]


@pytest.mark.parametrize(
    ("mode", "warning"),
    [
        (0o644, "readable by group/others (mode 0644)"),
        (0o640, "readable by group/others (mode 0640)"),
        (0o620, "writable by group/others (mode 0620)"),
    ],
)
def test_loose_permissions_are_warned_about(key_pair: KeyPair, mode: int, warning: str) -> None:
    key_pair.private_path.chmod(mode)
    _, warnings = load_private_key(key_pair.private_path, password=PASSWORD)
    assert warnings == [f"key file {key_pair.private_path} is {warning}; chmod 600 it"]


def test_missing_private_key(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_private_key(tmp_path / "release.key", password=PASSWORD)
    assert str(caught.value) == (
        f"private key file {tmp_path / 'release.key'} not found; check the path"
    )


def test_unreadable_private_key(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_private_key(tmp_path, password=PASSWORD)  # a directory
    assert str(caught.value) == f"cannot read private key file {tmp_path}: Is a directory"


@pytest.mark.parametrize(
    "content",
    [b"", b"not a key\n", OPENSSL_PUBLIC_KEY, b"\x00\xff\x10binary"],
    ids=["empty", "text", "public-key", "binary"],
)
def test_not_a_pem_private_key(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "release.key"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        load_private_key(path, password=PASSWORD)
    assert str(caught.value) == (
        f"{path} is not a PEM private key; pass the key written by `lockdown keygen`"
    )


def test_cosign_private_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cosign.key"
    path.write_bytes(
        b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n"
        b"-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    with pytest.raises(UsageError) as caught:
        load_private_key(path, password=PASSWORD)
    assert str(caught.value) == (
        f"{path} is a cosign-format key, which lockdown cannot read; "
        "create a PEM key pair with `lockdown keygen`"
    )


@pytest.mark.parametrize(
    ("make_key", "described"),
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "an ECDSA secp384r1 key"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "an RSA key"),
    ],
    ids=["p384", "rsa"],
)
def test_private_key_must_be_p256(tmp_path: Path, make_key: Any, described: str) -> None:
    path = tmp_path / "other.key"
    path.write_bytes(
        make_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD),
        )
    )
    with pytest.raises(UsageError) as caught:
        load_private_key(path, password=PASSWORD)
    assert str(caught.value) == (
        f"{path} holds {described}, not an ECDSA P-256 key; create one with `lockdown keygen`"
    )


# --- public keys and hints ---


def test_key_hint_is_cosigns_convention(tmp_path: Path) -> None:
    path = tmp_path / "openssl.pub"
    path.write_bytes(OPENSSL_PUBLIC_KEY)
    assert key_hint(load_public_key(path)) == OPENSSL_HINT


def test_missing_public_key(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_public_key(tmp_path / "release.pub")
    assert caught.value.exit_code == EXIT_USAGE
    assert str(caught.value) == (
        f"public key file {tmp_path / 'release.pub'} not found; check the path"
    )


def test_private_key_given_as_public_key(key_pair: KeyPair) -> None:
    with pytest.raises(UsageError) as caught:
        load_public_key(key_pair.private_path)
    assert str(caught.value) == (
        f"{key_pair.private_path} is a private key; "
        f"pass the public key ({key_pair.public_path}) to verify"
    )


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"-----BEGIN PUBLIC KEY-----\nAAAA\n"])
def test_not_a_pem_public_key(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "release.pub"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        load_public_key(path)
    assert str(caught.value) == (
        f"{path} is not a PEM public key; pass the .pub file written by `lockdown keygen`"
    )


def test_public_key_must_be_p256(tmp_path: Path) -> None:
    path = tmp_path / "p384.pub"
    path.write_bytes(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UsageError) as caught:
        load_public_key(path)
    assert (
        str(caught.value) == f"{path} holds an ECDSA secp384r1 key, not an ECDSA P-256 public key"
    )


# --- signing ---


def test_sign_verify_round_trip(key_pair: KeyPair) -> None:
    bundle = sign_with_key(LOCK, key_pair.private_key)

    verified = verify_with_key(LOCK, bundle, key_pair.public_key, key_label="keys/release.pub")

    assert verified.data == LOCK
    assert verified.signer == f"key keys/release.pub (SHA256:{key_hint(key_pair.public_key)})"


def test_bundle_shape(key_pair: KeyPair) -> None:
    bundle = sign_with_key(LOCK, key_pair.private_key)

    assert bundle.endswith(b"}\n")
    assert bundle.isascii()
    parsed = bundle_dict(bundle)
    signature = base64.b64decode(parsed["messageSignature"]["signature"], validate=True)
    assert parsed == {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(key_pair.public_key)},
            "tlogEntries": [],
        },
        "messageSignature": {
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": base64.b64encode(hashlib.sha256(LOCK).digest()).decode(),
            },
            "signature": parsed["messageSignature"]["signature"],
        },
    }
    # The signature is DER ECDSA-SHA256 over the file's bytes themselves.
    key_pair.public_key.verify(signature, LOCK, ec.ECDSA(hashes.SHA256()))


def test_signing_twice_gives_the_same_structure(key_pair: KeyPair) -> None:
    first = sign_with_key(LOCK, key_pair.private_key)
    second = sign_with_key(LOCK, key_pair.private_key)

    def without_signature(bundle: bytes) -> str:
        parsed = bundle_dict(bundle)
        parsed["messageSignature"]["signature"] = "…"
        return json.dumps(parsed)  # insertion order: compares key order too

    assert without_signature(first) == without_signature(second)
    # Byte-identical except for the signature's own line.
    assert [line for line in first.splitlines() if b'"signature"' not in line] == [
        line for line in second.splitlines() if b'"signature"' not in line
    ]
    verify(LOCK, first, key_pair)
    verify(LOCK, second, key_pair)


def test_sigstore_models_accept_the_bundle(key_pair: KeyPair) -> None:
    """The protobuf-specs models (sigstore-python's parser layer) read the bundle unchanged."""
    from sigstore_models.bundle.v1 import Bundle

    bundle = sign_with_key(LOCK, key_pair.private_key)
    parsed = Bundle.from_json(bundle)
    assert parsed.to_dict() == bundle_dict(bundle)


def test_sign_refuses_a_non_p256_key() -> None:
    with pytest.raises(UsageError) as caught:
        sign_with_key(LOCK, ec.generate_private_key(ec.SECP384R1()))
    assert str(caught.value) == (
        "cannot sign with an ECDSA secp384r1 key; lockdown signs with ECDSA P-256 keys"
    )


# --- verification failures ---


def test_tampered_file_fails_on_the_digest(key_pair: KeyPair) -> None:
    bundle = sign_with_key(LOCK, key_pair.private_key)
    tampered = bytearray(LOCK)
    tampered[LOCK.index(b"alpha")] ^= 0x01  # alpha → `lpha
    assert verify_error(bytes(tampered), bundle, key_pair) == (
        "digest does not match the file: the file changed after signing"
    )


def test_bundle_of_another_file(key_pair: KeyPair) -> None:
    other_bundle = sign_with_key(b"another lock\n", key_pair.private_key)
    assert verify_error(LOCK, other_bundle, key_pair) == (
        "digest does not match the file: the file changed after signing"
    )


def test_tampered_signature(key_pair: KeyPair) -> None:
    parsed = bundle_dict(sign_with_key(LOCK, key_pair.private_key))
    signature = bytearray(base64.b64decode(parsed["messageSignature"]["signature"]))
    signature[-1] ^= 0x01
    parsed["messageSignature"]["signature"] = base64.b64encode(bytes(signature)).decode()
    assert verify_error(LOCK, to_bundle(parsed), key_pair) == (
        "signature does not verify with release.pub"
    )


def test_signature_over_other_data_with_the_right_digest(key_pair: KeyPair) -> None:
    """The digest is only a label: the signature must cover the file itself."""
    parsed = bundle_dict(sign_with_key(LOCK, key_pair.private_key))
    other = bundle_dict(sign_with_key(b"another lock\n", key_pair.private_key))
    parsed["messageSignature"]["signature"] = other["messageSignature"]["signature"]
    assert verify_error(LOCK, to_bundle(parsed), key_pair) == (
        "signature does not verify with release.pub"
    )


def test_wrong_key_fails_on_the_hint(key_pair: KeyPair, other_key_pair: KeyPair) -> None:
    bundle = sign_with_key(LOCK, other_key_pair.private_key)
    assert verify_error(LOCK, bundle, key_pair) == (
        f"signed by a different key (hint {key_hint(other_key_pair.public_key)}), not release.pub"
    )


@pytest.mark.parametrize("hint", [None, "", "absent"])
def test_wrong_key_without_a_hint_fails_on_the_signature(
    key_pair: KeyPair, other_key_pair: KeyPair, hint: str | None
) -> None:
    parsed = bundle_dict(sign_with_key(LOCK, other_key_pair.private_key))
    if hint == "absent":
        del parsed["verificationMaterial"]["publicKey"]["hint"]
    else:
        parsed["verificationMaterial"]["publicKey"]["hint"] = hint
    bundle = to_bundle(parsed)

    assert verify_error(LOCK, bundle, key_pair) == "signature does not verify with release.pub"
    assert verify(LOCK, bundle, other_key_pair).startswith("key other.pub (SHA256:")


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (b"", "signature bundle is empty"),
        (b" \n", "signature bundle is empty"),
        (b"not json\n", "signature bundle is not valid JSON"),
        (b"\x00\xff\xfe binary", "signature bundle is not valid JSON"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verif',
            "signature bundle is not valid JSON",
        ),
        (b"[]", "signature bundle is not a Sigstore bundle (expected a JSON object)"),
        (b"{}", "bundle has no mediaType"),
    ],
    ids=["empty", "blank", "text", "binary", "cut", "array", "object"],
)
def test_unreadable_bundles(key_pair: KeyPair, bundle: bytes, message: str) -> None:
    assert verify_error(LOCK, bundle, key_pair) == message


def test_truncated_bundle(key_pair: KeyPair) -> None:
    bundle = sign_with_key(LOCK, key_pair.private_key)
    for cut in (1, len(bundle) // 2, len(bundle) - 3):
        assert verify_error(LOCK, bundle[:cut], key_pair) == "signature bundle is not valid JSON"


def test_message_starts_with_where(key_pair: KeyPair, tmp_path: Path) -> None:
    where = str(bundle_path_for(tmp_path / "pylock.toml"))
    with pytest.raises(SignatureError) as caught:
        verify(LOCK, b"not json", key_pair, where=where)
    assert str(caught.value) == (
        f"{tmp_path / 'pylock.toml.sigstore.json'}: signature bundle is not valid JSON"
    )


def test_alternate_media_type_spelling_is_accepted(key_pair: KeyPair) -> None:
    parsed = bundle_dict(sign_with_key(LOCK, key_pair.private_key))
    parsed["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.3"
    alternate = to_bundle(parsed)
    signer = f"key {key_pair.public_path.name} (SHA256:{key_hint(key_pair.public_key)})"
    assert verify(LOCK, alternate, key_pair) == signer
    # The other spelling is read as the same bundle, not waved through: a changed file fails.
    assert verify_error(LOCK.replace(b"alpha", b"alphb"), alternate, key_pair) == (
        "digest does not match the file: the file changed after signing"
    )


def edit(parsed: dict[str, Any], path: str, value: object) -> None:
    """Set (or with ``...`` delete) the field at a dotted path."""
    *parents, last = path.split(".")
    for name in parents:
        parsed = parsed[name]
    if value is ...:
        del parsed[last]
    else:
        parsed[last] = value


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "mediaType",
            "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "unsupported bundle media type application/vnd.dev.sigstore.bundle+json;version=0.2; "
            f"expected {BUNDLE_MEDIA_TYPE}",
        ),
        ("mediaType", ["x"], "bundle has no mediaType"),
        ("verificationMaterial", ..., "bundle has no verificationMaterial"),
        ("verificationMaterial.publicKey", ..., "bundle has no verificationMaterial.publicKey"),
        (
            "verificationMaterial.publicKey.hint",
            7,
            "malformed bundle: verificationMaterial.publicKey.hint is not a string",
        ),
        (
            "verificationMaterial.publicKey.hint",
            "x\n" * 40,
            f"signed by a different key (hint {'x?' * 32}…), not release.pub",
        ),
        ("messageSignature", ..., "bundle has no messageSignature"),
        ("messageSignature.messageDigest", ..., "bundle has no messageSignature.messageDigest"),
        (
            "messageSignature.messageDigest.algorithm",
            "SHA2_384",
            "unsupported digest algorithm SHA2_384; expected SHA2_256",
        ),
        (
            "messageSignature.messageDigest.algorithm",
            ...,
            "bundle has no messageSignature.messageDigest.algorithm",
        ),
        (
            "messageSignature.messageDigest.digest",
            ...,
            "bundle has no messageSignature.messageDigest.digest",
        ),
        (
            "messageSignature.messageDigest.digest",
            "not base64!",
            "malformed bundle: messageSignature.messageDigest.digest is not base64",
        ),
        ("messageSignature.signature", "", "bundle has no messageSignature.signature"),
        (
            "messageSignature.signature",
            "@@@@",
            "malformed bundle: messageSignature.signature is not base64",
        ),
    ],
)
def test_malformed_bundles(key_pair: KeyPair, field: str, value: object, message: str) -> None:
    parsed = bundle_dict(sign_with_key(LOCK, key_pair.private_key))
    edit(parsed, field, value)
    assert verify_error(LOCK, to_bundle(parsed), key_pair) == message


def test_duplicate_keys_are_refused(key_pair: KeyPair) -> None:
    """Two JSON parsers must never disagree about which signature a bundle carries."""
    bundle = sign_with_key(LOCK, key_pair.private_key).decode()
    duplicated = bundle.replace('"mediaType"', '"messageSignature": {}, "mediaType"', 1)
    assert verify_error(LOCK, duplicated.encode(), key_pair) == (
        "signature bundle repeats the key messageSignature"
    )


# --- real Sigstore bundles are not key bundles ---


def test_keyless_bundle_is_refused(key_pair: KeyPair, sigstore_fixtures: Path) -> None:
    artifact = (sigstore_fixtures / "bundle_v3.txt").read_bytes()
    bundle = (sigstore_fixtures / "bundle_v3.txt.sigstore").read_bytes()
    assert verify_error(artifact, bundle, key_pair) == (
        "bundle is keyless (certificate), not signed with a key; "
        "verify it with --identity and --issuer"
    )


def test_keyless_dsse_bundle_is_refused(key_pair: KeyPair, sigstore_fixtures: Path) -> None:
    artifact = (sigstore_fixtures / "more" / "a.dsse.staging-rekor-v2.txt").read_bytes()
    bundle = (sigstore_fixtures / "more" / "a.dsse.staging-rekor-v2.txt.sigstore.json").read_bytes()
    assert verify_error(artifact, bundle, key_pair) == (
        "bundle is keyless (certificate), not signed with a key; "
        "verify it with --identity and --issuer"
    )


def test_dsse_envelope_with_a_key_is_refused(key_pair: KeyPair, sigstore_fixtures: Path) -> None:
    """The fixture's DSSE envelope moved into a key bundle: still not a file signature."""
    source = sigstore_fixtures / "more" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
    envelope = bundle_dict(source.read_bytes())["dsseEnvelope"]
    parsed = bundle_dict(sign_with_key(LOCK, key_pair.private_key))
    del parsed["messageSignature"]
    parsed["dsseEnvelope"] = envelope

    assert verify_error(LOCK, to_bundle(parsed), key_pair) == (
        "bundle holds a DSSE envelope (an attestation), not a signature over the file"
    )
