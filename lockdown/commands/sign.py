"""``lockdown sign``: a Sigstore bundle for a file, with a key or keylessly.

Signing reads the file once, signs those bytes, and writes the bundle
atomically next to it only when signing succeeded: a failed run leaves no
partial bundle and does not touch an existing one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.commands.keygen import read_passphrase
from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write, read_lock_bytes
from lockdown.progress import Reporter
from lockdown.report.results import Signed

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.config import Config

Notify = Callable[[str], None]


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


def run(args: Args, reporter: Reporter) -> Signed:
    """``lockdown sign`` from its parsed arguments: sign; the result says where the bundle went."""

    config = optional_config(args.project)
    path = find_lock(args.project, config, given=args.file)
    with reporter.status(f"signing {path.name}"):
        bundle = sign_file(
            path,
            key=args.key,
            identity_token=args.identity_token,
            staging=args.staging,
            trust_config=args.trust_config,
            config=config,
            bundle_path=args.bundle,
            notify=reporter.note,
        )
    return Signed(path=path, bundle=bundle)
