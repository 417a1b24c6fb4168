"""Key-based signing for sites without Sigstore access: an ECDSA P-256 key pair.

``lockdown keygen release.key`` writes ``release.key`` (PKCS#8 PEM, encrypted
with a passphrase, mode 0600) and ``release.pub`` (SubjectPublicKeyInfo PEM).
``lockdown sign --key release.key`` writes a Sigstore bundle v0.3 with

* ``verificationMaterial.publicKey.hint`` = base64 of sha256 of the DER public
  key (cosign's and sigstore-go's convention), and no tlog entries;
* ``messageSignature`` = the file's SHA-256 digest and a DER ECDSA-SHA256
  signature over the file's bytes,

the shape that sigstore-js ``@sigstore/verify`` accepts with a public key and
``cosign verify-blob --key … --insecure-ignore-tlog`` expects.

The bundle JSON is written and read here with the standard library, not with
sigstore's models: ``sigstore.models.Bundle`` accepts only certificate bundles
("expected certificate in bundle"), and importing ``sigstore_models`` (pydantic)
costs ~200 ms, more than the whole key-based ``verify`` may take.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write
from lockdown.sign.interface import BUNDLE_MEDIA_TYPE, SignatureError, Verified

#: Media types of a v0.3 bundle: the current spelling and the older alias.
ACCEPTED_MEDIA_TYPES = frozenset(
    {BUNDLE_MEDIA_TYPE, "application/vnd.dev.sigstore.bundle+json;version=0.3"}
)
#: The one digest algorithm a key bundle may declare (protobuf-specs enum name).
DIGEST_ALGORITHM = "SHA2_256"
#: Where the passphrase comes from when nobody is at a terminal.
PASSWORD_ENV = "LOCKDOWN_KEY_PASSWORD"  # noqa: S105 - a variable name, not a secret

PRIVATE_KEY_MODE = 0o600
PUBLIC_KEY_MODE = 0o644

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


# --- key files ---


def public_key_path_for(private_path: Path) -> Path:
    """Where keygen puts the public half: ``release.key`` or ``release`` → ``release.pub``."""
    return private_path.with_suffix(".pub")


def generate_key_pair(private_path: Path, *, password: bytes) -> Path:
    """Write a new ECDSA P-256 key pair; return the public key's path.

    The private key is PKCS#8 PEM encrypted with ``password`` and mode 0600 from
    the moment it exists; the public key is SubjectPublicKeyInfo PEM, mode 0644.
    Existing files are never overwritten. Raises :class:`UsageError`.
    """
    public_path = public_key_path_for(private_path)
    # 1. An unencrypted key on disk signs for whoever copies the file.
    if not password:
        raise UsageError(
            f"refusing to write {private_path} with an empty passphrase; "
            f"set {PASSWORD_ENV} or type a passphrase at the prompt"
        )
    # 2. "release.pub" as the private key would put both halves in one file.
    if public_path == private_path:
        raise UsageError(
            f"{private_path}: a private key file name must not end in .pub; "
            "use a name such as release.key"
        )
    # 3. A key is an identity: replacing one silently would orphan every signature.
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise UsageError(
                f"{path} already exists; lockdown keygen never overwrites a key: "
                "remove it or choose another file name"
            )
    # 4. Generate and serialize; the private half is encrypted before it touches disk.
    private_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(password),
    )
    public_pem = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    # 5. Private first, then public; if the public half cannot be written, the
    #    private half goes too, so a failed keygen leaves nothing behind.
    _write_new_file(private_path, private_pem, mode=PRIVATE_KEY_MODE)
    try:
        _write_new_file(public_path, public_pem, mode=PUBLIC_KEY_MODE)
    except BaseException:
        with contextlib.suppress(OSError):
            private_path.unlink()
        raise
    return public_path


def load_private_key(
    path: Path, *, password: bytes | None
) -> tuple[ec.EllipticCurvePrivateKey, list[str]]:
    """Load an ECDSA P-256 private key from a PEM file.

    Returns the key and warnings for the user (key not encrypted, file readable
    by others). Raises :class:`UsageError` for a missing or unreadable file, a
    file that is not a PEM private key, a missing or wrong passphrase, or a key
    that is not P-256.
    """
    data = _read_key_file(path, kind="private key")
    if b"SIGSTORE PRIVATE KEY" in data or b"COSIGN PRIVATE KEY" in data:
        raise UsageError(
            f"{path} is a cosign-format key, which lockdown cannot read; "
            "create a PEM key pair with `lockdown keygen`"
        )
    warnings: list[str] = []
    try:
        # An unencrypted key loads without a password; an encrypted one says so.
        key = serialization.load_pem_private_key(data, password=None)
        warnings.append(
            f"key file {path} is not encrypted; anyone who copies it can sign: "
            "re-create it with `lockdown keygen`"
        )
    except TypeError:
        if not password:
            raise UsageError(
                f"{path}: the private key is encrypted and no passphrase was given; "
                f"set {PASSWORD_ENV} or type the passphrase at the prompt"
            ) from None
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except ValueError:
            raise UsageError(
                f"{path}: wrong passphrase for the private key; set {PASSWORD_ENV}"
            ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(
            f"{path} is not a PEM private key; pass the key written by `lockdown keygen`"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UsageError(
            f"{path} holds {_describe_key(key)}, not an ECDSA P-256 key; "
            "create one with `lockdown keygen`"
        )
    loose = _loose_permissions(path)
    if loose:
        warnings.append(loose)
    return key, warnings


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """Load an ECDSA P-256 public key from a SubjectPublicKeyInfo PEM file.

    Raises :class:`UsageError` for a missing or unreadable file, a private key
    or anything else that is not a PEM public key, or a key that is not P-256.
    """
    data = _read_key_file(path, kind="public key")
    if b"PRIVATE KEY-----" in data:
        raise UsageError(
            f"{path} is a private key",
            hint=f"pass the public key ({public_key_path_for(path)}) to verify",
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(
            f"{path} is not a PEM public key",
            hint="pass the .pub file written by `lockdown keygen`",
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UsageError(f"{path} holds {_describe_key(key)}, not an ECDSA P-256 public key")
    return key


def key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The bundle's key hint: standard padded base64 of sha256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


# --- bundles ---


def sign_with_key(data: bytes, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign ``data``; return the Sigstore bundle v0.3 as JSON bytes (fixed key order, newline).

    ECDSA signatures are randomized, so two bundles for the same data differ in
    ``signature`` only; both verify.
    """
    if not isinstance(private_key.curve, ec.SECP256R1):
        raise UsageError(
            f"cannot sign with {_describe_key(private_key)}; lockdown signs with ECDSA P-256 keys"
        )
    # Key order follows the protobuf-specs field order, as sigstore's clients write it.
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(private_key.public_key())},
            "tlogEntries": [],
        },
        "messageSignature": {
            "messageDigest": {
                "algorithm": DIGEST_ALGORITHM,
                "digest": _b64(hashlib.sha256(data).digest()),
            },
            "signature": _b64(private_key.sign(data, _ECDSA_SHA256)),
        },
    }
    return (json.dumps(bundle, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def verify_with_key(
    data: bytes,
    bundle_json: bytes,
    public_key: ec.EllipticCurvePublicKey,
    *,
    key_label: str,
    where: str | None = None,
) -> Verified:
    """Verify that ``bundle_json`` is a key bundle over exactly ``data`` made by ``public_key``.

    ``key_label`` names the key in messages and in the result (e.g. the path of
    the ``.pub`` file); ``where`` (e.g. the bundle's path) starts every error
    message. Tlog entries and timestamps in the bundle are not consulted: a key
    bundle's trust is the key alone. Raises :class:`SignatureError` (exit 16).
    """
    prefix = f"{where}: " if where else ""

    def fail(message: str) -> SignatureError:
        return SignatureError(prefix + message)

    # 1. Parse: JSON with an object at the top and no duplicate keys (two
    #    parsers must never disagree about which value was signed).
    if not bundle_json.strip():
        raise fail("signature bundle is empty")
    try:
        bundle = json.loads(bundle_json, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKeyError as exc:
        raise fail(f"signature bundle repeats the key {_shown(exc.key)}") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError: empty, truncated, binary
        raise fail("signature bundle is not valid JSON") from None
    except RecursionError:
        raise fail("signature bundle is nested too deeply to be a Sigstore bundle") from None
    if not isinstance(bundle, dict):
        raise fail("signature bundle is not a Sigstore bundle (expected a JSON object)")

    # 2. Media type: a v0.3 bundle, either spelling.
    media_type = bundle.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        raise fail("bundle has no mediaType")
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise fail(
            f"unsupported bundle media type {_shown(media_type)}; expected {BUNDLE_MEDIA_TYPE}"
        )

    # 3. Verification material: a public key, not a Fulcio certificate.
    material = _field(bundle, "verificationMaterial", fail)
    if "certificate" in material or "x509CertificateChain" in material:
        raise fail(
            "bundle is keyless (certificate), not signed with a key; "
            "verify it with --identity and --issuer"
        )
    key_ref = _field(material, "publicKey", fail, where="verificationMaterial.publicKey")

    # 4. The hint is unauthenticated, but a mismatch means another key signed:
    #    say so instead of a bare "does not verify".
    expected_hint = key_hint(public_key)
    hint = key_ref.get("hint")
    if hint is not None and not isinstance(hint, str):
        raise fail("malformed bundle: verificationMaterial.publicKey.hint is not a string")
    if hint and hint != expected_hint:
        raise fail(f"signed by a different key (hint {_shown(hint)}), not {key_label}")

    # 5. Content: a signature over the file itself; a DSSE envelope signs an
    #    attestation payload, never this file's bytes.
    if "dsseEnvelope" in bundle:
        raise fail("bundle holds a DSSE envelope (an attestation), not a signature over the file")
    message = _field(bundle, "messageSignature", fail)
    digest_ref = _field(message, "messageDigest", fail, where="messageSignature.messageDigest")
    algorithm = digest_ref.get("algorithm")
    if not isinstance(algorithm, str) or not algorithm:
        raise fail("bundle has no messageSignature.messageDigest.algorithm")
    if algorithm != DIGEST_ALGORITHM:
        raise fail(f"unsupported digest algorithm {_shown(algorithm)}; expected {DIGEST_ALGORITHM}")
    digest = _b64_field(digest_ref, "digest", fail, where="messageSignature.messageDigest")
    signature = _b64_field(message, "signature", fail, where="messageSignature")

    # 6. The digest names the file that was signed: a mismatch is a changed
    #    file or the bundle of another file.
    if not hmac.compare_digest(digest, hashlib.sha256(data).digest()):
        raise fail("digest does not match the file: the file changed after signing")

    # 7. The signature over the file's bytes, with the trusted key.
    try:
        public_key.verify(signature, data, _ECDSA_SHA256)
    except InvalidSignature:
        raise fail(f"signature does not verify with {key_label}") from None

    return Verified(data=data, signer=f"key {key_label} (SHA256:{expected_hint})")


# --- helpers ---


#: Builds the SignatureError for one failed check (the message gets the ``where`` prefix).
_Fail = Callable[[str], SignatureError]


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _field(
    obj: dict[str, Any], name: str, fail: _Fail, *, where: str | None = None
) -> dict[str, Any]:
    """``obj[name]`` as a JSON object, or a SignatureError naming the missing field."""
    value = obj.get(name)
    if not isinstance(value, dict):
        raise fail(f"bundle has no {where or name}")
    return value


def _b64_field(obj: dict[str, Any], name: str, fail: _Fail, *, where: str) -> bytes:
    """``obj[name]`` decoded from strict standard base64 (non-empty)."""
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise fail(f"bundle has no {where}.{name}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise fail(f"malformed bundle: {where}.{name} is not base64") from None


def _shown(value: str, limit: int = 64) -> str:
    """A bundle's string as it may appear in a one-line message: printable, bounded."""
    text = "".join(ch if ch.isprintable() else "?" for ch in value[:limit])
    return text + "…" if len(value) > limit else text


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _read_key_file(path: Path, *, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{kind} file {path} not found", hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read {kind} file {path}: {exc.strerror}") from None


def _describe_key(key: object) -> str:
    """``an RSA key``, ``an ECDSA secp384r1 key``: what a wrong key file holds, for messages."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an ECDSA {key.curve.name} key"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "an RSA key"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "an Ed25519 key"
    return f"a {type(key).__name__} key"


def _loose_permissions(path: Path) -> str | None:
    """A warning when group or others may read or write the private key file (POSIX only)."""
    if os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o066:
        return None
    access = "readable" if mode & 0o044 else "writable"
    return f"key file {path} is {access} by group/others (mode {mode:04o}); chmod 600 it"


def _write_new_file(path: Path, data: bytes, *, mode: int) -> None:
    """Create ``path`` (never replacing one): keys are not overwritten, ever."""
    try:
        atomic_write(path, data, mode=mode, overwrite=False)
    except UsageError as exc:
        if exc.message.endswith("already exists"):
            raise UsageError(
                f"{path} already exists; lockdown keygen never overwrites a key: "
                "remove it or choose another file name"
            ) from None
        raise
