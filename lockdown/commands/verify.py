"""``lockdown verify``, and the signed-lock read that ``install``, ``check`` and ``guard`` share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import configured_lock_kind
from lockdown.errors import UsageError
from lockdown.sign import signature_required

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.lock.pylock import LockFile
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
        from lockdown.errors import LockdownError  # noqa: PLC0415

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
