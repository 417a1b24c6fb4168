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
    from lockdown.sign.verify import LockKind, VerifiedFile

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
    config: Config | None = None,
    bundle_path: Path | None = None,
    notify: Notify | None = None,
) -> Path:
    """Sign ``path`` with a key (``key``) or keylessly; write and return the bundle path.

    ``staging`` and ``trust_config`` are the flags; without either, keyless
    signing uses the instance ``[tool.lockdown.trust]`` in ``config`` names
    (the same precedence as ``verify``).

    1. Refuse flags that cannot go together, before anything is read.
    2. Read the file once.
    3. Sign those bytes (key: local ECDSA; keyless: Fulcio + Rekor).
    4. Write the bundle atomically, only after signing succeeded.
    """
    from lockdown.sign.interface import bundle_path_for  # noqa: PLC0415

    notify = notify or (lambda _message: None)
    out = bundle_path or bundle_path_for(path)
    # 1. The flags, and for keyless signing the Sigstore instance.
    check_sign_flags(
        key=key, identity_token=identity_token, staging=staging, trust_config=trust_config
    )
    if key is None:
        staging, trust_config = signing_instance(
            staging=staging, trust_config=trust_config, config=config, notify=notify
        )
    # 2. The bytes to sign.
    data = read_lock_bytes(path, what="file", hint="run lockdown lock first")
    # 3. The signature.
    if key is not None:
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
        from lockdown.sign.keyless_sign import sign_keyless  # noqa: PLC0415

        bundle = sign_keyless(
            data,
            identity_token=identity_token,
            staging=staging,
            trust_config=trust_config,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
        )
    # 4. The bundle, whole or not at all.
    atomic_write(out, bundle)
    return out


def check_sign_flags(
    *, key: Path | None, identity_token: str | None, staging: bool, trust_config: Path | None
) -> None:
    """Refuse ``sign`` flags that contradict each other (a usage error, nothing read or written).

    ``--key`` signs locally: the keyless flags would be silently ignored with it.
    ``--staging`` and ``--trust-config`` name two different Sigstore instances.
    """
    if key is not None:
        for flag, given in (
            ("--identity-token", identity_token is not None),
            ("--staging", staging),
            ("--trust-config", trust_config is not None),
        ):
            if given:
                raise UsageError(
                    f"--key and {flag} cannot be used together: {flag} is for keyless signing",
                    hint="drop one of them",
                )
    if staging and trust_config is not None:
        raise UsageError(
            "--staging and --trust-config name different Sigstore instances",
            hint="choose one",
        )


def signing_instance(
    *,
    staging: bool,
    trust_config: Path | None,
    config: Config | None,
    notify: Notify | None = None,
) -> tuple[bool, Path | None]:
    """Where keyless signing goes: the flags when given, else ``[tool.lockdown.trust]``.

    Returns ``(staging, trust_config)``. Flags replace the configured choice
    entirely, as in ``verify``. A configured ``trusted-root`` alone names no
    Fulcio or Rekor, so signing then goes to Sigstore's production instance (a
    pinned copy of production's root is a common setup); ``notify`` says so,
    since a private deployment's policy would refuse that bundle.
    """
    if staging or trust_config is not None:
        return staging, trust_config
    configured = config.trust.instance if config is not None and config.trust else None
    if configured is None:
        return False, None
    if configured.trusted_root is not None and notify is not None:
        notify(
            f"[tool.lockdown.trust] trusted-root ({configured.trusted_root}) is for verifying; "
            "signing with Sigstore production (set trust-config to sign with a private "
            "deployment)"
        )
    return configured.staging, configured.trust_config


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
    as_lock: bool | LockKind | None = None,
) -> VerifiedFile:
    """Verify ``path`` with the flags' policy, else the configured one; neither is an error.

    ``as_lock`` as in :func:`lockdown.sign.verify.lock_kind`; when ``None``,
    the project's configured Python or conda lock is checked as that kind of
    lock whatever its name, and any other file as its name says.
    """
    policy = flags_policy or (config.trust if config is not None else None)
    if policy is None or policy.empty:
        raise UsageError(
            "no trust policy: nothing says whose signature to accept",
            hint="add signers to [tool.lockdown.trust], or pass --identity with --issuer, or --key",
        )
    from lockdown.sign.trust import TrustPolicy  # noqa: PLC0415
    from lockdown.sign.verify import lock_kind, verify_file  # noqa: PLC0415 - verifying only

    # The project's configured locks are checked as locks whatever their names.
    kind = lock_kind(path, as_lock if as_lock is not None else configured_lock_kind(path, config))
    allowed: Sequence[str] = ()
    channels: Sequence[str] = ()
    if config is not None:
        allowed = tuple(u for u in (config.index_url, *config.extra_index_urls) if u)
        if kind == "conda":
            channels = (*_configured_channels(config), *config.policy.allowed_channels)
    return verify_file(
        path,
        TrustPolicy.of(policy),
        bundle_path=bundle_path,
        allowed_indexes=allowed,
        allowed_channels=channels,
        as_lock=kind or False,
    )


def configured_lock_kind(path: Path, config: Config | None) -> LockKind | None:
    """``pylock`` / ``conda`` when ``path`` is the project's configured lock of that kind."""
    if config is None:
        return None
    target = _resolved(path)
    if target == _resolved(config.output_path):
        return "pylock"
    if target == _resolved(config.conda_output_path):
        return "conda"
    return None


def _configured_channels(config: Config) -> tuple[str, ...]:
    """The project's channels: ``[tool.lockdown.conda] channels`` and its ``environment.yml``'s.

    Both are the project's own inputs (validated as strings when the lock was
    made); a file that cannot be read adds none.
    """
    found: list[object] = list(config.conda.channels if config.conda is not None else ())
    named = config.conda.environment_file if config.conda is not None else None
    for name in (named,) if named is not None else ("environment.yml", "environment.yaml"):
        path = config.project_dir / name
        if not path.is_file():
            continue
        from lockdown.conda_inputs import read_environment_yml  # noqa: PLC0415 - PyYAML only
        from lockdown.errors import LockdownError  # noqa: PLC0415

        try:
            listed = read_environment_yml(path).get("channels", [])
        except LockdownError:
            continue
        if isinstance(listed, list):
            found += listed
    return tuple(c for c in found if isinstance(c, str) and c)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare as given
        return path.absolute()


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
    verified = verify(lock_path, config=config, flags_policy=None, as_lock="pylock")
    assert verified.lock is not None  # noqa: S101 - as_lock="pylock" always parses
    return verified.lock, verified.verified.signer
