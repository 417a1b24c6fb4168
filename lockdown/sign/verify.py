"""Verify a signed lock file: the one procedure ``verify``, ``install`` and ``check`` share.

Verified bytes are the used bytes: the file is read once; the signature is
checked over those bytes; the lock is parsed from those same bytes; callers
get the bytes and the parsed lock back and never read the file again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockdown.errors import LockFileError
from lockdown.fsutil import read_lock_bytes
from lockdown.sign.interface import SignatureError, Verified, bundle_path_for

if TYPE_CHECKING:
    from packaging.pylock import PackageArchive, PackageSdist, PackageWheel

    from lockdown.lock.pylock import LockFile
    from lockdown.sign.trust import TrustPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedFile:
    """A file whose signature verified, with what was verified."""

    path: Path
    bundle_path: Path
    verified: Verified
    #: The parsed lock, for PEP 751 files (``None`` for other files).
    lock: LockFile | None


def is_pylock(path: Path) -> bool:
    """Whether ``path`` is named like a PEP 751 lock (``pylock.toml``, ``pylock.x.toml``)."""
    name = path.name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def verify_file(
    path: Path,
    policy: TrustPolicy,
    *,
    bundle_path: Path | None = None,
    allowed_indexes: Sequence[str] = (),
    as_lock: bool | None = None,
) -> VerifiedFile:
    """Verify ``path`` against ``policy``; for a lock, also check what it pins.

    1. Read the file once (its bytes are what gets verified and parsed).
    2. Read the bundle next to it (or ``bundle_path``); missing is a failure.
    3. Verify the signature over those bytes against the trusted signers.
    4. For a PEP 751 lock (by its name, or ``as_lock``): parse and validate the
       same bytes, and require a sha256 for every artifact and an https URL (or
       one on an allowed index).
    """
    bundle_path = bundle_path or bundle_path_for(path)
    # 1. The file, once.
    data = read_lock_bytes(path, what="file", hint="check the path")
    # 2. The bundle.
    try:
        bundle_json = bundle_path.read_bytes()
    except FileNotFoundError:
        raise SignatureError(
            f"{path}: no signature bundle at {bundle_path}",
            hint=f"sign it with: lockdown sign {path}",
        ) from None
    except OSError as exc:
        raise SignatureError(
            f"{bundle_path}: cannot read signature bundle: {exc.strerror}"
        ) from None
    # 3. The signature.
    verified = policy.verify(data, bundle_json, where=str(path))
    # 4. What a signed lock pins must itself be pinned.
    lock = None
    if as_lock if as_lock is not None else is_pylock(path):
        from lockdown.lock.pylock import LockFile, parse_lock_bytes  # noqa: PLC0415 - locks only

        try:
            raw, model = parse_lock_bytes(verified.data, path)
        except LockFileError as exc:
            raise SignatureError(
                f"signature verifies, but {exc.message}", hint="re-lock and re-sign"
            ) from None
        lock = LockFile(path=path, data=verified.data, raw=raw, pylock=model)
        check_pins(lock, allowed_indexes)
    return VerifiedFile(path=path, bundle_path=bundle_path, verified=verified, lock=lock)


def check_pins(lock: LockFile, allowed_indexes: Sequence[str]) -> None:
    """Every artifact carries a sha256 and comes over https or from an allowed index."""
    origins = {_origin(u) for u in allowed_indexes}
    for index, package in enumerate(lock.pylock.packages):
        where = f"{lock.path}: packages[{index}] ({package.name})"
        if package.vcs is not None or package.directory is not None:
            raise SignatureError(
                f"{where} is a VCS or directory source, which cannot be pinned by hash",
                hint="lock it from an index",
            )
        artifacts: list[PackageWheel | PackageSdist | PackageArchive] = [*(package.wheels or ())]
        if package.sdist is not None:
            artifacts.append(package.sdist)
        if package.archive is not None:
            artifacts.append(package.archive)
        for artifact in artifacts:
            url = artifact.url or ""
            label = url.rsplit("/", 1)[-1] or "an artifact"
            if "sha256" not in artifact.hashes:
                raise SignatureError(f"{where}: {label} has no sha256 hash")
            scheme = urlsplit(url).scheme
            if scheme != "https" and _origin(url) not in origins:
                raise SignatureError(
                    f"{where}: {label} is fetched over {scheme or 'no scheme'}, not https, "
                    "from an index that is not allowed",
                    hint="use https, or list the index in [tool.lockdown] index-url",
                )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file://"
    return f"{parts.scheme}://{parts.netloc}"
