"""``lockdown keygen`` / ``sign`` / ``verify``: the steps behind each command.

Signing reads the file once, signs those bytes, and writes the bundle
atomically next to it only when signing succeeded: a failed run leaves no
partial bundle and does not touch an existing one.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write, read_lock_bytes
from lockdown.sign import signature_required

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.lock.pylock import LockFile
    from lockdown.sign.trust import TrustPolicy
    from lockdown.sign.verify import VerifiedFile

PASSWORD_ENV = "LOCKDOWN_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a secret

Notify = Callable[[str], None]


def read_passphrase(*, confirm: bool, prompt: str = "Passphrase for the private key: ") -> bytes:
    """The key passphrase from ``$LOCKDOWN_KEY_PASSWORD``, or a prompt on a terminal."""
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value.encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError(
            "no passphrase for the private key", hint=f"set {PASSWORD_ENV} or run on a terminal"
        )
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != first:
        raise UsageError("the passphrases do not match; nothing was written")
    return first.encode("utf-8")


def keygen(private_path: Path) -> tuple[Path, Path]:
    """Write an encrypted ECDSA P-256 private key and its public key; return both paths."""
    from lockdown.sign.keys import generate_key_pair  # noqa: PLC0415

    password = read_passphrase(confirm=True, prompt="Passphrase for the new key: ")
    public = generate_key_pair(private_path, password=password)
    return private_path, public


def sign_file(
    path: Path,
    *,
    key: Path | None = None,
    identity_token: str | None = None,
    staging: bool = False,
    trust_config: Path | None = None,
    bundle_path: Path | None = None,
    notify: Notify | None = None,
) -> Path:
    """Sign ``path`` with a key (``key``) or keylessly; write and return the bundle path.

    1. Read the file once.
    2. Sign those bytes (key: local ECDSA; keyless: Fulcio + Rekor).
    3. Write the bundle atomically, only after signing succeeded.
    """
    from lockdown.sign.interface import bundle_path_for  # noqa: PLC0415

    notify = notify or (lambda _message: None)
    out = bundle_path or bundle_path_for(path)
    # 1. The bytes to sign.
    data = read_lock_bytes(path, what="file", hint="run lockdown lock first")
    # 2. The signature.
    if key is not None:
        if identity_token is not None:
            raise UsageError("--key and --identity-token cannot be used together")
        from lockdown.sign.keys import load_private_key, sign_with_key  # noqa: PLC0415

        if not key.is_file():
            raise UsageError(
                f"{key}: private key not found", hint="create one with lockdown keygen"
            )
        private_key, warnings = load_private_key(key, password=_passphrase_for(key))
        for warning in warnings:
            notify(warning)
        bundle = sign_with_key(data, private_key)
    else:
        from lockdown.sign.sigstore_keyless import sign_keyless  # noqa: PLC0415

        bundle = sign_keyless(
            data,
            identity_token=identity_token,
            staging=staging,
            trust_config=trust_config,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
        )
    # 3. The bundle, whole or not at all.
    atomic_write(out, bundle)
    return out


def _passphrase_for(key: Path) -> bytes | None:
    """The passphrase, or ``None`` for an unencrypted key (which the loader warns about)."""
    head = key.read_bytes()[:64]
    if b"ENCRYPTED" not in head:
        return None
    return read_passphrase(confirm=False)


def verify(
    path: Path,
    *,
    config: Config | None,
    flags_policy: TrustPolicy | None,
    bundle_path: Path | None = None,
    as_lock: bool | None = None,
) -> VerifiedFile:
    """Verify ``path`` with the flags' policy, else the configured one; neither is an error."""
    policy = flags_policy or (config.trust if config is not None else None)
    if policy is None or policy.empty:
        raise UsageError(
            "no trust policy: nothing says whose signature to accept",
            hint="add signers to [tool.lockdown.trust], or pass --identity with --issuer, or --key",
        )
    from lockdown.sign.verify import verify_file  # noqa: PLC0415 - only commands that verify

    allowed: Sequence[str] = ()
    if config is not None:
        allowed = tuple(u for u in (config.index_url, *config.extra_index_urls) if u)
    return verify_file(
        path, policy, bundle_path=bundle_path, allowed_indexes=allowed, as_lock=as_lock
    )


def load_lock(
    lock_path: Path, *, config: Config | None, require_signature: bool
) -> tuple[LockFile, str | None]:
    """The lock, read once; verified first when required. Returns it and who signed it.

    ``install`` and ``check`` both start here, so an unsigned or badly signed
    lock is refused the same way everywhere the policy requires signatures.
    """
    if not signature_required(config, require_signature):
        from lockdown.lock.pylock import read_lock  # noqa: PLC0415

        return read_lock(lock_path), None
    verified = verify(lock_path, config=config, flags_policy=None, as_lock=True)
    assert verified.lock is not None  # noqa: S101 - as_lock=True always parses
    return verified.lock, verified.verified.signer
