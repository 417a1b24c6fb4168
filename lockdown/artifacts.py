"""A content-addressed artifact cache: files stored by their verified sha256.

Verified bytes are the used bytes. A file enters the cache only after its
whole content was streamed through sha256 (and its size checked) and matched
what the index or lock declared; it is stored under that digest. ``lock``
uses the cache to check that every artifact the index lists really has the
hash the index declares; ``install`` reuses the same files (re-hashing them
before use).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lockdown.errors import IntegrityError, LockdownError, UsageError
from lockdown.fsutil import ENV_CACHE_DIR, file_sha256, is_sha256, link_or_copy

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.net import Transport


class Declared(Protocol):
    """What the cache reads of an artifact: where it is and what its bytes must hash to.

    :class:`lockdown.lock.model.Artifact` has these fields (the ground cannot
    import it); who declared the artifact is passed beside it, for messages.
    """

    @property
    def url(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int | None: ...


#: Who declared an artifact, for messages (e.g. "the package index" or the lock
#: path): one for all of them, or one per artifact.
DeclaredBy = str | Callable[[Declared], str]


#: The most bytes one artifact of undeclared size may have (the largest wheels
#: and conda archives published are a few GiB).
MAX_ARTIFACT_BYTES = 16 << 30


class ArtifactCache:
    """Files under ``root/sha256/<2 hex>/<64 hex>``, each one verified on the way in."""

    def __init__(self, root: Path, *, http: HttpSettings | None = None) -> None:
        """``http``: the retry and timeout settings (default: the environment's)."""
        self.root = root
        self.http = http
        self._transport: Transport | None = None
        self._lock = threading.Lock()

    def transport(self) -> Transport:
        """The one HTTP transport this cache downloads with (made on first use)."""
        with self._lock:
            if self._transport is None:
                # Imported here: a warm cache never needs the HTTP machinery.
                from lockdown.net import Transport  # noqa: PLC0415

                self._transport = Transport(self.http)
            return self._transport

    def path_for(self, sha256: str) -> Path:
        """Where the file with this digest lives (it may not exist yet).

        Only a real digest names a path: anything else (``"../../x"`` from a
        hostile lock) is refused before it can reach the file system.
        """
        if not is_sha256(sha256):
            raise IntegrityError(
                f"{sha256[:80]!r} is not a sha256 digest (64 lowercase hex digits)",
                hint="the lock is corrupt or tampered with",
            )
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether a verified file with this digest is already stored."""
        return self.path_for(sha256).is_file()

    def fetch(self, expected: Declared, *, source: str, rehash: bool = False) -> Path:
        """Download ``expected`` into the cache, verifying size and sha256 while streaming.

        ``source`` is who declared it (named in the messages).

        A mismatch raises :class:`IntegrityError` naming the file, the declared
        and the actual digest; nothing is stored. With ``rehash``, a file
        already in the cache is hashed again before it is trusted (a cache on
        disk can be altered); one that no longer matches is discarded and
        downloaded afresh.
        """
        target = self.path_for(expected.sha256)
        if target.is_file():
            if not rehash or file_sha256(target) == expected.sha256:
                return target
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=target.parent)
        tmp = Path(tmp_name)
        # Stop a body that runs past what the lock declares (or, with no size
        # declared, past any plausible artifact) before it fills the disk.
        limit = expected.size if expected.size is not None else MAX_ARTIFACT_BYTES

        def too_large(limit: int) -> IntegrityError:
            return IntegrityError(
                f"{expected.filename}: the server sent more than "
                + (
                    f"the {limit} bytes {source} declares"
                    if expected.size is not None
                    else f"{limit} bytes, more than any artifact lockdown takes"
                )
                + "; stopped",
                hint="the index, a mirror or a proxy is corrupt or hostile",
            )

        try:
            with os.fdopen(fd, "wb") as out:
                # The transport empties the file before every try: it holds one response's body.
                actual, size = self.transport().download(
                    expected.url, out, limit=limit, too_large=too_large
                )
                out.flush()
                os.fsync(out.fileno())
            if actual != expected.sha256:
                raise IntegrityError(
                    f"{expected.filename}: {source} declares sha256 {expected.sha256} "
                    f"but the file served has sha256 {actual}",
                    hint="the index, a mirror or a proxy is corrupt or tampered with",
                )
            if expected.size is not None and size != expected.size:
                raise IntegrityError(
                    f"{expected.filename}: {source} declares {expected.size} bytes "
                    f"but {size} were served"
                )
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return target


def verify_all(
    cache: ArtifactCache,
    artifacts: Iterable[Declared],
    *,
    source: DeclaredBy,
    workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
    rehash: bool = False,
) -> dict[str, Path]:
    """Fetch every artifact not already in the cache and verify it; fail on the first mismatch.

    Already-cached digests are not downloaded again: they were verified when
    they were stored (and, with ``rehash``, are hashed again now). ``source``
    is who declared them: one name for all, or a function naming each one's.
    Returns sha256 → path of the verified file in the cache.
    """
    wanted = {a.sha256: a for a in artifacts}
    todo = wanted if rehash else {k: a for k, a in wanted.items() if not cache.has(k)}
    paths = {k: cache.path_for(k) for k in wanted}
    if not todo:
        return paths
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when downloading

    done = 0
    errors: list[LockdownError] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                cache.fetch,
                a,
                source=source if isinstance(source, str) else source(a),
                rehash=rehash,
            )
            for a in todo.values()
        ]
        for future in futures:
            try:
                future.result()
            except LockdownError as exc:
                errors.append(exc)
            done += 1
            if progress is not None:
                progress(done, len(todo))
    if errors:
        # Integrity failures matter more than transient download errors.
        errors.sort(key=lambda e: not isinstance(e, IntegrityError))
        raise errors[0]
    return paths


def under_its_name(verified: Path, artifact: Declared) -> Path:
    """A verified file (a path :func:`verify_all` returned) linked under its own file name
    in a directory of the cache named by its digest: ``root/links/<sha256>/<filename>``.

    Installers read the format (and a wheel's tags) from the name; the path is
    stable across runs and the directory cannot hold anything but the verified bytes.
    """
    link = verified.parent.parent.parent / "links" / artifact.sha256 / artifact.filename
    link_or_copy(verified, link)
    return link


def ensure_cache_dir(path: Path) -> Path:
    """Create the cache directory, turning failure into a one-line usage error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create cache directory {path}: {exc.strerror}",
            hint=f"set {ENV_CACHE_DIR} or pass --cache-dir",
        ) from None
    return path
