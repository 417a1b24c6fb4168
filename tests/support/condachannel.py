"""A real, hermetic conda channel for tests: packages built from scratch, indexed, served.

:class:`CondaChannel` writes small but complete conda packages (``.tar.bz2``
or ``.conda``) with ``info/index.json``, ``info/paths.json``, ``info/files``
and, when asked, a text file carrying the prefix placeholder (recorded in
``info/has_prefix``), so installers really relocate it. The archives are
byte-deterministic for the same inputs: members are sorted, owners, times and
modes fixed, and each ``add`` gets a reproducible timestamp.

``index`` writes ``repodata.json`` with py-rattler's own indexer; the channel
is then usable as ``file_url`` or, inside ``serve()``, over HTTP on 127.0.0.1.
``tamper`` changes an archive after indexing so its hashes no longer match.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEFAULT_BUILD_EPOCH",
    "PREFIX_PLACEHOLDER",
    "CondaChannel",
    "PlaceholderFile",
]

#: conda's conventional prefix placeholder; installers replace it with the target prefix.
PREFIX_PLACEHOLDER: Final = "/opt/anaconda1anaconda2anaconda3"

#: Deterministic build times: the first ``add`` is this instant, each later one a minute on.
DEFAULT_BUILD_EPOCH: Final = datetime(2025, 1, 1, tzinfo=timezone.utc)
_BUILD_STEP: Final = timedelta(minutes=1)

#: Archive members get a fixed mtime; 1980 because zip cannot store earlier dates.
_MEMBER_MTIME: Final = 315532800
_ZIP_DATE_TIME: Final = (1980, 1, 1, 0, 0, 0)

_ARCHIVE_SUFFIXES: Final = (".tar.bz2", ".conda")

#: ``<os>-<bits>`` subdirs whose conda ``arch`` is not the part after the dash.
_ARCH_ALIASES: Final = {"64": "x86_64", "32": "x86"}


@dataclass(frozen=True)
class PlaceholderFile:
    """A payload file that holds a prefix placeholder, for ``CondaChannel.add(prefix_files=...)``.

    ``mode`` is how installers rewrite it: ``text`` (plain replacement) or
    ``binary`` (NUL-padded C strings: the placeholder must be at least as long
    as the target prefix).
    """

    data: bytes
    mode: Literal["text", "binary"] = "text"
    placeholder: str = PREFIX_PLACEHOLDER


class CondaChannel:
    """A local conda channel under ``root``: build packages, index them, serve them.

    ``root`` is the channel directory itself (``root/noarch``, ``root/linux-64``, ...).
    Over HTTP the channel lives at ``http://127.0.0.1:PORT/<name>``, so both URLs
    end in a channel-like path. Every HTTP request path is appended to ``requests``.
    """

    def __init__(self, root: Path, *, name: str = "local") -> None:
        if name in ("", ".", "..") or "/" in name:
            raise ValueError(f"channel name must be one path segment, not {name!r}")
        self.root = root
        self.name = name
        self.requests: list[str] = []
        self._adds = 0
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)

    # --- content ---

    def add(
        self,
        name: str,
        version: str,
        *,
        build_number: int = 0,
        depends: Sequence[str] = (),
        subdir: str = "noarch",
        files: Mapping[str, bytes] | None = None,
        placeholder_file: bool = True,
        fmt: Literal["tar.bz2", "conda"] = "tar.bz2",
        timestamp: datetime | None = None,
        prefix_files: Mapping[str, PlaceholderFile] | None = None,
        noarch: Literal["generic", "python"] = "generic",
    ) -> Path:
        """Build one package into ``root/<subdir>/`` and return the archive's path.

        ``files`` maps paths relative to the prefix to their bytes (files under
        ``bin/`` are executable); by default a data file ``share/<name>/<name>.txt``
        and a shell script ``bin/<name>``. With ``placeholder_file`` the package
        also holds ``share/<name>/prefix.txt`` with :data:`PREFIX_PLACEHOLDER` in it,
        declared as a text-mode prefix file. ``prefix_files`` adds more files with
        a placeholder (text or binary mode, any placeholder), declared the same
        way. ``noarch="python"`` makes a ``noarch: python`` package: installers
        move its ``site-packages/`` and ``python-scripts/`` into the prefix's
        Python. Call :meth:`index` afterwards.
        """
        if isinstance(depends, str):
            raise TypeError("depends must be a sequence of match specs, not one string")
        if fmt not in ("tar.bz2", "conda"):
            raise ValueError(f"unknown package format {fmt!r}")
        moment = DEFAULT_BUILD_EPOCH + self._adds * _BUILD_STEP if timestamp is None else timestamp
        if moment.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        self._adds += 1

        payload = dict(_default_files(name, version) if files is None else files)
        for relative in payload:
            _check_relative(relative)
        placeholder_path = f"share/{name}/prefix.txt" if placeholder_file else None
        if placeholder_path is not None:
            if placeholder_path in payload:
                raise ValueError(f"{placeholder_path} is reserved for the placeholder file")
            payload[placeholder_path] = f"prefix={PREFIX_PLACEHOLDER}\n".encode()
        declared = dict(prefix_files or {})
        for relative, declared_file in declared.items():
            _check_relative(relative)
            if relative in payload:
                raise ValueError(f"{relative} is both a plain file and a prefix file")
            payload[relative] = declared_file.data

        build_hash = _build_hash(name, version, build_number, depends, subdir, payload)
        build = f"h{build_hash}_{build_number}"
        platform, arch = _platform_arch(subdir)
        index: dict[str, object] = {
            "arch": arch,
            "build": build,
            "build_number": build_number,
            "depends": list(depends),
            "license": "MIT",
            "name": name,
            "platform": platform,
            "subdir": subdir,
            "timestamp": round(moment.timestamp() * 1000),
            "version": version,
        }
        if subdir == "noarch":
            index["noarch"] = noarch
        paths = [
            {
                "_path": relative,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
                **(
                    {"file_mode": "text", "prefix_placeholder": PREFIX_PLACEHOLDER}
                    if relative == placeholder_path
                    else {}
                ),
                **(
                    {
                        "file_mode": declared[relative].mode,
                        "prefix_placeholder": declared[relative].placeholder,
                    }
                    if relative in declared
                    else {}
                ),
            }
            for relative, data in sorted(payload.items())
        ]
        info = {
            "info/index.json": _json_bytes(index),
            "info/paths.json": _json_bytes({"paths": paths, "paths_version": 1}),
            "info/files": "".join(f"{relative}\n" for relative in sorted(payload)).encode(),
        }
        if placeholder_path is not None:
            info["info/has_prefix"] = f"{PREFIX_PLACEHOLDER} text {placeholder_path}\n".encode()
        if declared:
            info["info/has_prefix"] = (
                info.get("info/has_prefix", b"")
                + "".join(
                    f"{f.placeholder} {f.mode} {relative}\n"
                    for relative, f in sorted(declared.items())
                ).encode()
            )

        stem = f"{name}-{version}-{build}"
        directory = self.root / subdir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{stem}.{fmt}"
        if fmt == "tar.bz2":
            data = _tar({**info, **payload}, "w:bz2")
        else:
            data = _conda(stem, info, payload)
        path.write_bytes(data)
        return path

    def index(self) -> None:
        """(Re)write ``repodata.json`` for every subdir with ``rattler.index.index_fs``.

        An empty ``noarch`` and the running platform's subdir are created first,
        so a solve for this platform always finds both.
        """
        import rattler
        from rattler.config import Config
        from rattler.index import index_fs

        for subdir in ("noarch", str(rattler.Subdir.current())):
            (self.root / subdir).mkdir(parents=True, exist_ok=True)
        asyncio.run(
            index_fs(
                self.root,
                write_zst=False,
                write_shards=False,
                force=True,
                # Default keys only: never the user's or the machine's rattler config.
                config=Config(),
            )
        )
        # The indexer leaves an empty scratch directory behind; a channel has no such thing.
        with contextlib.suppress(OSError):
            (self.root / ".tmp").rmdir()
        # The indexer stamps every record with the time it ran (`indexed_timestamp`),
        # which solvers read as the upload time. Each package is published at its
        # own `timestamp` here, so cooldown tests control the upload times, and the
        # repodata is the same on every run.
        for repodata in sorted(self.root.glob("*/repodata.json")):
            data = json.loads(repodata.read_bytes())
            for key in ("packages", "packages.conda"):
                for record in data.get(key, {}).values():
                    if "timestamp" in record:
                        record["indexed_timestamp"] = record["timestamp"]
            repodata.write_bytes(_json_bytes(data))

    def tamper(self, filename: str) -> None:
        """Flip bytes in the middle of an archive (size unchanged) so its indexed hashes fail."""
        path = self._archive(filename)
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        for offset in range(middle, min(middle + 8, len(data))):
            data[offset] ^= 0xFF
        path.write_bytes(bytes(data))

    def record(self, filename: str) -> dict[str, object]:
        """Return the ``repodata.json`` entry of an archive (after :meth:`index`)."""
        path = self._archive(filename)
        repodata_path = path.parent / "repodata.json"
        if not repodata_path.is_file():
            raise LookupError(f"{path.parent.name} is not indexed; call index() first")
        repodata = json.loads(repodata_path.read_text(encoding="utf-8"))
        section = "packages.conda" if filename.endswith(".conda") else "packages"
        entry = repodata.get(section, {}).get(filename)
        if not isinstance(entry, dict):
            raise LookupError(f"{filename} is not in {repodata_path}; call index() again")
        return dict(entry)

    def archives(self) -> list[Path]:
        """Every package archive in the channel, sorted by subdir and filename."""
        return sorted(
            path
            for path in self.root.glob("*/*")
            if path.is_file() and path.name.endswith(_ARCHIVE_SUFFIXES)
        )

    # --- URLs and serving ---

    @property
    def file_url(self) -> str:
        """The channel as a ``file://`` URL (no trailing slash)."""
        return self.root.resolve().as_uri()

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Serve ``root`` on an ephemeral port of 127.0.0.1; yield the channel's http URL.

        Every response says ``Cache-Control: no-cache`` and conditional requests
        are answered in full, so a re-indexed channel is never seen stale.
        """
        handler = partial(_Handler, channel=self)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        # A short poll interval keeps shutdown (and so every test's teardown) fast.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"test-conda-channel-{self.name}",
            daemon=True,
        )
        thread.start()
        try:
            host, port = server.server_address[:2]
            yield f"http://{host!s}:{port}/{self.name}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    # --- internals ---

    def _archive(self, filename: str) -> Path:
        if "/" in filename or not filename.endswith(_ARCHIVE_SUFFIXES):
            raise ValueError(f"not a package filename: {filename!r}")
        matches = [path for path in self.archives() if path.name == filename]
        if not matches:
            raise LookupError(f"no archive {filename!r} in {self.root}")
        if len(matches) > 1:
            raise LookupError(f"{filename!r} is in several subdirs: {matches}")
        return matches[0]

    def _local_path(self, url_path: str) -> Path | None:
        """Map a request path under ``/<name>/`` to a file under ``root`` (None = not there)."""
        parts = [part for part in unquote(urlsplit(url_path).path).split("/") if part]
        if not parts or parts[0] != self.name or any(part in (".", "..") for part in parts):
            return None
        return self.root.joinpath(*parts[1:])


class _Handler(SimpleHTTPRequestHandler):
    """Serves the channel's files read-only, quietly, without caching."""

    def __init__(self, *args: object, channel: CondaChannel, **kwargs: object) -> None:
        self.channel = channel
        super().__init__(*args, directory=str(channel.root), **kwargs)  # type: ignore[arg-type]

    def send_head(self) -> io.BufferedIOBase | None:  # type: ignore[override]
        with self.channel._lock:
            self.channel.requests.append(self.path)
        if self.channel._local_path(self.path) is None:
            self.send_error(HTTPStatus.NOT_FOUND, "not in this channel")
            return None
        # Always the current bytes: a 304 for a file rewritten within a second would be stale.
        del self.headers["If-Modified-Since"]
        del self.headers["If-None-Match"]
        return super().send_head()  # type: ignore[return-value]

    def translate_path(self, path: str) -> str:
        # send_head has already turned away every path outside the channel.
        local = self.channel._local_path(path)
        return str(local if local is not None else self.channel.root)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read ``CondaChannel.requests`` instead of stderr."""


# --- archives ------------------------------------------------------------------


def _default_files(name: str, version: str) -> dict[str, bytes]:
    return {
        f"share/{name}/{name}.txt": f"{name} {version}\n".encode(),
        f"bin/{name}": f'#!/bin/sh\necho "{name} {version}"\n'.encode(),
    }


def _check_relative(relative: str) -> None:
    parts = relative.split("/")
    if relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"package paths must be relative POSIX paths, not {relative!r}")
    if parts[0] == "info":
        raise ValueError(f"{relative!r}: info/ is the package's metadata, not its payload")


def _build_hash(
    name: str,
    version: str,
    build_number: int,
    depends: Sequence[str],
    subdir: str,
    payload: Mapping[str, bytes],
) -> str:
    """Seven hex digits that change whenever the package's content would."""
    digest = hashlib.sha256()
    header = [name, version, build_number, list(depends), subdir]
    digest.update(_json_bytes(header))
    for relative, data in sorted(payload.items()):
        digest.update(f"\0{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:7]


def _platform_arch(subdir: str) -> tuple[str | None, str | None]:
    """conda's ``platform`` and ``arch`` for a subdir: both None for noarch."""
    if subdir == "noarch":
        return None, None
    platform, sep, bits = subdir.partition("-")
    if not sep or not platform or not bits:
        raise ValueError(f"not a conda subdir: {subdir!r}")
    return platform, _ARCH_ALIASES.get(bits, bits)


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _tar(members: Mapping[str, bytes], mode: Literal["w:", "w:bz2"]) -> bytes:
    """A tar of ``members`` (metadata first, then sorted) with no owner, host or time in it."""
    buffer = io.BytesIO()
    ordered = sorted(members.items(), key=lambda item: (not item[0].startswith("info/"), item[0]))
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT) as archive:
        for arcname, data in ordered:
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mode = 0o755 if arcname.startswith("bin/") else 0o644
            info.mtime = _MEMBER_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _conda(stem: str, info: Mapping[str, bytes], payload: Mapping[str, bytes]) -> bytes:
    """A v2 ``.conda``: a stored zip of metadata.json and two zstd-compressed tars."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=19)
    members = [
        ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
        (f"pkg-{stem}.tar.zst", compressor.compress(_tar(payload, "w:"))),
        (f"info-{stem}.tar.zst", compressor.compress(_tar(info, "w:"))),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for arcname, data in members:
            entry = zipfile.ZipInfo(arcname, date_time=_ZIP_DATE_TIME)
            entry.create_system = 3
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, data)
    return buffer.getvalue()
