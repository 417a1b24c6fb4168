"""Time PEP 740 provenance verification: per file (cold, cached) and inside a ~100-file lock.

Everything verifies the real provenance object in ``../shared/fixtures/attestations/``
(``gcb_attestation_test-0.0.0.tar.gz``, Google Trusted Publisher), offline
against the trusted root embedded in sigstore. Rows:

* ``pypi-attestations (reference)``: the library alone, as a user of it would
  call it: parse the provenance object, ``Attestation.verify`` every
  attestation against the bundle's publisher and the file's name and digest.
* ``lockdown verify_provenance, cold``: lockdown's step with an empty cache
  (the library call, plus lockdown's publisher extraction and cache write).
* ``lockdown verify_provenance, cached``: the same bytes again, answered from
  the cache by (file sha256, provenance sha256) without importing sigstore.

The per-file numbers are in-process medians after one untimed warm-up that
pays the one-time import of pypi-attestations and sigstore (printed apart).

The lock rows run the real ``lock`` pipeline (``lock_project``) on a project
pinning N attested files, each served with its own copy of the real
provenance (bytes made unique by whitespace, so no cache or de-duplication
can skip a verification) from N static PEP 503 indexes that ``http.server``
serves on 127.0.0.1 from another process: the one real attested file name can
only appear once per index, so the lock pins it once per index (N entries
told apart by markers). The resolver is replaced by one that pins those files
with a declared size (their bytes are not in the fixtures; the digest is), so
lock downloads nothing and the rows time what provenance adds: N page reads,
N provenance fetches, N verifications.

* ``lock, provenance off``: the same lock with ``provenance = "off"``;
* ``lock, cold``: a first lock with an empty provenance cache;
* ``lock, cached``: a first lock again (lock file removed), cache warm;
* ``re-lock, nothing changed``: the lock present and unchanged.

Targets: <= 20 ms per file cold (on 2 cores) and <= 0.1 s extra for a
re-lock with nothing changed (re-lock with provenance on, minus off).

Usage: ``.venv/bin/python benchmarks/provenance.py [--runs N] [--files N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # tests.support: the local index and the fixtures' facts

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

from lockdown.commands.lock import lock_project  # noqa: E402
from lockdown.lock.model import Artifact, LockedPackage, Resolution  # noqa: E402
from lockdown.resolve.interface import ResolveRequest  # noqa: E402
from tests.support.attestations import (  # noqa: E402
    GCB_FILE,
    GCB_PROJECT,
    GCB_SHA256,
    NOW,
    gcb_provenance,
)

COLD_TARGET = 0.020
RELOCK_TARGET = 0.1


def median_of(
    runs: int, work: Callable[[], object], prepare: Callable[[], None] | None = None
) -> list[float]:
    times = []
    for _ in range(runs):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def print_rows(rows: dict[str, list[float]], reference: str, *, milliseconds: bool) -> None:
    """Median, min and max of each row, and its median as a ratio of ``reference``'s."""
    scale, unit = (1000, "ms") if milliseconds else (1, "s")
    base = statistics.median(rows[reference])
    print(f"{'row':<44} {'median':>9} {'min':>9} {'max':>9}  ratio to {reference}")
    for name, times in rows.items():
        values = [t * scale for t in (statistics.median(times), min(times), max(times))]
        cells = " ".join(f"{v:>7.2f}{unit:<2}" for v in values)
        print(f"{name:<44} {cells}  {statistics.median(times) / base:.2f}x")


def reference_verify(document: bytes) -> None:
    # Imported here: the first call's time is the one-time import, reported apart.
    from pypi_attestations import Distribution, Provenance  # noqa: PLC0415

    provenance = Provenance.model_validate_json(document)
    dist = Distribution(name=GCB_FILE, digest=GCB_SHA256)
    for bundle in provenance.attestation_bundles:
        for attestation in bundle.attestations:
            attestation.verify(bundle.publisher, dist, offline=True)


class ManyIndexes:
    """Pins the GCB file once from each of the given indexes."""

    name = "uv"
    refuses_yanked_dependencies = True

    def __init__(self, indexes: list[str]) -> None:
        self.indexes = indexes

    def version(self) -> str:
        return "pinned"

    def resolve(self, request: ResolveRequest) -> Resolution:
        packages = tuple(
            LockedPackage(
                name=GCB_PROJECT,
                version="0.0.0",
                marker=f"python_full_version == '3.10.{number}'",
                index=index,
                wheels=(),
                sdist=Artifact(
                    url=index + f"../files/{GCB_FILE}",
                    filename=GCB_FILE,
                    sha256=GCB_SHA256,
                    size=0,  # declared, so lock pins it without downloading (no bytes here)
                    upload_time=None,
                ),
            )
            for number, index in enumerate(self.indexes)
        )
        return Resolution(
            packages=packages,
            environments=request.environments,
            resolver="pinned",
            resolver_version="1",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    document = gcb_provenance()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-provenance-") as tmp:
        scratch = Path(tmp)
        from lockdown.sign.provenance import (  # noqa: PLC0415 - after the import timing
            ProvenanceCache,
            verify_provenance,
        )

        # One-time cost: importing pypi-attestations and sigstore, loading the root.
        start = time.perf_counter()
        reference_verify(document)
        first = time.perf_counter() - start
        rows["pypi-attestations (reference)"] = median_of(
            args.runs * 5, lambda: reference_verify(document)
        )
        counter = iter(range(10**6))
        caches: list[ProvenanceCache] = []

        def fresh() -> None:
            caches.append(ProvenanceCache(scratch / f"cold-{next(counter)}"))

        rows["lockdown verify_provenance, cold"] = median_of(
            args.runs * 5,
            lambda: verify_provenance(GCB_FILE, GCB_SHA256, document, cache=caches[-1]),
            prepare=fresh,
        )
        warm = ProvenanceCache(scratch / "warm")
        verify_provenance(GCB_FILE, GCB_SHA256, document, cache=warm)
        rows["lockdown verify_provenance, cached"] = median_of(
            args.runs * 5, lambda: verify_provenance(GCB_FILE, GCB_SHA256, document, cache=warm)
        )
        lock_rows = lock_benchmark(scratch, args.files, args.runs, document)
    print(f"one-time import of pypi-attestations + sigstore and first verify: {first:.3f}s")
    print_rows(rows, "pypi-attestations (reference)", milliseconds=True)
    print(f"\nlock of {args.files} attested files (each from its own local index):")
    off = statistics.median(lock_rows["lock, provenance off"])
    print_rows(lock_rows, "lock, provenance off", milliseconds=False)
    cold_per_file = statistics.median(rows["lockdown verify_provenance, cold"])
    relock = statistics.median(lock_rows["re-lock, nothing changed"])
    relock_off = statistics.median(lock_rows["re-lock, provenance off"])
    lock_per_file = (statistics.median(lock_rows["lock, cold"]) - off) / args.files
    print(
        f"\ncold verification per file: {cold_per_file * 1000:.2f} ms "
        f"(target <= {COLD_TARGET * 1000:.0f} ms): "
        f"{'OK' if cold_per_file <= COLD_TARGET else 'MISSED'}"
    )
    print(
        f"cold lock, provenance's share per file (fetches included): {lock_per_file * 1000:.2f} ms"
    )
    print(
        f"re-lock with nothing changed, extra over provenance off: {relock - relock_off:+.3f}s "
        f"(target <= {RELOCK_TARGET}s): "
        f"{'OK' if relock - relock_off <= RELOCK_TARGET else 'MISSED'}"
    )
    if args.json is not None:
        payload: dict[str, Any] = {
            "date": common.utc_now(),
            "host": common.host_versions(),
            "files": args.files,
            "first_verify_seconds": first,
            "rows": {k: {"times": v, "median": statistics.median(v)} for k, v in rows.items()},
            "lock_rows": {
                k: {"times": v, "median": statistics.median(v)} for k, v in lock_rows.items()
            },
        }
        common.write_json(args.json, payload)
    return 0


@contextmanager
def static_indexes(root: Path, files: int, document: bytes) -> Iterator[list[str]]:
    """N PEP 503 indexes as static HTML, served by ``http.server`` in another process.

    Index N lists the GCB file by its attested name and digest, with a
    ``data-provenance`` link to its own copy of the real provenance. Another
    process, so serving never competes with the lock for this one's GIL.
    """
    for number in range(files):
        page = root / f"i{number}" / "simple" / GCB_PROJECT / "index.html"
        page.parent.mkdir(parents=True)
        # The same provenance, other bytes: every file is its own cache miss.
        (page.parent / "provenance.json").write_bytes(document + b" " * (number + 1))
        page.write_text(
            "<!DOCTYPE html><html><body>"
            f'<a href="../../files/{GCB_FILE}#sha256={GCB_SHA256}" '
            f'data-provenance="provenance.json">{GCB_FILE}</a></body></html>',
            encoding="utf-8",
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.05)
        yield [f"{base}/i{number}/simple/" for number in range(files)]
    finally:
        server.terminate()
        server.wait(timeout=10)


def lock_benchmark(scratch: Path, files: int, runs: int, document: bytes) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    with static_indexes(scratch / "indexes", files, document) as indexes:
        resolver = ManyIndexes(indexes)
        projects = {}
        for mode in ("pin", "off"):
            project = scratch / f"project-{mode}"
            project.mkdir()
            (project / "pyproject.toml").write_text(
                "[project]\nname = 'svc'\nversion = '1'\nrequires-python = '>=3.10'\n"
                f"dependencies = ['{GCB_PROJECT}']\n\n[tool.lockdown]\n"
                f"index-url = '{indexes[0]}'\n\n[tool.lockdown.policy]\n"
                f"provenance = '{mode}'\n",
                encoding="utf-8",
            )
            projects[mode] = project
        counter = iter(range(10**6))
        cache: list[Path] = []

        def run(mode: str, *, new_cache: bool = False, remove_lock: bool = True) -> None:
            if new_cache or not cache:
                cache.append(scratch / f"cache-{next(counter)}")
            lock = projects[mode] / "pylock.toml"
            if remove_lock:
                lock.unlink(missing_ok=True)
            outcome = lock_project(
                projects[mode],
                backend=resolver,
                cache_dir=cache[-1],
                clock=lambda: NOW,
            )
            if outcome.blocked:
                raise common.ToolFailed(f"the {mode} lock was blocked: {outcome.gate.blocked[0]}")
            if mode == "pin" and (
                outcome.attestations is None or outcome.attestations.attested != files
            ):
                raise common.ToolFailed("not every file verified")

        def timed(work: Callable[[], None]) -> float:
            start = time.perf_counter()
            work()
            return time.perf_counter() - start

        run("pin")  # warm-up: imports, sockets, the OS file cache
        run("off")
        names = (
            "lock, provenance off",
            "lock, cold",
            "lock, cached",
            "re-lock, provenance off",
            "re-lock, nothing changed",
        )
        for name in names:
            rows[name] = []
        for _ in range(runs):
            rows["lock, provenance off"].append(timed(lambda: run("off")))
            rows["lock, cold"].append(timed(lambda: run("pin", new_cache=True)))
            rows["lock, cached"].append(timed(lambda: run("pin")))
            rows["re-lock, provenance off"].append(timed(lambda: run("off", remove_lock=False)))
            rows["re-lock, nothing changed"].append(timed(lambda: run("pin", remove_lock=False)))
    return rows


if __name__ == "__main__":
    sys.exit(main())
