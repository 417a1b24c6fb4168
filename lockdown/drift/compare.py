"""Compare an installed environment's packages with its lock: the ``versions`` level.

Everything here reads dist-info data already collected; nothing of the target
environment is imported or executed. The file-by-file levels live in
:mod:`lockdown.drift.files`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from lockdown.drift.model import PackageDrift
from lockdown.env.python_env import InstalledDist, normalize_name

if TYPE_CHECKING:
    from pathlib import Path

    from lockdown.env.conda_meta import CondaRecord
    from lockdown.lock.condalock import CondaPackage


def display(path: str) -> str:
    """A path that prints anywhere: undecodable bytes shown as escapes, never an error."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


#: Where a locked package comes from: PEP 751's ``wheels``/``sdist`` (an index),
#: or its ``vcs``, ``directory`` or ``archive`` table.
SourceKind = Literal["index", "vcs", "directory", "archive"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("index", "vcs", "directory", "archive")


class LockedSource(NamedTuple):
    """The source the lock pins for one package, as comparable with PEP 610 ``direct_url.json``."""

    kind: SourceKind
    #: index: the index URL when the lock names one (``packages.index``), else "";
    #: vcs / archive: the URL; directory (and a path-only archive): a ``file://``
    #: URL, made absolute against the lock's directory.
    url: str = ""
    #: vcs: the commit id; archive: the sha256 the lock pins ("" when none).
    revision: str = ""
    #: vcs: its type (``git``, ``hg``, ...).
    vcs: str = ""
    subdirectory: str = ""

    def describe(self) -> str:
        """The lock's side, in words."""
        if self.kind == "index":
            return "the lock pins an index artifact" + (f" from {self.url}" if self.url else "")
        if self.kind == "vcs":
            at = f"@{self.revision}" if self.revision else ""
            return f"the lock pins {self.vcs or 'VCS'} {self.url}{at}{self._sub()}"
        if self.kind == "directory":
            return f"the lock pins local directory {self.url}{self._sub()}"
        digest = f" (sha256 {self.revision})" if self.revision else ""
        return f"the lock pins archive {self.url}{digest}{self._sub()}"

    def _sub(self) -> str:
        return f" (subdirectory {self.subdirectory})" if self.subdirectory else ""


class ExpectedPin(NamedTuple):
    """What the lock expects of one package: its version, and where from."""

    version: str | None
    #: True when the lock pins index artifacts (wheels/sdist), so any direct-URL
    #: install (editable, local path, VCS, URL) is a source change.
    from_index: bool
    #: The locked source, when the lock says more than "an index" (an index URL,
    #: or a vcs / directory / archive source); ``None`` otherwise.
    source: LockedSource | None = None


def compare_packages(
    expected: Mapping[str, ExpectedPin],
    installed: Sequence[InstalledDist],
    *,
    ignore: Iterable[str] = (),
) -> list[PackageDrift]:
    """Missing, unexpected, other version, other source (pure)."""
    have: dict[str, InstalledDist] = {d.name: d for d in installed}
    ignored = {normalize_name(n) for n in ignore}
    drift: list[PackageDrift] = []
    for name in sorted(expected):
        pin = expected[name]
        locked = pin.version
        dist = have.get(name)
        if dist is None:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="missing",
                    expected=locked,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        if (
            locked is not None
            and dist.version != locked
            and (canonicalize_version(dist.version) != canonicalize_version(locked))
        ):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="version",
                    expected=locked,
                    installed=dist.version,
                    detail=f"{dist.version} installed, {locked} locked",
                )
            )
            continue
        other = other_source(pin, dist.direct_url)
        if other is not None:
            drift.append(
                PackageDrift(
                    name=name, kind="source", expected=locked, installed=dist.version, detail=other
                )
            )
    for name in sorted(set(have) - set(expected) - ignored):
        dist = have[name]
        drift.append(
            PackageDrift(
                name=name,
                kind="unexpected",
                expected=None,
                installed=dist.version,
                detail="installed, not in the lock",
            )
        )
    return drift


def other_source(pin: ExpectedPin, direct_url: Mapping[str, object] | None) -> str | None:
    """Both sides in words when the install's source is not the locked one; else ``None``.

    The installed side is PEP 610's ``direct_url.json``. Its absence means an
    install from an index (or a find-links directory): installers record
    neither which index nor which file, so an index install always matches an
    index pin, whatever index it came from. Local paths (``file:`` URLs) are
    compared by their real path, the one read of the filesystem here.
    """
    source = pin.source
    if source is None or source.kind == "index":
        if direct_url is None or not pin.from_index:
            return None
        locked = source or LockedSource("index")
        return f"{describe_direct_url(direct_url)}; {locked.describe()}"
    if direct_url is None:
        return f"installed from an index (no direct_url.json); {source.describe()}"
    if _same_source(source, direct_url):
        return None
    return f"{describe_direct_url(direct_url)}; {source.describe()}"


def _same_source(source: LockedSource, direct_url: Mapping[str, object]) -> bool:
    """Whether a PEP 610 record is the locked vcs / directory / archive source."""
    if _normalize_url(str(direct_url.get("url", ""))) != _normalize_url(source.url):
        return False
    if str(direct_url.get("subdirectory") or "") != source.subdirectory:
        return False
    vcs_info = direct_url.get("vcs_info")
    dir_info = direct_url.get("dir_info")
    archive_info = direct_url.get("archive_info")
    if source.kind == "vcs":
        return (
            isinstance(vcs_info, dict)
            and str(vcs_info.get("vcs", "")) == source.vcs
            and (not source.revision or str(vcs_info.get("commit_id", "")) == source.revision)
        )
    if source.kind == "directory":
        return isinstance(dir_info, dict)
    if not isinstance(archive_info, dict):
        return False
    recorded = _archive_sha256(archive_info)
    # An installer that records no hash (uv) leaves only the URL to compare.
    return not (source.revision and recorded) or recorded == source.revision


def _archive_sha256(archive_info: Mapping[str, object]) -> str:
    hashes = archive_info.get("hashes")
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return str(hashes["sha256"]).lower()
    legacy = archive_info.get("hash")  # PEP 610's older "sha256=<hex>" form
    if isinstance(legacy, str) and legacy.startswith("sha256="):
        return legacy[len("sha256=") :].lower()
    return ""


def _normalize_url(url: str) -> str:
    """A URL as compared: no VCS prefix (``git+``), no trailing slash, local paths normalized."""
    for prefix in ("git+", "hg+", "svn+", "bzr+"):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    if url.startswith("file:"):
        import os  # noqa: PLC0415 - local sources only
        from urllib.parse import unquote, urlsplit  # noqa: PLC0415

        path = unquote(urlsplit(url).path)
        # By real path: installers record a local source as given or resolved.
        return "file://" + os.path.realpath(path) if path else url
    return url.rstrip("/")


def canonicalize_version(version: str) -> str:
    """Versions compared as PEP 440 says (``1.0`` == ``1.0.0``); raw text if unparseable.

    Only called when the two strings differ, so the import stays off the cron
    path of an environment in sync.
    """
    from packaging.utils import canonicalize_version as canonical  # noqa: PLC0415

    # packaging's form drops trailing ``.0`` release segments, as PEP 440 equality does;
    # it returns an unparseable version unchanged.
    return canonical(version)


def describe_direct_url(direct_url: Mapping[str, object]) -> str:
    """PEP 610 ``direct_url.json`` in words: editable, local directory, VCS or URL."""
    url = str(direct_url.get("url", "?"))
    dir_info = direct_url.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"editable install from {url}"
    if isinstance(dir_info, dict):
        return f"installed from local directory {url}"
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        return f"installed from {vcs.get('vcs', 'VCS')} {url}@{vcs.get('commit_id', '?')}"
    return f"installed from direct URL {url}"


#: conda's subdirs: the last segment of the ``channel`` conda writes into conda-meta.
KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv32",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "win-32",
        "win-64",
        "win-arm64",
        "freebsd-64",
        "emscripten-wasm32",
        "wasi-wasm32",
        "zos-z",
    }
)


def channel_key(channel: str, subdir: str = "") -> str:
    """A channel as compared: no credentials or token, no trailing subdir or ``/``.

    conda writes a record's ``channel`` as the channel URL with the package's
    subdir (``<url>/linux-64``), rattler as the channel URL, and either may
    write a canonical name (``conda-forge``) instead; the lock has the channel
    URL without subdir. Scheme and host compare case-insensitively.
    """
    text = channel.strip().rstrip("/")
    if "://" in text:
        import re  # noqa: PLC0415
        from urllib.parse import urlsplit  # noqa: PLC0415

        parts = urlsplit(text)
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        path = re.sub(r"^/t/[^/]+", "", parts.path).rstrip("/")  # conda's /t/<token>/
        text = f"{parts.scheme.lower()}://{parts.hostname or ''}{port}{path}"
    head, _, last = text.rpartition("/")
    if head and not head.endswith("/") and (last in KNOWN_SUBDIRS or (subdir and last == subdir)):
        text = head
    return text


def same_channel(installed: str, locked: str, subdir: str = "") -> bool:
    """Whether a conda-meta ``channel`` names the lock's channel (see :func:`channel_key`).

    A canonical name (``conda-forge``, ``pkgs/main``) matches a locked channel
    URL that ends with it: the name is all such a record says.
    """
    have, want = channel_key(installed, subdir), channel_key(locked)
    if have == want:
        return True
    return bool(have) and "://" not in have and "://" in want and want.endswith("/" + have)


def compare_conda(
    expected: dict[str, CondaPackage], installed: dict[str, CondaRecord]
) -> list[PackageDrift]:
    """Missing, unexpected, other version/build, other archive or channel (pure)."""
    drift = []
    for name in sorted(expected):
        want, have = expected[name], installed.get(name)
        locked = f"{want.version} ({want.build})"
        if have is None:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="missing",
                    expected=locked,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        actual = f"{have.version} ({have.build})"
        if (have.version, have.build) != (want.version, want.build):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="version",
                    expected=locked,
                    installed=actual,
                    detail=f"{actual} installed, {locked} locked",
                )
            )
        elif have.sha256 and have.sha256 != want.sha256:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=actual,
                    detail=f"installed from an archive with sha256 {have.sha256[:12]}..., "
                    f"the lock pins {want.sha256[:12]}...",
                )
            )
        elif have.channel and not same_channel(have.channel, want.channel, have.subdir):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=actual,
                    detail=f"installed from channel {have.channel}; the lock says {want.channel}",
                )
            )
    for name in sorted(set(installed) - set(expected)):
        have = installed[name]
        drift.append(
            PackageDrift(
                name=name,
                kind="unexpected",
                expected=None,
                installed=f"{have.version} ({have.build})",
                detail="installed, not in the lock",
            )
        )
    return drift


def compare_pip(
    wanted: list[CondaPackage], conda: list[CondaPackage], prefix: Path, platform: str
) -> tuple[list[PackageDrift], list[InstalledDist]]:
    """The ``pip:`` wheels against the prefix's dist-info: drift, and the dists found."""
    from lockdown.drift.compare import describe_direct_url  # noqa: PLC0415
    from lockdown.env.conda_python import python_of, site_packages  # noqa: PLC0415
    from lockdown.env.python_env import installed_distributions  # noqa: PLC0415

    site = site_packages(prefix, platform, python_of(conda))
    have: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
    drift = []
    found = []
    for want in sorted(wanted, key=lambda p: p.name):
        dist = have.get(want.name)
        label = f"pip {want.name}"
        if dist is None:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="missing",
                    expected=want.version,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        found.append(dist)
        if dist.version != want.version:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="version",
                    expected=want.version,
                    installed=dist.version,
                    detail=f"{dist.version} installed, {want.version} locked",
                )
            )
        elif dist.direct_url is not None:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="source",
                    expected=want.version,
                    installed=dist.version,
                    detail=describe_direct_url(dist.direct_url) + "; the lock pins a wheel",
                )
            )
    return drift, found
