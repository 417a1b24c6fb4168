"""Verify a signed lock file: the one procedure ``verify``, ``install`` and ``check`` share.

Verified bytes are the used bytes: the file is read once; the signature is
checked over those bytes; the lock is parsed from those same bytes; callers
get the bytes and the parsed lock back and never read the file again.

Which files are also checked as locks (every artifact pinned by sha256 and
fetched over https or from an allowed index or channel):

* by name: ``pylock.toml`` / ``pylock.<name>.toml`` (PEP 751), and
  ``conda-lock.yml`` / ``conda-lock.<name>.yml`` / ``<name>.conda-lock.yml``
  (``.yaml`` too; conda-lock's unified format);
* whatever the caller says (``as_lock``): the project's configured locks, or
  ``lockdown verify --as-lock``.

Any other file (a wheel, a README signed as a blob) is verified as plain bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from lockdown.errors import LockFileError, UsageError
from lockdown.fsutil import read_lock_bytes
from lockdown.sign.interface import SignatureError, Verified, bundle_path_for

if TYPE_CHECKING:
    from packaging.pylock import PackageArchive, PackageSdist, PackageWheel

    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.pylock import LockFile
    from lockdown.sign.trust import TrustPolicy

#: The two lock formats a signed file can be checked as.
LockKind = Literal["pylock", "conda"]

_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedFile:
    """A file whose signature verified, with what was verified."""

    path: Path
    bundle_path: Path
    verified: Verified
    #: The parsed lock, for PEP 751 files (``None`` for other files).
    lock: LockFile | None
    #: The parsed lock, for conda-lock files (``None`` for other files).
    conda_lock: CondaLock | None = None

    @property
    def lock_note(self) -> str:
        """For ``verify``'s output: what was checked besides the signature ("" for a plain file)."""
        if self.lock is not None:
            packages = _count(len(self.lock.pylock.packages), "package")
            return f"; PEP 751 lock: {packages}, every artifact pinned by sha256"
        if self.conda_lock is not None:
            packages = _count(len(self.conda_lock.packages), "package")
            platforms = _count(len(self.conda_lock.platforms), "platform")
            return f"; conda lock: {packages} on {platforms}, every one pinned by sha256"
        return ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def is_pylock(path: Path) -> bool:
    """Whether ``path`` is named like a PEP 751 lock (``pylock.toml``, ``pylock.x.toml``)."""
    name = path.name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def is_conda_lock(path: Path) -> bool:
    """Whether ``path`` is named like a conda-lock file.

    ``conda-lock.yml``, ``conda-lock.<name>.yml`` or ``<name>.conda-lock.yml``
    (or ``.yaml``): ``conda-lock`` is one of the dot-separated parts of the stem.
    """
    return path.suffix in _YAML_SUFFIXES and "conda-lock" in path.stem.split(".")


def lock_kind(path: Path, as_lock: bool | LockKind | None = None) -> LockKind | None:
    """What ``path`` is checked as: a kind of lock, or ``None`` for a plain file.

    ``as_lock`` decides when given: a kind is that kind; ``False`` is a plain
    file; ``True`` is the kind the name says, else conda for ``.yml``/``.yaml``
    and PEP 751 for anything else. ``None`` goes by the name alone.
    """
    if as_lock is False:
        return None
    if isinstance(as_lock, str):
        return as_lock
    if is_pylock(path):
        return "pylock"
    if is_conda_lock(path):
        return "conda"
    if as_lock is True:
        return "conda" if path.suffix in _YAML_SUFFIXES else "pylock"
    return None


def verify_file(
    path: Path,
    policy: TrustPolicy,
    *,
    bundle_path: Path | None = None,
    allowed_indexes: Sequence[str] = (),
    allowed_channels: Sequence[str] = (),
    as_lock: bool | LockKind | None = None,
) -> VerifiedFile:
    """Verify ``path`` against ``policy``; for a lock, also check what it pins.

    1. Read the file once (its bytes are what gets verified and parsed).
    2. Read the bundle next to it (or ``bundle_path``); missing is a failure.
    3. Verify the signature over those bytes against the trusted signers.
    4. For a lock (see :func:`lock_kind`): parse and validate the same bytes,
       and require a sha256 for every artifact and an https URL (or one on an
       allowed index, or for a conda lock an allowed channel).
    """
    kind = lock_kind(path, as_lock)
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
    conda_lock = None
    if kind == "pylock":
        from lockdown.lock.pylock import LockFile, parse_lock_bytes  # noqa: PLC0415 - locks only

        try:
            raw, model = parse_lock_bytes(verified.data, path)
        except LockFileError as exc:
            raise SignatureError(
                f"signature verifies, but {exc.message}", hint="re-lock and re-sign"
            ) from None
        lock = LockFile(path=path, data=verified.data, raw=raw, pylock=model)
        check_pins(lock, allowed_indexes)
    elif kind == "conda":
        conda_lock = _parse_conda(verified.data, path)
        check_conda_pins(conda_lock, [*allowed_indexes, *allowed_channels])
    return VerifiedFile(
        path=path, bundle_path=bundle_path, verified=verified, lock=lock, conda_lock=conda_lock
    )


def _parse_conda(data: bytes, path: Path) -> CondaLock:
    """The conda lock parsed from the verified bytes by lockdown's own reader.

    The reader needs PyYAML only (not rattler or conda-lock); without it the
    lock cannot be checked, which is a refusal, not a pass.
    """
    try:
        import yaml  # noqa: F401, PLC0415 - the reader's one dependency
    except ImportError:
        raise UsageError(
            f"{path}: checking a conda lock needs PyYAML, which is not installed",
            hint="pip install 'lockdown[conda]'",
        ) from None
    from lockdown.lock.condalock import parse_conda_lock_bytes  # noqa: PLC0415 - conda locks only

    try:
        # Every package's sha256 (and md5, for conda archives) is required here.
        return parse_conda_lock_bytes(data, path)
    except LockFileError as exc:
        raise SignatureError(
            f"signature verifies, but {exc.message}", hint="re-lock and re-sign"
        ) from None


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


def check_conda_pins(lock: CondaLock, allowed: Sequence[str]) -> None:
    """Every package comes over https or from an allowed channel or index.

    Its sha256 was already required by the reader. ``allowed`` holds index
    URLs, channel URLs and local channel paths (a local path allows
    ``file://``); a named channel (``conda-forge``) is https anyway.
    """
    origins = {o for o in (_channel_origin(a) for a in allowed) if o is not None}
    for index, package in enumerate(lock.packages):
        file = package.file
        scheme = urlsplit(file.url).scheme
        if scheme != "https" and _origin(file.url) not in origins:
            raise SignatureError(
                f"{lock.path}: package[{index}] ({package.name} {package.version}, "
                f"{package.conda.platform}): {file.filename} is fetched over "
                f"{scheme or 'no scheme'}, not https, from a channel or index that is not allowed",
                hint="use https, or list the channel in [tool.lockdown.conda] channels "
                "or [tool.lockdown.policy] allowed-channels",
            )


def _channel_origin(channel: str) -> str | None:
    """The origin a configured channel allows: its URL's, ``file://`` for a local path."""
    if "://" in channel:
        return _origin(channel)
    if channel.startswith(("/", "~", ".")) or Path(channel).is_absolute():
        return "file://"
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file://"
    return f"{parts.scheme}://{parts.netloc}"
