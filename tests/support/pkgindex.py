"""A real, hermetic PEP 503 + PEP 691 package index for tests, and the real artifacts it serves.

``build_wheel`` and ``build_sdist`` write installable, byte-deterministic
distributions; :class:`PackageIndex` serves them over HTTP on 127.0.0.1 with
upload times (PEP 700), yanks (PEP 592), ``requires-python`` (PEP 503) and
optional core metadata files (PEP 658/714) under the test's control, so pip,
uv and lockdown's own client can be exercised without the internet.

The sdist carries a tiny stdlib-only PEP 517 backend made from the very
functions that :func:`build_wheel` uses, so building the sdist offline yields
the same wheel bytes the index serves.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import html
import inspect
import io
import json
import re
import shutil
import socket
import struct
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Final, Literal, cast
from urllib.parse import quote, unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

__all__ = [
    "DEFAULT_UPLOAD_EPOCH",
    "INTEGRITY_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "Fault",
    "IndexedFile",
    "PackageIndex",
    "build_sdist",
    "build_wheel",
    "format_upload_time",
    "negotiate",
]

JSON_CONTENT_TYPE: Final = "application/vnd.pypi.simple.v1+json"
_V1_HTML_CONTENT_TYPE: Final = "application/vnd.pypi.simple.v1+html"
_TEXT_HTML_CONTENT_TYPE: Final = "text/html"
#: PEP 691's "latest" aliases; this index's latest is v1.
_CONTENT_TYPE_ALIASES: Final = MappingProxyType(
    {
        "application/vnd.pypi.simple.latest+json": JSON_CONTENT_TYPE,
        "application/vnd.pypi.simple.latest+html": _V1_HTML_CONTENT_TYPE,
    }
)
#: PEP 700 (upload-time, size, versions) is API version 1.1.
_API_VERSION: Final = "1.1"
#: PEP 740 (``provenance``) is API version 1.3; pages say so once any file has provenance.
_PROVENANCE_API_VERSION: Final = "1.3"
#: What a provenance URL answers with (PEP 740's integrity API).
INTEGRITY_CONTENT_TYPE: Final = "application/vnd.pypi.integrity.v1+json"

#: Deterministic upload times: the first ``add`` is this instant, each later one a minute on.
DEFAULT_UPLOAD_EPOCH: Final = datetime(2025, 1, 1, tzinfo=timezone.utc)
_UPLOAD_STEP: Final = timedelta(minutes=1)

#: sdist members get a fixed mtime; 1980 rather than 0 because zip-based tools reject earlier dates.
_SDIST_MTIME: Final = 315532800

_NO_EXTRAS: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})


# --- artifact builders -------------------------------------------------------
#
# The three functions below use only the standard library and no module
# globals: _backend_source() copies them verbatim into every sdist's
# backend.py, which must run in an empty build environment.


def _dist_stem(name: str, version: str) -> str:
    """Return ``{name}-{version}`` with the name normalized as wheel and sdist filenames require."""
    return re.sub(r"[-_.]+", "_", name).lower() + "-" + version


def _wheel_file(tag: str) -> bytes:
    """Return the ``WHEEL`` file for a (possibly compressed) tag such as ``py2.py3-none-any``."""
    pythons, abis, platforms = tag.split("-")
    lines = [
        "Wheel-Version: 1.0",
        "Generator: lockdown-tests-pkgindex",
        "Root-Is-Purelib: " + ("true" if platforms == "any" else "false"),
    ]
    lines += [
        f"Tag: {python}-{abi}-{platform}"
        for python in pythons.split(".")
        for abi in abis.split(".")
        for platform in platforms.split(".")
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_wheel(
    path: str,
    *,
    stem: str,
    tag: str,
    metadata: bytes,
    files: list[tuple[str, bytes]],
    entry_points: bytes | None,
) -> None:
    """Write a wheel whose bytes depend only on the arguments (fixed dates, sorted members)."""
    dist_info = stem + ".dist-info"
    meta = [(dist_info + "/METADATA", metadata), (dist_info + "/WHEEL", _wheel_file(tag))]
    if entry_points is not None:
        meta.append((dist_info + "/entry_points.txt", entry_points))
    # The wheel spec recommends the .dist-info directory last, RECORD last of all.
    members = sorted(files) + sorted(meta)
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for arcname, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        writer.writerow([arcname, "sha256=" + digest.decode("ascii"), len(data)])
    writer.writerow([dist_info + "/RECORD", "", ""])
    members.append((dist_info + "/RECORD", record.getvalue().encode("utf-8")))
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in members:
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


_BACKEND_HEADER: Final = '''\
"""Stdlib-only PEP 517 backend written by lockdown's tests/support/pkgindex.py.

It rebuilds, from PKG-INFO, src/ and entry_points.txt, the same wheel the test
index serves for this project.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import zipfile
from pathlib import Path
'''

_BACKEND_HOOKS: Final = """

def _project() -> tuple[str, str, bytes]:
    metadata = Path("PKG-INFO").read_bytes()
    fields = dict(
        line.split(": ", 1) for line in metadata.decode("utf-8").splitlines() if ": " in line
    )
    return fields["Name"], fields["Version"], metadata


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, metadata = _project()
    stem = _dist_stem(name, version)
    files = [
        (path.relative_to("src").as_posix(), path.read_bytes())
        for path in sorted(Path("src").rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    entry_points_file = Path("entry_points.txt")
    entry_points = entry_points_file.read_bytes() if entry_points_file.exists() else None
    filename = stem + "-py3-none-any.whl"
    _write_wheel(
        os.path.join(wheel_directory, filename),
        stem=stem,
        tag="py3-none-any",
        metadata=metadata,
        files=files,
        entry_points=entry_points,
    )
    return filename


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    filename = build_wheel(metadata_directory)
    wheel_path = os.path.join(metadata_directory, filename)
    with zipfile.ZipFile(wheel_path) as archive:
        names = archive.namelist()
        dist_info = names[-1].split("/")[0]
        archive.extractall(metadata_directory, [n for n in names if n.startswith(dist_info + "/")])
    os.remove(wheel_path)
    return dist_info
"""

_SDIST_PYPROJECT: Final = b"""\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def _backend_source() -> bytes:
    """Return an sdist's ``backend.py``: the wheel-writing functions above plus PEP 517 hooks."""
    shared = "\n\n".join(
        inspect.getsource(func) for func in (_dist_stem, _wheel_file, _write_wheel)
    )
    return (_BACKEND_HEADER + "\n\n" + shared + _BACKEND_HOOKS).encode("utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Distribution:
    """Everything one release's wheel and sdist are made from."""

    stem: str
    metadata: bytes
    files: tuple[tuple[str, bytes], ...]
    entry_points: bytes | None

    @classmethod
    def create(
        cls,
        name: str,
        version: str,
        *,
        dependencies: Sequence[str],
        extras: Mapping[str, Sequence[str]],
        requires_python: str | None,
        files: Mapping[str, bytes] | None,
        console_scripts: Mapping[str, str] | None,
        metadata: Sequence[str] = (),
    ) -> _Distribution:
        # Normalize the version once so filenames, METADATA and the module agree.
        version = str(Version(version))
        import_name = canonicalize_name(name).replace("-", "_")
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines.append(f"Summary: {name} {version}, built for lockdown's tests")
        if requires_python is not None:
            SpecifierSet(requires_python)  # fail at build time, not inside an installer
            lines.append(f"Requires-Python: {requires_python}")
        lines += list(metadata)  # e.g. "License-Expression: MIT"
        lines += [f"Requires-Dist: {Requirement(dep)}" for dep in dependencies]
        for extra, extra_dependencies in sorted(extras.items()):
            extra_name = canonicalize_name(extra)  # PEP 685
            lines.append(f"Provides-Extra: {extra_name}")
            for dependency in extra_dependencies:
                requirement = Requirement(dependency)
                condition = f'extra == "{extra_name}"'
                if requirement.marker is not None:
                    condition = f"({requirement.marker}) and {condition}"
                requirement.marker = Marker(condition)
                lines.append(f"Requires-Dist: {requirement}")
        module = f'"""{name} {version}: a test package."""\n\n__version__ = "{version}"\n'
        members = {f"{import_name}/__init__.py": module.encode("utf-8")}
        members.update(files or {})
        entry_points = None
        if console_scripts:
            scripts = "".join(
                f"{key} = {value}\n" for key, value in sorted(console_scripts.items())
            )
            entry_points = ("[console_scripts]\n" + scripts).encode("utf-8")
        return cls(
            stem=_dist_stem(name, version),
            metadata=("\n".join(lines) + "\n").encode("utf-8"),
            files=tuple(sorted(members.items())),
            entry_points=entry_points,
        )


def build_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] = _NO_EXTRAS,
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes] | None = None,
    console_scripts: Mapping[str, str] | None = None,
    metadata: Sequence[str] = (),
) -> Path:
    """Write an installable wheel into ``dest_dir`` and return its path.

    ``dependencies`` and ``extras`` values are PEP 508 strings; ``files`` adds or
    replaces members (``{import_name}/__init__.py`` with ``__version__`` is always
    there); ``console_scripts`` maps a script name to ``module:function``. The
    same arguments always give the same bytes.
    """
    parse_tag(tag)  # reject malformed tags before they reach a filename
    distribution = _Distribution.create(
        name,
        version,
        dependencies=dependencies,
        extras=extras,
        requires_python=requires_python,
        files=files,
        console_scripts=console_scripts,
        metadata=metadata,
    )
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{distribution.stem}-{tag}.whl"
    _write_wheel(
        str(path),
        stem=distribution.stem,
        tag=tag,
        metadata=distribution.metadata,
        files=list(distribution.files),
        entry_points=distribution.entry_points,
    )
    return path


def build_sdist(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] = _NO_EXTRAS,
    requires_python: str | None = None,
    files: Mapping[str, bytes] | None = None,
    console_scripts: Mapping[str, str] | None = None,
    metadata: Sequence[str] = (),
) -> Path:
    """Write a ``.tar.gz`` sdist into ``dest_dir`` and return its path.

    It builds offline with any PEP 517 frontend (``requires = []``, in-tree
    backend) into the wheel :func:`build_wheel` makes for ``py3-none-any``.
    The same arguments always give the same bytes.
    """
    distribution = _Distribution.create(
        name,
        version,
        dependencies=dependencies,
        extras=extras,
        requires_python=requires_python,
        files=files,
        console_scripts=console_scripts,
        metadata=metadata,
    )
    top = distribution.stem
    members = {
        f"{top}/PKG-INFO": distribution.metadata,
        f"{top}/pyproject.toml": _SDIST_PYPROJECT,
        f"{top}/backend.py": _backend_source(),
    }
    members.update({f"{top}/src/{arcname}": data for arcname, data in distribution.files})
    if distribution.entry_points is not None:
        members[f"{top}/entry_points.txt"] = distribution.entry_points
    # Explicit directory entries: not every extractor creates missing parents.
    directories = {
        "/".join(arcname.split("/")[:depth])
        for arcname in members
        for depth in range(1, arcname.count("/") + 1)
    }
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{top}.tar.gz"
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for directory in sorted(directories):
            archive.addfile(_tar_info(directory, tarfile.DIRTYPE, 0o755, 0))
        for arcname, data in sorted(members.items()):
            archive.addfile(_tar_info(arcname, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return path


def _tar_info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    """Return a tar header with no owner, host or time information in it."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = _SDIST_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# --- the index ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedFile:
    """One artifact the index holds, with what it really is and what the index says about it."""

    filename: str
    #: PEP 503 normalized project name.
    project: str
    version: str
    path: Path
    #: The real sha256 of the bytes on disk.
    sha256: str
    size: int
    upload_time: datetime
    #: None = not yanked; "" = yanked without a reason; else the reason.
    yanked: str | None
    requires_python: str | None
    #: The sha256 the index advertises; differs from ``sha256`` after ``corrupt_hash``.
    advertised_sha256: str
    #: A wheel's METADATA, served as ``<file>.metadata`` when ``serve_metadata`` is on.
    metadata: bytes | None

    @property
    def sort_key(self) -> tuple[Version, str]:
        """Order files by version, then filename, so pages are deterministic."""
        return Version(self.version), self.filename


#: How the index can misbehave on one request (see :meth:`PackageIndex.fail`):
#: ``reset`` drops the connection before answering (TCP RST), ``stall`` says
#: nothing for ``stall_seconds`` and hangs up, ``cut`` sends the headers and
#: half the body, ``429``/``500``/``503`` answer with that status (429 and 503
#: with ``Retry-After`` when one is given).
Fault = Literal["reset", "stall", "cut", "429", "500", "503"]


@dataclass(slots=True, kw_only=True)
class _FaultRule:
    """Faults for the requests whose path starts with ``prefix`` (and whose agent matches)."""

    prefix: str
    agent: str | None
    #: Consumed in order, one per matching request; then ``forever`` (if any) on every one.
    queue: list[Fault]
    forever: Fault | None
    retry_after: str | None
    stall_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """One request as the index saw it: for asserting retries and the pauses between them."""

    path: str
    #: The client's ``User-Agent`` (``lockdown/…``, ``uv/…``, ``pip/…``).
    agent: str
    #: ``time.monotonic()`` when the request arrived.
    at: float
    #: The fault it got, or ``None`` for an honest answer.
    fault: Fault | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Response:
    """What the handler sends: routing decides it without touching sockets."""

    status: HTTPStatus
    headers: Mapping[str, str]
    body: bytes = b""
    #: Send only this many bytes of ``body`` (announcing all of it), then hang up.
    drop_after: int | None = None


class PackageIndex:
    """A PEP 503 + PEP 691 simple index on 127.0.0.1, backed by files under ``root``.

    Pages are rendered per request from the current state, so ``yank``,
    ``corrupt_hash`` and the switches take effect immediately:

    * ``json_api`` — answer PEP 691 JSON when asked; off means HTML only.
    * ``upload_times`` — PEP 700 ``upload-time`` in JSON.
    * ``sizes`` — PEP 700 ``size`` in JSON.
    * ``serve_metadata`` — PEP 658/714 ``<wheel>.metadata`` files and their hashes.

    PEP 740 provenance is served as the real index serves it: ``set_provenance``
    gives a file a ``provenance`` URL (JSON; ``data-provenance`` in HTML) under
    ``/integrity/<project>/<version>/<file>/provenance``. ``list_file`` lists a
    file by name and digest alone (real attestations name files whose bytes
    the tests do not have; fetching its bytes is a 404).

    Every request path is appended to ``requests``; each simple-API page
    served is appended to ``pages_served`` as ``(path, content type)``.
    :meth:`fail` makes it a flaky index (resets, stalls, cut bodies, 429/5xx),
    for some requests or for good; :attr:`served` records who asked when.
    """

    def __init__(
        self,
        root: Path,
        *,
        json_api: bool = True,
        upload_times: bool = True,
        sizes: bool = True,
        serve_metadata: bool = False,
    ) -> None:
        self.root = root
        self.json_api = json_api
        self.upload_times = upload_times
        self.sizes = sizes
        self.serve_metadata = serve_metadata
        self.requests: list[str] = []
        self.pages_served: list[tuple[str, str]] = []
        self._files_dir = root / "files"
        self._files_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._projects: dict[str, str] = {}  # normalized name -> name as first added
        self._files: dict[str, IndexedFile] = {}
        self._adds = 0
        self._drops: dict[str, int] = {}
        self._provenance: dict[str, bytes] = {}
        self._altered_metadata: dict[str, tuple[str, bytes]] = {}
        self._faults: list[_FaultRule] = []
        #: Every request with its agent, time and fault (see :meth:`fail`).
        self.served: list[Served] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> PackageIndex:
        """Start serving on an ephemeral port of 127.0.0.1 (idempotent)."""
        if self._server is None:
            server = _IndexServer(("127.0.0.1", 0), _Handler)
            server.index = self
            self._server = server
            # A short poll interval keeps stop() (and so every test's teardown) fast.
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name="test-package-index",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> PackageIndex:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the package index is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The simple-API root to give installers: ``http://127.0.0.1:PORT/simple/``."""
        return self.base_url + "/simple/"

    @property
    def files_url(self) -> str:
        """Where artifacts are served: ``http://127.0.0.1:PORT/files/``."""
        return self.base_url + "/files/"

    # --- content ---

    def add(
        self,
        name: str,
        version: str,
        *,
        dependencies: Sequence[str] = (),
        extras: Mapping[str, Sequence[str]] = _NO_EXTRAS,
        requires_python: str | None = None,
        wheel_tags: Sequence[str] = ("py3-none-any",),
        sdist: bool = True,
        upload_time: datetime | None = None,
        yanked: bool | str = False,
        console_scripts: Mapping[str, str] | None = None,
        metadata: Sequence[str] = (),
    ) -> list[Path]:
        """Build one wheel per tag (and an sdist) for ``name==version`` and publish them.

        ``upload_time`` defaults to ``DEFAULT_UPLOAD_EPOCH`` plus one minute per
        earlier ``add`` on this index, so runs are reproducible. ``yanked`` is
        ``True`` (no reason) or the reason. Adding a release again rebuilds and
        replaces its files, as a re-upload or a tampered index would.
        """
        if upload_time is None:
            upload_time = DEFAULT_UPLOAD_EPOCH + self._adds * _UPLOAD_STEP
        upload_time = _require_aware(upload_time)
        self._adds += 1
        paths = [
            build_wheel(
                self._files_dir,
                name,
                version,
                dependencies=dependencies,
                extras=extras,
                requires_python=requires_python,
                tag=tag,
                console_scripts=console_scripts,
                metadata=metadata,
            )
            for tag in wheel_tags
        ]
        if sdist:
            paths.append(
                build_sdist(
                    self._files_dir,
                    name,
                    version,
                    dependencies=dependencies,
                    extras=extras,
                    requires_python=requires_python,
                    console_scripts=console_scripts,
                    metadata=metadata,
                )
            )
        project = canonicalize_name(name)
        reason = _yank_reason(yanked)
        with self._lock:
            self._projects.setdefault(project, name)
            for path in paths:
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                self._files[path.name] = IndexedFile(
                    filename=path.name,
                    project=project,
                    version=str(Version(version)),
                    path=path,
                    sha256=digest,
                    size=len(data),
                    upload_time=upload_time,
                    yanked=reason,
                    requires_python=requires_python,
                    advertised_sha256=digest,
                    metadata=_wheel_metadata(path) if path.suffix == ".whl" else None,
                )
        return paths

    def publish(self, artifact: Path, *, upload_time: datetime | None = None) -> Path:
        """Serve an artifact built elsewhere (a wheel with extra members, say); its copy.

        The name and version come from the filename (``name-version-...``);
        upload times follow the same deterministic sequence as :meth:`add`.
        """
        if upload_time is None:
            upload_time = DEFAULT_UPLOAD_EPOCH + self._adds * _UPLOAD_STEP
        upload_time = _require_aware(upload_time)
        self._adds += 1
        path = self._files_dir / artifact.name
        if artifact.resolve() != path.resolve():
            shutil.copyfile(artifact, path)
        stem = artifact.name.removesuffix(".tar.gz").removesuffix(".whl")
        name, version = stem.split("-")[:2]
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._projects.setdefault(canonicalize_name(name), name)
            self._files[path.name] = IndexedFile(
                filename=path.name,
                project=canonicalize_name(name),
                version=str(Version(version)),
                path=path,
                sha256=digest,
                size=len(data),
                upload_time=upload_time,
                yanked=None,
                requires_python=None,
                advertised_sha256=digest,
                metadata=_wheel_metadata(path) if path.suffix == ".whl" else None,
            )
        return path

    def list_file(
        self, filename: str, sha256: str, *, upload_time: datetime | None = None, size: int = 0
    ) -> None:
        """List ``filename`` with this sha256 (and no bytes to serve): PEP 740 tests use it."""
        if upload_time is None:
            upload_time = DEFAULT_UPLOAD_EPOCH + self._adds * _UPLOAD_STEP
        self._adds += 1
        stem = filename.removesuffix(".tar.gz").removesuffix(".zip").removesuffix(".whl")
        name, version = stem.split("-")[:2]
        with self._lock:
            self._projects.setdefault(canonicalize_name(name), name)
            self._files[filename] = IndexedFile(
                filename=filename,
                project=canonicalize_name(name),
                version=str(Version(version)),
                path=self._files_dir / filename,
                sha256=sha256,
                size=size,
                upload_time=_require_aware(upload_time),
                yanked=None,
                requires_python=None,
                advertised_sha256=sha256,
                metadata=None,
            )

    def set_provenance(self, filename: str, document: bytes | None) -> str | None:
        """Offer ``document`` as ``filename``'s PEP 740 provenance (``None``: offer none).

        Returns the provenance URL the pages now name.
        """
        indexed = self._get(filename)
        with self._lock:
            if document is None:
                self._provenance.pop(filename, None)
                return None
            self._provenance[filename] = document
        return self.base_url + _provenance_path(indexed)

    def yank(self, name: str, version: str, reason: str = "") -> None:
        """Yank every file of ``name==version`` (``reason=""`` yanks without a reason)."""
        project, normalized = canonicalize_name(name), Version(version)
        with self._lock:
            matches = [
                f
                for f in self._files.values()
                if f.project == project and Version(f.version) == normalized
            ]
            if not matches:
                raise KeyError(f"{name}=={version} is not in the index")
            for indexed in matches:
                self._files[indexed.filename] = replace(indexed, yanked=reason)

    def set_upload_time(self, filename: str, upload_time: datetime) -> None:
        """Change the PEP 700 upload time the index reports for ``filename``."""
        aware = _require_aware(upload_time)
        self._update(filename, lambda f: replace(f, upload_time=aware))

    def corrupt_hash(self, filename: str) -> None:
        """Advertise a wrong sha256 for ``filename`` in HTML fragments and JSON hashes."""
        wrong = hashlib.sha256(b"corrupted:" + filename.encode("utf-8")).hexdigest()
        self._update(filename, lambda f: replace(f, advertised_sha256=wrong))

    def drop_connection(self, filename: str, after_bytes: int) -> None:
        """Serve ``filename`` by announcing its full size, sending ``after_bytes``, hanging up."""
        self._get(filename)
        with self._lock:
            self._drops[filename] = after_bytes

    def fail(
        self,
        prefix: str,
        *faults: Fault,
        forever: Fault | None = None,
        agent: str | None = None,
        retry_after: str | None = None,
        stall_seconds: float = 2.0,
    ) -> None:
        """Misbehave on the requests whose path starts with ``prefix``: a flaky index.

        The first matching requests get ``faults``, one each, in order; after
        them every matching request gets ``forever`` when given (an index that
        never recovers), else an honest answer. ``agent`` limits the rule to
        clients whose ``User-Agent`` starts with it (``"lockdown/"`` for
        lockdown's own requests, ``"uv/"`` for uv's). Requests are recorded in
        :attr:`served`.
        """
        with self._lock:
            self._faults.append(
                _FaultRule(
                    prefix=prefix,
                    agent=agent,
                    queue=list(faults),
                    forever=forever,
                    retry_after=retry_after,
                    stall_seconds=stall_seconds,
                )
            )

    def alter_metadata(self, filename: str, body: bytes, *, agent: str = "") -> None:
        """Serve ``body`` as ``<filename>.metadata`` to clients whose ``User-Agent``
        starts with ``agent``; the pages keep declaring the true digest."""
        with self._lock:
            self._altered_metadata[filename] = (agent, body)

    def served_to(self, agent: str, prefix: str = "/") -> list[Served]:
        """The requests of clients whose ``User-Agent`` starts with ``agent``, under ``prefix``."""
        with self._lock:
            return [
                s for s in self.served if s.agent.startswith(agent) and s.path.startswith(prefix)
            ]

    def _fault_for(self, path: str, agent: str) -> tuple[Fault | None, _FaultRule | None]:
        """The fault this request gets (and its rule), recording the request."""
        fault: Fault | None = None
        chosen: _FaultRule | None = None
        with self._lock:
            for rule in self._faults:
                if not path.startswith(rule.prefix):
                    continue
                if rule.agent is not None and not agent.startswith(rule.agent):
                    continue
                if rule.queue:
                    fault, chosen = rule.queue.pop(0), rule
                    break
                if rule.forever is not None:
                    fault, chosen = rule.forever, rule
                    break
            self.served.append(Served(path=path, agent=agent, at=time.monotonic(), fault=fault))
        return fault, chosen

    def remove(self, filename: str) -> None:
        """Drop ``filename`` from the listings and stop serving it."""
        with self._lock:
            self._get(filename)
            del self._files[filename]

    def file(self, filename: str) -> IndexedFile:
        """Return what the index holds for ``filename``."""
        with self._lock:
            return self._get(filename)

    def files(self, name: str | None = None) -> list[IndexedFile]:
        """Return the files of project ``name`` (or all), in page order."""
        project = None if name is None else canonicalize_name(name)
        with self._lock:
            selected = [f for f in self._files.values() if project in (None, f.project)]
        return sorted(selected, key=lambda f: (f.project, f.sort_key))

    def write_file_index(self, dest: Path) -> str:
        """Write a static PEP 503 tree (HTML only) under ``dest``; return its ``file://`` URL.

        Pages live in ``dest/simple/<project>/index.html`` and link to copies of
        the artifacts in ``dest/files/`` by the same relative URLs the server uses.
        """
        with self._lock:
            projects = dict(self._projects)
            files = list(self._files.values())
        (dest / "files").mkdir(parents=True, exist_ok=True)
        for indexed in files:
            shutil.copyfile(indexed.path, dest / "files" / indexed.filename)
        for project in projects:
            page = dest / "simple" / project / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_bytes(self._project_html(project, files))
        (dest / "simple" / "index.html").write_bytes(_root_html(projects))
        return (dest / "simple").resolve().as_uri() + "/"

    def _update(self, filename: str, change: Callable[[IndexedFile], IndexedFile]) -> None:
        with self._lock:
            self._files[filename] = change(self._get(filename))

    def _get(self, filename: str) -> IndexedFile:
        try:
            return self._files[filename]
        except KeyError:
            raise KeyError(f"{filename} is not in the index") from None

    # --- serving ---

    def _respond(self, raw_path: str, accept: str | None, agent: str = "") -> _Response:
        """Route one GET/HEAD request; pure apart from reading the state and files."""
        self.requests.append(raw_path)
        path = unquote(urlsplit(raw_path).path)
        if path == "/simple":
            return _redirect("/simple/")
        if path == "/simple/":
            with self._lock:
                projects = dict(self._projects)
            return self._page(raw_path, accept, projects=projects, project=None, files=[])
        if path.startswith("/simple/"):
            name = path.removeprefix("/simple/").rstrip("/")
            project = canonicalize_name(name)
            with self._lock:
                known = project in self._projects
                files = [f for f in self._files.values() if f.project == project]
            if not known or "/" in name:
                return _not_found()
            if path != f"/simple/{project}/":
                # PEP 503: clients may ask with any spelling; send them to the one URL.
                return _redirect(f"/simple/{quote(project)}/")
            return self._page(raw_path, accept, projects={}, project=project, files=files)
        if path.startswith("/files/"):
            return self._artifact(path.removeprefix("/files/"), agent)
        if path.startswith("/integrity/") and path.endswith("/provenance"):
            filename = path.removesuffix("/provenance").rsplit("/", 1)[-1]
            with self._lock:
                document = self._provenance.get(filename)
            if document is None:
                return _not_found()
            return _Response(
                status=HTTPStatus.OK,
                headers={"Content-Type": INTEGRITY_CONTENT_TYPE},
                body=document,
            )
        return _not_found()

    def _page(
        self,
        raw_path: str,
        accept: str | None,
        *,
        projects: Mapping[str, str],
        project: str | None,
        files: list[IndexedFile],
    ) -> _Response:
        content_type = negotiate(accept, json_api=self.json_api)
        if content_type == JSON_CONTENT_TYPE:
            document = (
                _root_json(projects) if project is None else self._project_json(project, files)
            )
            body = json.dumps(document, indent=2, sort_keys=True).encode("utf-8")
            header = content_type
        else:
            body = _root_html(projects) if project is None else self._project_html(project, files)
            header = content_type
            if content_type == _TEXT_HTML_CONTENT_TYPE:
                header += "; charset=utf-8"
        self.pages_served.append((raw_path, content_type))
        return _Response(
            status=HTTPStatus.OK,
            headers={"Content-Type": header, "Vary": "Accept", "Cache-Control": "no-store"},
            body=body,
        )

    def _project_json(self, project: str, files: list[IndexedFile]) -> dict[str, object]:
        entries: list[dict[str, object]] = []
        for indexed in sorted(files, key=lambda f: f.sort_key):
            entry: dict[str, object] = {
                "filename": indexed.filename,
                "url": _relative_file_url(indexed.filename),
                "hashes": {"sha256": indexed.advertised_sha256},
                "yanked": (False if indexed.yanked is None else (indexed.yanked or True)),
            }
            if indexed.requires_python is not None:
                entry["requires-python"] = indexed.requires_python
            if self.sizes:
                entry["size"] = indexed.size
            if self.upload_times:
                entry["upload-time"] = format_upload_time(indexed.upload_time)
            if self.serve_metadata and indexed.metadata is not None:
                digest = {"sha256": hashlib.sha256(indexed.metadata).hexdigest()}
                entry["core-metadata"] = digest
                entry["dist-info-metadata"] = digest  # PEP 714: older clients read this name
            if self._provenance:
                # PEP 740: every file has the key, null when it has no provenance.
                offered = indexed.filename in self._provenance
                entry["provenance"] = _provenance_path(indexed) if offered else None
            entries.append(entry)
        versions = sorted({Version(f.version) for f in files})
        return {
            "meta": {"api-version": _PROVENANCE_API_VERSION if self._provenance else _API_VERSION},
            "name": project,
            "versions": [str(v) for v in versions],
            "files": entries,
        }

    def _project_html(self, project: str, files: list[IndexedFile]) -> bytes:
        anchors = []
        for indexed in sorted(files, key=lambda f: f.sort_key):
            href = f"{_relative_file_url(indexed.filename)}#sha256={indexed.advertised_sha256}"
            attributes = [f'href="{html.escape(href)}"']
            if indexed.requires_python is not None:
                attributes.append(f'data-requires-python="{html.escape(indexed.requires_python)}"')
            if indexed.yanked is not None:
                attributes.append(f'data-yanked="{html.escape(indexed.yanked)}"')
            if self.serve_metadata and indexed.metadata is not None:
                digest = f"sha256={hashlib.sha256(indexed.metadata).hexdigest()}"
                attributes.append(f'data-dist-info-metadata="{digest}"')
                attributes.append(f'data-core-metadata="{digest}"')
            if indexed.filename in self._provenance:
                attributes.append(f'data-provenance="{html.escape(_provenance_path(indexed))}"')
            anchors.append(f"<a {' '.join(attributes)}>{html.escape(indexed.filename)}</a><br/>")
        return _html_document(f"Links for {project}", anchors)

    def _artifact(self, filename: str, agent: str = "") -> _Response:
        metadata_of = filename.removesuffix(".metadata") if filename.endswith(".metadata") else None
        with self._lock:
            indexed = self._files.get(metadata_of or filename)
        if indexed is None:
            return _not_found()
        if metadata_of is not None:
            if not self.serve_metadata or indexed.metadata is None:
                return _not_found()
            altered = self._altered_metadata.get(indexed.filename)
            body = altered[1] if altered and agent.startswith(altered[0]) else indexed.metadata
        else:
            try:
                body = indexed.path.read_bytes()
            except FileNotFoundError:  # listed by name and digest only (list_file)
                return _not_found()
        return _Response(
            status=HTTPStatus.OK,
            headers={"Content-Type": "application/octet-stream"},
            body=body,
            drop_after=None if metadata_of else self._drops.get(filename),
        )


class _IndexServer(ThreadingHTTPServer):
    """The HTTP server; ``index`` is the ``PackageIndex`` whose state it serves."""

    daemon_threads = True
    #: A listen backlog like a real server's (socketserver's default is 5): clients
    #: that ask many pages at once must not see connections dropped and retried.
    request_queue_size = 128
    index: PackageIndex


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into ``PackageIndex._respond`` calls."""

    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes; without TCP_NODELAY a kept-alive
    #: connection waits for the client's delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._send(include_body=True)

    def do_HEAD(self) -> None:
        self._send(include_body=False)

    def _send(self, *, include_body: bool) -> None:
        index = cast(_IndexServer, self.server).index
        fault, rule = index._fault_for(self.path, self.headers.get("User-Agent") or "")
        if fault is not None and rule is not None and self._misbehave(fault, rule):
            return
        response = index._respond(
            self.path, self.headers.get("Accept"), self.headers.get("User-Agent") or ""
        )
        if fault == "cut":
            response = replace(response, drop_after=len(response.body) // 2)
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if include_body and response.drop_after is not None:
            # A connection that dies mid-file: the full length was announced.
            self.wfile.write(response.body[: response.drop_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if include_body:
            self.wfile.write(response.body)

    def _misbehave(self, fault: Fault, rule: _FaultRule) -> bool:
        """Act out ``fault``; True when nothing more may be sent (``cut`` sends a half body)."""
        if fault == "reset":
            # SO_LINGER 0: closing sends a TCP RST, as a crashed proxy does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
            return True
        if fault == "stall":
            time.sleep(rule.stall_seconds)
            self.close_connection = True
            return True
        if fault in ("429", "500", "503"):
            body = f"{fault} from the test index\n".encode()
            self.send_response(int(fault))
            if rule.retry_after is not None and fault != "500":
                self.send_header("Retry-After", rule.retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        return False

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except ValueError:
            if not self.wfile.closed:
                raise
            # A connection this handler reset on purpose: nothing left to flush.

    def finish(self) -> None:
        if not self.wfile.closed:
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read ``PackageIndex.requests`` instead of stderr."""


def negotiate(accept: str | None, *, json_api: bool = True) -> str:
    """Pick the PEP 691 content type to answer an ``Accept`` header with.

    Each offer takes the quality of its most specific matching range; the
    highest quality wins, then the most specific match. Among explicit matches
    JSON is preferred; a bare wildcard (or no header) gets ``text/html``,
    which every legacy client understands.
    """
    offers = [JSON_CONTENT_TYPE] if json_api else []
    offers += [_V1_HTML_CONTENT_TYPE, _TEXT_HTML_CONTENT_TYPE]
    ranges: list[tuple[str, float]] = []
    for part in (accept or "").split(","):
        media, *parameters = (piece.strip().lower() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((_CONTENT_TYPE_ALIASES.get(media, media), quality))
    best_rank: tuple[float, int, int] = (0.0, 0, 0)
    choice = _TEXT_HTML_CONTENT_TYPE
    for rank, offer in enumerate(offers):
        specificity, quality = -1, 0.0
        for media, media_quality in ranges:
            if media == offer:
                level = 2
            elif media == offer.split("/")[0] + "/*":
                level = 1
            elif media == "*/*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, quality = level, media_quality
        preference = len(offers) - rank if specificity == 2 else rank
        rank_of_offer = (quality, specificity, preference)
        if quality > 0 and rank_of_offer > best_rank:
            best_rank, choice = rank_of_offer, offer
    return choice


def format_upload_time(moment: datetime) -> str:
    """Render a PEP 700 ``upload-time``: ISO 8601 in UTC with a ``Z``."""
    utc = moment.astimezone(timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _provenance_path(indexed: IndexedFile) -> str:
    """Where the real index serves a file's provenance (absolute path on this server)."""
    return f"/integrity/{indexed.project}/{indexed.version}/{quote(indexed.filename)}/provenance"


def _relative_file_url(filename: str) -> str:
    # Relative on purpose: project pages live at /simple/<name>/, so clients
    # must resolve against the page URL to find /files/<filename>.
    return f"../../files/{quote(filename)}"


def _root_json(projects: Mapping[str, str]) -> dict[str, object]:
    return {
        "meta": {"api-version": _API_VERSION},
        "projects": [{"name": projects[key]} for key in sorted(projects)],
    }


def _root_html(projects: Mapping[str, str]) -> bytes:
    anchors = [
        f'<a href="{quote(key)}/">{html.escape(projects[key])}</a><br/>' for key in sorted(projects)
    ]
    return _html_document("Simple index", anchors)


def _html_document(title: str, body_lines: list[str]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{_API_VERSION}">',
        f"    <title>{html.escape(title)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>{html.escape(title)}</h1>",
        *(f"    {line}" for line in body_lines),
        "  </body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _redirect(location: str) -> _Response:
    return _Response(status=HTTPStatus.MOVED_PERMANENTLY, headers={"Location": location})


def _not_found() -> _Response:
    return _Response(
        status=HTTPStatus.NOT_FOUND,
        headers={"Content-Type": "text/plain; charset=utf-8"},
        body=b"404 Not Found\n",
    )


def _wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name)


def _yank_reason(yanked: bool | str) -> str | None:
    if yanked is False:
        return None
    if yanked is True:
        return ""
    return yanked


def _require_aware(moment: datetime) -> datetime:
    # A naive datetime would silently take the machine's zone; upload times are UTC instants.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"upload time {moment.isoformat()} has no time zone")
    return moment.astimezone(timezone.utc)
