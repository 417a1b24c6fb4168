"""``lockdown verify``, and the signed-lock read that ``install``, ``check`` and ``guard`` share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import configured_lock_kind, find_lock, optional_config
from lockdown.errors import (
    LockdownError,
    UsageError,
)
from lockdown.progress import Reporter
from lockdown.sign import signature_required

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.config import Config
    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.pylock import LockFile
    from lockdown.report.results import Verified
    from lockdown.sign.trust import TrustPolicy
    from lockdown.sign.verify import LockKind, VerifiedFile


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

        try:
            listed = read_environment_yml(path).get("channels", [])
        except LockdownError:
            continue
        if isinstance(listed, list):
            found += listed
    return tuple(c for c in found if isinstance(c, str) and c)


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


def run(args: Args, reporter: Reporter) -> Verified:
    """``lockdown verify`` from its parsed arguments: the trust rule, the signature, PEP 740.

    The trust rule: flags replace the configured Sigstore instance and signers.
    """
    import dataclasses  # noqa: PLC0415

    from lockdown.config.trust import SigstoreInstance  # noqa: PLC0415
    from lockdown.report.results import Verified  # noqa: PLC0415 - check imports this module
    from lockdown.sign.trust import policy_from_flags  # noqa: PLC0415

    config = optional_config(args.project)
    path = find_lock(args.project, config, given=args.file)
    configured = config.trust if config is not None else None
    base = configured.instance if configured is not None else SigstoreInstance()
    # Flags choose where keyless signatures are checked (replacing the configured
    # choice, since staging, a trusted root and a trust config exclude each other)...
    if args.staging or args.trusted_root or args.trust_config:
        instance = SigstoreInstance(
            staging=args.staging,
            trusted_root=args.trusted_root,
            trust_config=args.trust_config,
            online=args.online,
        )
    else:
        instance = dataclasses.replace(base, online=args.online)
    # ...and signer flags replace the configured signers entirely.
    flags_policy = None
    if args.identity or args.identity_regex or args.issuer or args.key:
        flags_policy = policy_from_flags(
            identities=args.identity or (),
            issuer=args.issuer,
            identity_regex=args.identity_regex or (),
            keys=args.key or (),
            instance=instance,
        )
    elif config is not None and configured is not None:
        config = dataclasses.replace(
            config, trust=dataclasses.replace(configured, instance=instance)
        )
    trusted = flags_policy is not None or (configured is not None and not configured.empty)
    lock = None
    signer: str | None = None
    lock_note = ""
    if trusted or not args.provenance:
        result = verify(
            path,
            config=config,
            flags_policy=flags_policy,
            bundle_path=args.bundle,
            as_lock=True if args.as_lock else None,
        )
        lock, signer, lock_note = result.lock, result.verified.signer, result.lock_note
    provenance = None
    if args.provenance:
        provenance = _verify_provenance(path, lock, config, signed=trusted, reporter=reporter)
    return Verified(path=path, signer=signer, lock_note=lock_note, provenance=provenance)


def _verify_provenance(
    path: Path,
    lock: LockFile | None,
    config: Config | None,
    *,
    signed: bool,
    reporter: Reporter,
) -> tuple[int, int]:
    """``verify --provenance``: every attested file's PEP 740 provenance, fetched again.

    Returns how many attested packages and files were checked.
    """
    from lockdown.commands._attest import check_locked_provenance, provenance_root  # noqa: PLC0415
    from lockdown.lock.pylock import read_lock  # noqa: PLC0415

    if lock is None:
        if signed:
            raise UsageError(
                f"{path}: --provenance checks a PEP 751 lock, and this file is not one",
                hint="pass the pylock.toml, or --as-lock",
            )
        lock = read_lock(path)
    with reporter.status("fetching PEP 740 provenance from the lock's indexes"):
        return check_locked_provenance(lock, trusted_root=provenance_root(config))


def load_conda_lock(
    lock_path: Path, config: Config | None, require_signature: bool
) -> tuple[CondaLock | None, str | None]:
    """The conda lock verified first when required (its verified bytes, parsed), and the signer."""
    if not signature_required(config, require_signature):
        return None, None

    # Checked as a conda lock too (sha256 and md5 pinned, URLs over https or
    # from allowed channels), parsed from the very bytes that verified.
    verified = verify(lock_path, config=config, flags_policy=None, as_lock="conda")
    assert verified.conda_lock is not None  # noqa: S101 - as_lock="conda" always parses
    return verified.conda_lock, verified.verified.signer
