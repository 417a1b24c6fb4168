"""``lockdown check --prefix``: a conda environment against its ``conda-lock.yml``.

1. Read the lock once; its packages for this machine's platform are expected.
2. Read ``conda-meta/*.json``: what the prefix says it holds.
3. ``versions``: missing, unexpected, other version or build, other archive
   (sha256) or channel.
4. ``files``: every file a record lists against ``sha256_in_prefix`` (a file
   whose prefix placeholder was rewritten) or ``sha256``; sizes only for files
   that were not rewritten; ``.pyc`` files and directories skipped; paths
   confined to the prefix. The ``pip:`` wheels against their RECORDs. Files
   in the prefix's site-packages that no record owns are reported, startup
   hooks (``*.pth``, ``sitecustomize.py``, ``usercustomize.py``) with high
   severity, as for venvs.
5. ``artifacts``: conda-meta can be forged, and installed files are hardlinks
   into the package cache, so neither is an independent witness. Each
   installed package's locked archive is fetched into the content-addressed
   cache (sha256-checked against the lock first) and its own
   ``info/paths.json`` is the reference (``noarch: python`` paths mapped to
   the prefix's site-packages and scripts, as installers map them):

   a. every file it ships must be listed by conda-meta with the archive's
      digest, and a ``sha256_in_prefix`` the file can have in this prefix
      (else a high-severity ``record`` finding);
   b. every file conda-meta lists must be shipped by the archive (or be one
      installers create: ``.pyc`` files, entry points), else ``record``;
   c. every file must have exactly the archive's content on disk; a file with
      a prefix placeholder must have the archive's content with the prefix
      written in, rebuilt as conda and rattler write it
      (:mod:`lockdown.drift.placeholder`);
   d. the ``pip:`` wheels against the RECORDs inside the locked wheels
      (:func:`lockdown.drift.wheels.check_against_wheels`).

Only ``artifacts`` needs py-rattler (to read archives); without the
``conda`` extra it says how to get it, like every conda command.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from lockdown.drift.archives import check_against_archives, pip_against_wheels
from lockdown.drift.compare import CONDA, CONDA_PIP, compare
from lockdown.drift.conda_files import check_prefix_files, unowned_in_prefix
from lockdown.drift.model import DriftReport, FileDrift, Level
from lockdown.env.conda_meta import current_platform, read_prefix
from lockdown.env.conda_python import python_of, site_packages
from lockdown.env.python_env import InstalledDist, installed_distributions
from lockdown.lock.condalock import CondaLock, locked_for_here, read_conda_lock


def run_conda_check(
    lock_path: Path,
    prefix: Path,
    *,
    level: Level = "versions",
    platform: str | None = None,
    lock: CondaLock | None = None,
    signer: str | None = None,
    cache_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> DriftReport:
    """Check the conda environment at ``prefix`` against ``lock_path``.

    ``lock``: the lock already read (and verified, by ``signer``); else it is read here.
    """
    started, tick = clock(), time.perf_counter()
    if level == "artifacts":
        from lockdown.lock.condalock import require  # noqa: PLC0415

        require()  # archives are read with py-rattler: say so before any work
    # 1. The lock.
    lock = lock or read_conda_lock(lock_path)
    here = platform or current_platform()
    expected = locked_for_here(lock, here)
    # 2. The prefix.
    records = read_prefix(prefix)
    installed = {r.name: r for r in records}
    # 3. Packages (the pip: wheels through the prefix's dist-info).
    packages = compare(expected, records, CONDA)
    pip_wanted = lock.for_platform(here, "pip")
    pip_dists: list[InstalledDist] = []
    if pip_wanted:
        site = site_packages(prefix, here, python_of(list(expected.values())))
        have: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
        wanted = {p.name: p for p in pip_wanted}
        packages += compare(wanted, have.values(), CONDA_PIP)
        pip_dists = [have[name] for name in sorted(wanted) if name in have]
    # 4. Files: conda-meta's, the pip: wheels' RECORDs, and what nobody owns.
    files: list[FileDrift] = []
    checked = 0
    if level in ("files", "artifacts"):
        result = check_prefix_files(records, prefix)
        files, checked, owned = list(result.drift), result.checked, set(result.owned)
        if pip_dists:
            from lockdown.drift.files import check_files  # noqa: PLC0415

            pip_result = check_files(pip_dists, prefix)
            files += pip_result.drift
            checked += pip_result.checked
            owned |= pip_result.owned
        files += unowned_in_prefix(prefix, owned)
    # 5. Against the locked archives and wheels themselves.
    if level == "artifacts":
        more, more_checked = check_against_archives(
            expected, records, prefix, lock_path=lock_path, cache_dir=cache_dir, platform=here
        )
        if pip_dists:
            wheels, wheel_checked = pip_against_wheels(
                pip_wanted,
                pip_dists,
                list(expected.values()),
                prefix,
                here,
                lock_path=lock_path,
                cache_dir=cache_dir,
            )
            more += wheels
            more_checked += wheel_checked
        seen = {(f.path, f.kind) for f in files}
        files += [f for f in more if (f.path, f.kind) not in seen]
        checked += more_checked
    return DriftReport(
        lock=str(lock_path),
        lock_sha256=hashlib.sha256(lock.data).hexdigest(),
        target=str(prefix),
        python_version=f"conda {here}",
        level=level,
        expected=len(expected) + len(pip_wanted),
        installed=len(installed),
        packages=tuple(packages),
        files=tuple(sorted(files, key=lambda f: (f.path, f.kind))),
        signature="verified" if signer else "not-checked",
        signer=signer,
        checked_at=started,
        duration_seconds=time.perf_counter() - tick,
        files_checked=checked,
    )
