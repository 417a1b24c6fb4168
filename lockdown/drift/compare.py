"""Compare an installed environment's packages with its lock: the ``versions`` level, one
comparison for a venv, a conda prefix and its ``pip:`` wheels (:func:`compare`, with a
small per-ecosystem part, :class:`Ecosystem`).

Everything here reads dist-info data already collected; nothing of the target
environment is imported or executed. The file-by-file levels live in
:mod:`lockdown.drift.files`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, Literal, NamedTuple, TypeVar

from lockdown.drift.model import PackageDrift
from lockdown.env.python_env import InstalledDist, normalize_name

if TYPE_CHECKING:
    from lockdown.env.conda_meta import CondaRecord
    from lockdown.lock.model import LockedPackage


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


#: The lock's kind of pin, and the environment's kind of installed package.
Pin = TypeVar("Pin")
Have = TypeVar("Have")


class Ecosystem(Generic[Pin, Have]):
    """The part of the comparison where the ecosystems really differ.

    The rest (missing, other version, other source, unexpected; sorted by
    name, unexpected last; the words of each finding) is :func:`compare`'s,
    the same for a venv, a conda prefix and a prefix's ``pip:`` wheels.

    A slotted class rather than a dataclass: this module is on the path of
    ``check --level versions``, which :mod:`dataclasses` (and the inspect,
    ast and tokenize modules it loads) would slow down by about 15%.
    """

    __slots__ = (
        "installed",
        "label",
        "locked",
        "name",
        "normalize",
        "other_source",
        "other_version",
        "unexpected",
    )

    def __init__(
        self,
        *,
        name: Callable[[Have], str],
        normalize: Callable[[str], str],
        locked: Callable[[Pin], str | None],
        installed: Callable[[Have], str],
        other_version: Callable[[Pin, Have], bool],
        other_source: Callable[[Pin, Have], str | None],
        label: str = "",
        unexpected: bool = True,
    ) -> None:
        #: The installed package's name, spelled as the lock's keys are.
        self.name = name
        #: A name the user writes (``ignore``), spelled as the lock's keys are.
        self.normalize = normalize
        #: The lock's side in words ("1.0", "1.0 (py_0)"); ``None``: any version.
        self.locked = locked
        #: The installed side in words.
        self.installed = installed
        #: Whether the installed version (and build) is not the locked one.
        self.other_version = other_version
        #: Both sides in words when the install's source (index, archive, channel)
        #: is not the locked one, else ``None``.
        self.other_source = other_source
        #: Put before each name in the findings (``"pip "`` for a prefix's wheels).
        self.label = label
        #: Whether what the lock does not name is reported (a prefix's
        #: site-packages belongs to conda, so its ``pip:`` side reports none).
        self.unexpected = unexpected


def compare(
    expected: Mapping[str, Pin],
    installed: Iterable[Have],
    ecosystem: Ecosystem[Pin, Have],
    *,
    ignore: Iterable[str] = (),
) -> list[PackageDrift]:
    """Missing, other version, other source, unexpected: the ``versions`` level (pure).

    ``ignore``: names never reported as unexpected (still checked when locked).
    """
    have: dict[str, Have] = {ecosystem.name(item): item for item in installed}
    ignored = {ecosystem.normalize(n) for n in ignore}
    drift: list[PackageDrift] = []
    for name in sorted(expected):
        pin, found = expected[name], have.get(name)
        label, locked = ecosystem.label + name, ecosystem.locked(pin)
        if found is None:
            drift.append(PackageDrift(label, "missing", locked, None, "not installed"))
            continue
        actual = ecosystem.installed(found)
        if ecosystem.other_version(pin, found):
            detail = f"{actual} installed, {locked} locked"
            drift.append(PackageDrift(label, "version", locked, actual, detail))
            continue
        other = ecosystem.other_source(pin, found)
        if other is not None:
            drift.append(PackageDrift(label, "source", locked, actual, other))
    if ecosystem.unexpected:
        for name in sorted(set(have) - set(expected) - ignored):
            actual = ecosystem.installed(have[name])
            drift.append(
                PackageDrift(
                    ecosystem.label + name, "unexpected", None, actual, "installed, not in the lock"
                )
            )
    return drift


def _python_other_version(pin: ExpectedPin, dist: InstalledDist) -> bool:
    """PEP 440 equality (``1.0`` == ``1.0.0``); a pin without a version takes any."""
    locked = pin.version
    return (
        locked is not None
        and dist.version != locked
        and canonicalize_version(dist.version) != canonicalize_version(locked)
    )


#: A venv (or any Python environment) against a PEP 751 lock.
PYTHON: Ecosystem[ExpectedPin, InstalledDist] = Ecosystem(
    name=lambda dist: dist.name,
    normalize=normalize_name,
    locked=lambda pin: pin.version,
    installed=lambda dist: dist.version,
    other_version=_python_other_version,
    other_source=lambda pin, dist: other_source(pin, dist.direct_url),
)


def compare_packages(
    expected: Mapping[str, ExpectedPin],
    installed: Sequence[InstalledDist],
    *,
    ignore: Iterable[str] = (),
) -> list[PackageDrift]:
    """A Python environment against its lock's pins (pure; :func:`compare`)."""
    return compare(expected, installed, PYTHON, ignore=ignore)


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


def _conda_other_source(want: LockedPackage, have: CondaRecord) -> str | None:
    """Another archive (sha256) than the locked one, or another channel (its ``index``)."""
    sha256 = want.file.sha256
    if have.sha256 and have.sha256 != sha256:
        return (
            f"installed from an archive with sha256 {have.sha256[:12]}..., "
            f"the lock pins {sha256[:12]}..."
        )
    channel = want.index or ""
    if have.channel and not same_channel(have.channel, channel, have.subdir):
        return f"installed from channel {have.channel}; the lock says {channel}"
    return None


def _pip_other_source(want: LockedPackage, dist: InstalledDist) -> str | None:
    """The lock pins a wheel from an index: any direct-URL install is another source."""
    if dist.direct_url is None:
        return None
    return describe_direct_url(dist.direct_url) + "; the lock pins a wheel"


def _name(item: CondaRecord) -> str:
    return item.name


def _locked_build(want: LockedPackage) -> str:
    return f"{want.version} ({want.conda.build})"


def _installed_build(have: CondaRecord) -> str:
    return f"{have.version} ({have.build})"


#: A conda prefix's conda-meta records against a conda lock: version and build
#: are both the pin; names as conda writes them.
CONDA: Ecosystem[LockedPackage, CondaRecord] = Ecosystem(
    name=_name,
    normalize=str,
    locked=_locked_build,
    installed=_installed_build,
    other_version=lambda want, have: (have.version, have.build) != (want.version, want.conda.build),
    other_source=_conda_other_source,
)

#: A conda prefix's dist-info against the lock's ``pip:`` wheels: the version
#: is compared as written, as pip and uv record what the lock names.
CONDA_PIP: Ecosystem[LockedPackage, InstalledDist] = Ecosystem(
    name=lambda dist: dist.name,
    normalize=normalize_name,
    locked=lambda want: want.version,
    installed=lambda dist: dist.version,
    other_version=lambda want, dist: dist.version != want.version,
    other_source=_pip_other_source,
    label="pip ",
    unexpected=False,
)
