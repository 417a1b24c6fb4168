"""Export a lock: a pip requirements or constraints file, or the inventory of an SBOM.

The requirements export is for one environment: the lock's markers are
evaluated for it (with the chosen extras and dependency groups), and only
packages that apply are written. Requirements carry every locked sha256 of
each package so that ``pip install --require-hashes -r requirements.txt``
refuses anything else.

An SBOM covers one environment or the whole lock, of a ``pylock.toml`` or a
``conda-lock.yml``: :func:`pylock_inventory` and :func:`conda_inventory`
gather what the documents say (components, files and digests, the recorded
dependency graph, declared licenses, publishers) into an :class:`Inventory`,
which :mod:`lockdown.report.sbom` turns into CycloneDX or SPDX.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.pylock import Package
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from lockdown.config import normalize_marker
from lockdown.errors import LockFileError, UsageError
from lockdown.lock.pylock import LockFile
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.model import LockedPackage

ExportFormat = Literal["requirements", "constraints"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """What to export: the target's marker environment, extras and groups."""

    environment: Mapping[str, str]
    extras: Collection[str] = ()
    #: ``None`` means the lock's ``default-groups``.
    groups: Collection[str] | None = None


def dropped_hint(lock: LockFile, env: Mapping[str, str]) -> str | None:
    """Why ``lockdown lock`` left this environment out, when the lock recorded it."""
    from packaging.markers import InvalidMarker, Marker  # noqa: PLC0415

    dropped = lock.tool.get("dropped-environments")
    python = ".".join(env.get("python_full_version", "").split(".")[:2])
    for record in dropped if isinstance(dropped, list) else ():
        if not isinstance(record, Mapping):
            continue
        try:
            matches = Marker(str(record.get("environment", ""))).evaluate(dict(env))
        except InvalidMarker:
            continue
        pythons = record.get("pythons")
        if matches and (not isinstance(pythons, list) or python in pythons):
            package, version = record.get("package"), record.get("version")
            return (
                f"lockdown lock left it out because {package} {version} publishes no wheel "
                f"for it and no sdist; constrain {package}, or list the environments you "
                "need in [tool.lockdown] environments and re-lock"
            )
    return None


def applicable_packages(lock: LockFile, selection: Selection) -> list[Package]:
    """The lock's packages that apply to ``selection``, in lock order.

    Fails closed when the lock does not cover the target at all (its
    ``requires-python`` or ``environments`` exclude it), or when an extra or
    group is asked for that the lock does not declare.
    """
    pylock = lock.pylock
    env = dict(selection.environment)
    python = env.get("python_full_version", "")
    if (
        pylock.requires_python is not None
        and python
        and not pylock.requires_python.contains(python, prereleases=True)
    ):
        raise UsageError(
            f"{lock.path}: locked for Python {pylock.requires_python}, not {python}",
            hint="re-lock with a requires-python that covers it",
        )
    if pylock.environments and not any(m.evaluate(env) for m in pylock.environments):
        covered = "; ".join(normalize_marker(str(m)) for m in pylock.environments)
        raise UsageError(
            f"{lock.path}: no locked environment matches this one "
            f"({env.get('sys_platform')} {env.get('platform_machine')}); locked for: {covered}",
            hint=dropped_hint(lock, env) or "add it to [tool.lockdown] environments and re-lock",
        )
    extras, groups = checked_selection(lock, selection.extras, selection.groups)
    context: dict[str, str | frozenset[str]] = {
        **env,
        "extras": frozenset(extras),
        "dependency_groups": frozenset(groups),
    }
    chosen = []
    for package in pylock.packages:
        if package.marker is not None and not package.marker.evaluate(context, "lock_file"):
            continue
        if (
            package.requires_python is not None
            and python
            and not SpecifierSet(str(package.requires_python)).contains(python, prereleases=True)
        ):
            continue
        chosen.append(package)
    return chosen


def _hashes(package: Package, where: str) -> list[str]:
    found: set[str] = set()
    for wheel in package.wheels or ():
        if "sha256" in wheel.hashes:
            found.add(wheel.hashes["sha256"])
    if package.sdist is not None and "sha256" in package.sdist.hashes:
        found.add(package.sdist.hashes["sha256"])
    if package.archive is not None and "sha256" in package.archive.hashes:
        found.add(package.archive.hashes["sha256"])
    if not found:
        raise LockFileError(
            f"{where}: {package.name} has no sha256 hash to pin (a VCS or directory source)",
            hint="lock it from an index instead",
        )
    return sorted(found)


def render_export(lock: LockFile, selection: Selection, fmt: ExportFormat) -> str:
    """The text of the requirements or constraints file."""
    packages = applicable_packages(lock, selection)
    env = selection.environment
    target = (
        f"Python {env.get('python_full_version', '?')} on "
        f"{env.get('sys_platform', '?')} {env.get('platform_machine', '?')}"
    )
    lines = [
        f"# Exported by lockdown from {lock.path.name} for {target}.",
        "# Do not edit: re-export with `lockdown export` after `lockdown lock`.",
    ]
    for package in sorted(packages, key=lambda p: p.name):
        if package.version is None:
            raise LockFileError(f"{lock.path}: {package.name} has no version to pin")
        pin = f"{package.name}=={package.version}"
        if fmt == "constraints":
            lines.append(pin)
            continue
        hashes = _hashes(package, str(lock.path))
        lines.append(pin + " \\")
        lines.extend(
            f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
            for i, h in enumerate(hashes)
        )
    return "\n".join(lines) + "\n"


def checked_selection(
    lock: LockFile, extras: Collection[str], groups: Collection[str] | None
) -> tuple[set[str], set[str]]:
    """The extras and groups asked for (``None`` groups: the lock's defaults), normalized.

    One the lock does not declare is a usage error naming it: a typo must not
    quietly select less than was meant.
    """
    pylock = lock.pylock
    wanted_extras: set[str] = {canonicalize_name(e) for e in extras}
    unknown = sorted(wanted_extras - set(pylock.extras or ()))
    if unknown:
        raise UsageError(f"{lock.path}: extra {unknown[0]!r} is not in the lock")
    if groups is None:
        return wanted_extras, {str(canonicalize_name(g)) for g in pylock.default_groups or ()}
    wanted_groups: set[str] = {canonicalize_name(g) for g in groups}
    declared = {canonicalize_name(g) for g in (pylock.dependency_groups or ())}
    unknown = sorted(wanted_groups - declared)
    if unknown:
        raise UsageError(f"{lock.path}: dependency group {unknown[0]!r} is not in the lock")
    return wanted_extras, wanted_groups


# --- SBOM inventory ------------------------------------------------------------
#
# What an SBOM says about a lock, gathered from the lock alone (plus the
# package metadata in the artifact cache, for licenses): the documents
# themselves are built by :mod:`lockdown.report.sbom`.

#: The moment an SBOM carries when its lock records none (conda-lock.yml has no time).
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True, kw_only=True)
class SbomFile:
    """One pinned file of a component: where it is and its digests (``sha256``, ``md5``)."""

    url: str
    filename: str
    #: Algorithm name → lowercase hex, sorted by name.
    hashes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredLicense:
    """A license as the package's own metadata declares it; never guessed."""

    #: What the metadata says: an SPDX expression, a license's name or id.
    text: str
    #: Where it says it, strongest first: ``License-Expression`` (or a conda
    #: archive's ``license``), the ``License`` field, a ``License ::`` classifier.
    source: Literal["expression", "license", "classifier"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SbomComponent:
    """One locked package (on one conda platform) as an SBOM component."""

    #: Unique within the document: the purl (with a counter for a repeated one).
    ref: str
    name: str
    version: str
    purl: str
    files: tuple[SbomFile, ...]
    #: ``ref`` of each direct dependency the lock records, sorted; ``None`` when
    #: the lock does not record this package's dependencies at all.
    dependencies: tuple[str, ...] | None
    licenses: tuple[DeclaredLicense, ...] = ()
    #: Whether any metadata of its files was read (``licenses`` is then what it declares).
    metadata_read: bool = False
    #: The lock's verified publisher identities (PEP 751 ``attestation-identities``).
    publishers: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """Everything an SBOM of one lock (or of one environment of it) says."""

    #: The lock's file name.
    source: str
    #: sha256 of the lock's bytes: the documents' serial numbers derive from it.
    lock_sha256: str
    #: What was exported: ``the whole lock`` or the environment chosen.
    scope: str
    #: The lock's own moment (its newest file upload, else its cooldown cutoff).
    timestamp: datetime
    components: tuple[SbomComponent, ...]
    #: Where the licenses come from: the lock's own record, or the artifact cache.
    licenses_from: Literal["lock", "cache"] = "cache"


def _pypi_purl(name: str, version: str) -> str:
    from packageurl import PackageURL  # noqa: PLC0415 - part of the sbom extra

    return str(PackageURL(type="pypi", name=canonicalize_name(name), version=version).to_string())


def _unique_refs(purls: Sequence[str]) -> list[str]:
    """Each purl as a ref; a repeated one gets ``#2``, ``#3``... in order."""
    seen: dict[str, int] = {}
    refs = []
    for purl in purls:
        seen[purl] = seen.get(purl, 0) + 1
        refs.append(purl if seen[purl] == 1 else f"{purl}#{seen[purl]}")
    return refs


def _pylock_files(package: Package) -> list[SbomFile]:
    files = []
    for file in (*(package.wheels or ()), package.sdist, package.archive):
        if file is None or file.url is None:
            continue
        name = getattr(file, "name", None) or file.url.rsplit("/", 1)[-1].split("#", 1)[0]
        files.append(
            SbomFile(url=file.url, filename=name, hashes=tuple(sorted(file.hashes.items())))
        )
    return sorted(files, key=lambda f: f.filename)


def _pylock_time(lock: LockFile) -> datetime:
    moments = [
        file.upload_time
        for package in lock.pylock.packages
        for file in (*(package.wheels or ()), package.sdist)
        if file is not None and file.upload_time is not None
    ]
    cutoff = lock.tool.get("cooldown-cutoff")
    if not moments and isinstance(cutoff, datetime):
        moments.append(cutoff)
    aware = [m if m.tzinfo is not None else m.replace(tzinfo=timezone.utc) for m in moments]
    return max(aware).astimezone(timezone.utc) if aware else EPOCH


def _matches(entry: Mapping[str, Any], table: Mapping[str, Any]) -> bool:
    """PEP 751: a ``dependencies`` entry names the package whose keys it all matches."""
    for key, value in entry.items():
        if key == "name":
            if canonicalize_name(str(table.get("name", ""))) != canonicalize_name(str(value)):
                return False
        elif table.get(key) != value:
            return False
    return True


def pylock_inventory(
    lock: LockFile, selection: Selection | None, licenses: LicenseReader
) -> Inventory:
    """The components of a PEP 751 lock: all of them, or those that apply to ``selection``.

    Dependencies come from each package's ``dependencies`` (PEP 751); an entry
    that names no selected package, or more than one, gives no edge.
    """
    pylock = lock.pylock
    tables = [t for t in lock.raw.get("packages", []) if isinstance(t, Mapping)]
    if selection is None:
        chosen = list(range(len(pylock.packages)))
        scope = "the whole lock"
    else:
        ids = {id(p) for p in applicable_packages(lock, selection)}
        chosen = [i for i, p in enumerate(pylock.packages) if id(p) in ids]
        scope = describe(selection)
    refs = dict(
        zip(
            chosen,
            _unique_refs(
                [
                    _pypi_purl(pylock.packages[i].name, str(pylock.packages[i].version or ""))
                    for i in chosen
                ]
            ),
            strict=True,
        )
    )
    # A lock that records licenses (lockdown's) is its own source: the same
    # bytes on every machine. Others (uv's, pip's) fall back to ``licenses``.
    recorded = [recorded_licenses(t) for t in tables] if len(tables) == len(pylock.packages) else []
    if not any(r is not None for r in recorded):
        recorded = []
    components = []
    for i in chosen:
        package = pylock.packages[i]
        if package.version is None:
            raise LockFileError(f"{lock.path}: packages[{i}] ({package.name}) has no version")
        edges: set[str] = set()
        for entry in package.dependencies or ():
            hits = [j for j in chosen if _matches(entry, tables[j])]
            if len(hits) == 1:
                edges.add(refs[hits[0]])
        files = _pylock_files(package)
        declared = recorded[i] if recorded else licenses(files)
        components.append(
            SbomComponent(
                ref=refs[i],
                name=str(package.name),
                version=str(package.version),
                purl=_pypi_purl(package.name, str(package.version)),
                files=tuple(files),
                dependencies=None if package.dependencies is None else tuple(sorted(edges)),
                licenses=declared or (),
                metadata_read=declared is not None,
                publishers=tuple(package.attestation_identities or ()),
            )
        )
    return Inventory(
        source=lock.path.name,
        lock_sha256=hashlib.sha256(lock.data).hexdigest(),
        scope=scope,
        timestamp=_pylock_time(lock),
        components=tuple(sorted(components, key=lambda c: c.ref)),
        licenses_from="lock" if recorded else "cache",
    )


def describe(selection: Selection) -> str:
    """One line naming the environment of ``selection``."""
    env = selection.environment
    extras = sorted(selection.extras)
    groups = sorted(selection.groups) if selection.groups is not None else None
    parts = [
        f"Python {env.get('python_full_version', '?')} on "
        f"{env.get('sys_platform', '?')} {env.get('platform_machine', '?')}"
    ]
    if extras:
        parts.append(f"extras {', '.join(extras)}")
    if groups is not None:
        parts.append(f"groups {', '.join(groups) or '(none)'}")
    return "; ".join(parts)


def conda_inventory(lock: CondaLock, platform: str | None, licenses: LicenseReader) -> Inventory:
    """The components of a conda lock: every platform's, or ``platform``'s only.

    A conda package's dependencies name other packages of the same platform
    (conda-lock.yml records them by name); a ``noarch`` archive locked for
    several platforms is one component with the union of its edges.
    """
    from packageurl import PackageURL  # noqa: PLC0415 - part of the sbom extra

    if platform is not None and platform not in lock.platforms:
        raise UsageError(
            f"{lock.path}: platform {platform!r} is not in the lock "
            f"(locked for {', '.join(lock.platforms)})"
        )
    packages = [p for p in lock.packages if platform is None or p.conda.platform == platform]

    def purl(package: LockedPackage) -> str:
        if package.conda.manager == "pip":
            return _pypi_purl(package.name, package.version)
        subdir = package.file.url.rsplit("/", 2)[-2]
        kind = "conda" if package.file.filename.endswith(".conda") else "tar.bz2"
        qualifiers = {
            "build": package.conda.build,
            "channel": package.index or "",
            "subdir": subdir,
            "type": kind,
        }
        return str(
            PackageURL(
                type="conda", name=package.name, version=package.version, qualifiers=qualifiers
            ).to_string()
        )

    by_key: dict[tuple[str, str], LockedPackage] = {}
    for package in sorted(packages, key=lambda p: (p.file.url, p.file.sha256)):
        by_key.setdefault((package.file.url, package.file.sha256), package)
    refs = dict(zip(by_key, _unique_refs([purl(p) for p in by_key.values()]), strict=True))
    on_platform = {(p.conda.platform, p.conda.manager, normalize_name(p.name)): p for p in packages}
    edges: dict[tuple[str, str], set[str]] = {key: set() for key in by_key}
    for package in packages:
        for dependency in package.conda.depends:
            target = on_platform.get(
                (package.conda.platform, package.conda.manager, normalize_name(dependency))
            )
            if target is not None:
                edges[(package.file.url, package.file.sha256)].add(
                    refs[(target.file.url, target.file.sha256)]
                )
    components = []
    for key, package in by_key.items():
        digests = [("md5", package.conda.md5)] if package.conda.md5 else []
        file = SbomFile(
            url=package.file.url,
            filename=package.file.filename,
            hashes=tuple(sorted([*digests, ("sha256", package.file.sha256)])),
        )
        declared = licenses((file,))
        components.append(
            SbomComponent(
                ref=refs[key],
                name=package.name,
                version=package.version,
                purl=purl(package),
                files=(file,),
                dependencies=tuple(sorted(edges[key])),
                licenses=declared or (),
                metadata_read=declared is not None,
            )
        )
    cutoff = lock.custom.get("cooldown-cutoff")
    moment = EPOCH
    if cutoff:
        with contextlib.suppress(ValueError):
            moment = datetime.strptime(cutoff, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return Inventory(
        source=lock.path.name,
        lock_sha256=hashlib.sha256(lock.data).hexdigest(),
        scope="the whole lock" if platform is None else f"conda platform {platform}",
        timestamp=moment,
        components=tuple(sorted(components, key=lambda c: c.ref)),
    )


#: Reads the licenses a component's files declare: ``()`` when their metadata
#: declares none, ``None`` when no metadata of theirs could be read.
LicenseReader = Callable[[Sequence[SbomFile]], "tuple[DeclaredLicense, ...] | None"]


def no_licenses(_files: Sequence[SbomFile]) -> tuple[DeclaredLicense, ...] | None:
    """A reader that knows no metadata."""
    return None


def cached_licenses(cache_root: Path) -> LicenseReader:
    """Licenses from the metadata of the component's files in the artifact cache.

    The cache holds only files whose sha256 was verified on the way in (by
    ``lock`` or ``install``), addressed by that digest, so the metadata read is
    that of a file the lock pins. A wheel's ``METADATA`` gives
    ``License-Expression``, else ``License`` and the ``License ::`` classifiers;
    a conda archive's ``info/index.json`` gives ``license``. A component none
    of whose files is cached (or an sdist-only one) gets no license: nothing
    is guessed.
    """
    from lockdown.artifacts import ArtifactCache  # noqa: PLC0415

    cache = ArtifactCache(cache_root)

    def read(files: Sequence[SbomFile]) -> tuple[DeclaredLicense, ...] | None:
        for file in files:
            sha256 = dict(file.hashes).get("sha256")
            if sha256 is None or not cache.has(sha256):
                continue
            path = cache.path_for(sha256)
            if file.filename.endswith(".whl"):
                found = wheel_licenses(path)
            elif file.filename.endswith((".conda", ".tar.bz2")):
                found = conda_licenses(path, file.filename)
            else:
                continue
            if found is not None:
                return found
        return None

    return read


def wheel_licenses(wheel: Path) -> tuple[DeclaredLicense, ...] | None:
    """What a wheel's METADATA declares; ``None`` when it cannot be read."""
    from lockdown.lock.metadata import wheel_metadata  # noqa: PLC0415

    raw = wheel_metadata(wheel)
    return None if raw is None else metadata_licenses(raw)


def metadata_licenses(raw: RawMetadata) -> tuple[DeclaredLicense, ...]:
    """What core metadata declares: ``License-Expression``, else the one-line
    ``License`` field and the ``License ::`` classifiers (``()``: nothing)."""
    expression = (raw.get("license_expression") or "").strip()
    if expression:
        return (DeclaredLicense(text=expression, source="expression"),)
    found = []
    text = (raw.get("license") or "").strip()
    # A one-line License field names a license; a longer one is the license text itself.
    if text and "\n" not in text and len(text) <= 200 and text.upper() != "UNKNOWN":
        found.append(DeclaredLicense(text=text, source="license"))
    for classifier in raw.get("classifiers", []):
        parts = [p.strip() for p in classifier.split("::")]
        if len(parts) > 1 and parts[0] == "License" and parts[-1] not in ("OSI Approved",):
            found.append(DeclaredLicense(text=parts[-1], source="classifier"))
    return tuple(dict.fromkeys(found))


# The licenses ``lock`` records in ``[packages.tool.lockdown]``, read from the
# core metadata file (PEP 658) whose sha256 the index declared:
#   license-metadata-sha256 = "…"      the file read (present: the record exists)
#   license = "MIT"                     its License-Expression
#   license-field = "BSD"               else its one-line License field
#   license-classifiers = ["MIT License"]   and its License :: classifiers
RECORD_KEY = "license-metadata-sha256"


def license_record(metadata_sha256: str, declared: Sequence[DeclaredLicense]) -> dict[str, Any]:
    """The ``[packages.tool.lockdown]`` keys recording what one metadata file declares."""
    record: dict[str, Any] = {RECORD_KEY: metadata_sha256}
    classifiers = [d.text for d in declared if d.source == "classifier"]
    for item in declared:
        if item.source == "expression":
            record["license"] = item.text
        elif item.source == "license":
            record["license-field"] = item.text
    if classifiers:
        record["license-classifiers"] = classifiers
    return record


def license_keys(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The license record among a package's ``[packages.tool.lockdown]`` keys (may be empty)."""
    keys = (RECORD_KEY, "license", "license-field", "license-classifiers")
    return {k: tool[k] for k in keys if k in tool} if RECORD_KEY in tool else {}


def recorded_licenses(table: Mapping[str, Any]) -> tuple[DeclaredLicense, ...] | None:
    """What a lock's package table records about its licenses; ``None``: no record."""
    tool = table.get("tool", {})
    tool = tool.get("lockdown", {}) if isinstance(tool, Mapping) else {}
    record = license_keys(tool) if isinstance(tool, Mapping) else {}
    if not record:
        return None
    found: list[DeclaredLicense] = []
    if isinstance(record.get("license"), str):
        found.append(DeclaredLicense(text=record["license"], source="expression"))
    if isinstance(record.get("license-field"), str):
        found.append(DeclaredLicense(text=record["license-field"], source="license"))
    classifiers = record.get("license-classifiers", [])
    if isinstance(classifiers, list):
        found += [
            DeclaredLicense(text=c, source="classifier") for c in classifiers if isinstance(c, str)
        ]
    return tuple(found)


def conda_licenses(archive: Path, filename: str) -> tuple[DeclaredLicense, ...] | None:
    """The ``license`` of a conda archive's ``info/index.json``; ``None`` when unreadable."""
    import tempfile  # noqa: PLC0415

    if "/" in filename or filename in (".", ".."):
        return None
    try:
        import rattler  # noqa: PLC0415
    except ImportError:
        return None
    with tempfile.TemporaryDirectory(prefix="lockdown-sbom-") as tmp:
        # rattler tells the archive format by the file name, which the cache does not keep.
        link = Path(tmp) / filename
        link.symlink_to(archive)
        try:
            index = rattler.IndexJson.from_package_archive(link)
        except Exception:
            return None
    license_ = (index.license or "").strip()
    return (DeclaredLicense(text=license_, source="expression"),) if license_ else ()


def is_conda_lock(path: Path) -> bool:
    """Whether ``path`` names a conda lock (``conda-lock.yml`` or any ``.yml``/``.yaml``)."""
    return path.suffix in (".yml", ".yaml")


def sbom_inventory(
    path: Path,
    *,
    selection: Selection | None = None,
    platform: str | None = None,
    cache_root: Path | None = None,
) -> Inventory:
    """Read the lock at ``path`` once and gather its SBOM inventory.

    ``selection`` picks one environment of a ``pylock.toml``, ``platform`` one
    platform of a ``conda-lock.yml``; with neither, the whole lock. Licenses
    come from the artifact cache at ``cache_root`` (none without it).
    """
    licenses = cached_licenses(cache_root) if cache_root is not None else no_licenses
    if is_conda_lock(path):
        if selection is not None:
            raise UsageError(
                f"{path}: --python, --extra and --group select from a pylock.toml; "
                "for a conda lock use --platform"
            )
        from lockdown.lock.condalock import read_conda_lock  # noqa: PLC0415

        return conda_inventory(read_conda_lock(path), platform, licenses)
    if platform is not None:
        raise UsageError(
            f"{path}: --platform selects from a conda lock; for a pylock.toml use --python"
        )
    from lockdown.lock.pylock import read_lock  # noqa: PLC0415

    return pylock_inventory(read_lock(path), selection, licenses)
