"""A conda prefix made exactly as locked (``install --prefix``, run by
:func:`lockdown.commands.install.install_conda`).

Nothing in the prefix changes before step 4, and steps 2 to 5 hold the
prefix's run lock (one lockdown run per prefix at a time):

1. Read the lock once; select this platform's packages.
2. Plan: compare with ``conda-meta`` (add, change, remove).
3. Fetch every archive into the content-addressed cache and check its sha256
   (and md5) against the lock — rattler does not check archives that come from
   ``file://`` channels, and a mirror can serve anything.
4. Install with ``rattler.install`` from the verified files themselves (their
   ``file://`` URLs in the cache), unpacked into a fresh package cache, so no
   earlier extraction is trusted either; what the lock does not list is removed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockdown.artifacts import ArtifactCache, ensure_cache_dir, under_its_name, verify_all
from lockdown.env.conda_meta import CondaRecord, read_prefix
from lockdown.errors import IntegrityError, LockdownError
from lockdown.fsutil import default_cache_dir
from lockdown.lock.condalock import CondaLock
from lockdown.lock.model import LockedPackage
from lockdown.progress import Status, counted


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaPlan:
    """What an install would do."""

    add: tuple[LockedPackage, ...]
    change: tuple[tuple[CondaRecord, LockedPackage], ...]
    remove: tuple[CondaRecord, ...]
    selected: tuple[LockedPackage, ...]
    #: ``pip:`` wheels to install with the prefix's Python (missing or another version).
    pip: tuple[LockedPackage, ...] = ()

    @property
    def in_sync(self) -> bool:
        """Nothing to add, change or remove."""
        return not (self.add or self.change or self.remove or self.pip)

    def lines(self) -> list[str]:
        """One change a line (``+`` add, ``~`` change, ``-`` remove)."""
        out = [f"+ {p.name} {p.version} ({p.conda.build})" for p in self.add]
        out += [
            f"~ {new.name} {old.version} ({old.build}) -> {new.version} ({new.conda.build})"
            for old, new in self.change
        ]
        out += [f"- {r.name} {r.version} ({r.build})" for r in self.remove]
        out += [f"+ pip {p.name}=={p.version}" for p in self.pip]
        return out


def plan_conda(selected: Sequence[LockedPackage], installed: Sequence[CondaRecord]) -> CondaPlan:
    """Compare what the lock wants with what the prefix holds (pure)."""
    have = {r.name: r for r in installed}
    wanted = {p.name: p for p in selected}
    add = tuple(p for n, p in sorted(wanted.items()) if n not in have)
    change = tuple(
        (have[n], p)
        for n, p in sorted(wanted.items())
        if n in have
        and (
            (have[n].version, have[n].build) != (p.version, p.conda.build)
            or (have[n].sha256 and have[n].sha256 != p.file.sha256)
        )
    )
    remove = tuple(r for n, r in sorted(have.items()) if n not in wanted)
    return CondaPlan(add=add, change=change, remove=remove, selected=tuple(selected))


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaInstallOutcome:
    """What ``install --prefix`` did (or would do)."""

    plan: CondaPlan
    prefix: Path
    created: bool
    dry_run: bool


def install_locked(
    lock_path: Path,
    prefix: Path,
    *,
    lock: CondaLock,
    here: str,
    selected: list[LockedPackage],
    dry_run: bool,
    cache_dir: Path | None,
    status: Callable[[str], Status],
) -> CondaInstallOutcome:
    """Steps 2 to 5, under the prefix's run lock."""
    # 2. The plan.
    exists = (prefix / "conda-meta").is_dir()
    if prefix.exists() and not exists and any(prefix.iterdir()):
        raise LockdownError(
            f"{prefix} exists but is not a conda environment (no conda-meta)",
            hint="pass an empty or missing directory, or a conda prefix",
        )
    installed = read_prefix(prefix) if exists else []
    pip_selected = lock.for_platform(here, "pip")
    the_plan = plan_conda(selected, installed)
    if pip_selected:
        the_plan = dataclasses.replace(
            the_plan, pip=tuple(_pip_todo(pip_selected, selected, prefix, here))
        )
    if dry_run or the_plan.in_sync:
        return CondaInstallOutcome(plan=the_plan, prefix=prefix, created=False, dry_run=dry_run)
    # 3. Every archive fetched and verified before anything changes.
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    what = "downloading and verifying conda archives"
    with status(what) as shown:
        files = verify_all(
            cache,
            [p.file for p in (*selected, *the_plan.pip)],
            source=str(lock_path),
            rehash=True,
            progress=counted(shown, what),
        )
        for package in selected:
            _check_md5(package, files[package.file.sha256], lock_path)
    # 4. Install from the verified files, into a fresh package cache.
    records = [_record(p, files[p.file.sha256]) for p in selected]
    import rattler  # noqa: PLC0415

    prefix_records = [rattler.PrefixRecord.from_path(r.meta_path) for r in installed]
    with (
        status(f"installing {len(selected)} conda packages"),
        tempfile.TemporaryDirectory(prefix="lockdown-conda-pkgs-") as unpack,
    ):
        try:
            asyncio.run(
                rattler.install(
                    records,
                    target_prefix=prefix,
                    cache_dir=Path(unpack),
                    installed_packages=prefix_records,
                    platform=rattler.Subdir(here),
                    execute_link_scripts=False,
                    show_progress=False,
                )
            )
        except Exception as exc:  # rattler's errors share no base class
            first = str(exc).strip().splitlines()
            raise LockdownError(
                f"rattler could not install into {prefix}: {first[0] if first else exc!r}",
                hint="the archives were verified; see the message",
            ) from None
    # 5. The pip: wheels, verified above, with the prefix's own Python.
    if the_plan.pip:
        with status(f"installing {len(the_plan.pip)} pip packages"):
            _install_pip(the_plan.pip, files, prefix, here, selected)
    return CondaInstallOutcome(plan=the_plan, prefix=prefix, created=not exists, dry_run=False)


def _pip_todo(
    wheels: Sequence[LockedPackage], conda: Sequence[LockedPackage], prefix: Path, platform: str
) -> list[LockedPackage]:
    """The ``pip:`` wheels the prefix does not hold at the locked version (from an index)."""
    from lockdown.env.conda_python import python_of, site_packages  # noqa: PLC0415
    from lockdown.env.python_env import InstalledDist, installed_distributions  # noqa: PLC0415

    site = site_packages(prefix, platform, python_of(conda))
    have: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
    return [
        w
        for w in wheels
        if w.name not in have or have[w.name].version != w.version or have[w.name].direct_url
    ]


def _install_pip(
    wheels: Sequence[LockedPackage],
    files: dict[str, Path],
    prefix: Path,
    platform: str,
    conda: Sequence[LockedPackage],
) -> None:
    """Install ``wheels`` (verified: ``files``) with the prefix's own Python.

    Planned as a venv install is (:func:`lockdown.env.install.plan`) against
    the prefix's distributions of those names only (the others are conda's),
    so one installed at the locked version from another source (a direct URL)
    is reinstalled from the locked wheel, not skipped by the installer.
    """
    from lockdown.env.conda_python import interpreter, python_of, site_packages  # noqa: PLC0415
    from lockdown.env.install import Selected, apply, plan  # noqa: PLC0415
    from lockdown.env.python_env import installed_distributions  # noqa: PLC0415
    from lockdown.names import normalize_name  # noqa: PLC0415

    python = interpreter(prefix, platform)
    if not python.exists():
        raise LockdownError(
            f"the pip: packages need a Python in {prefix} (no {python})",
            hint="add python to the conda dependencies",
        )
    chosen = tuple(
        Selected(name=normalize_name(w.name), version=w.version, artifact=w.file) for w in wheels
    )
    names = {s.name for s in chosen}
    site = site_packages(prefix, platform, python_of(conda))
    installed = [d for d in installed_distributions([site]) if d.name in names]
    apply(plan(chosen, installed, keep=()), files, python, installer="uv")


def _check_md5(package: LockedPackage, path: Path, lock_path: Path) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != package.conda.md5:
        raise IntegrityError(
            f"{package.file.filename}: md5 {digest.hexdigest()} does not match "
            f"{package.conda.md5} in {lock_path}",
            hint="the archive's sha256 matched but its md5 did not: re-lock from a channel "
            "you trust",
        )


def _record(package: LockedPackage, archive: Path) -> Any:
    """A rattler RepoDataRecord for the verified archive (its own metadata, the lock's hashes)."""
    import rattler  # noqa: PLC0415

    # The verified file itself, under its real file name (in a directory named
    # by its digest, so no other archive can ever take the name), is what rattler
    # reads: the name tells it the archive format.
    build, file = package.conda, package.file
    link = under_its_name(archive, file)
    index = rattler.IndexJson.from_package_archive(link)
    record = rattler.PackageRecord(
        name=index.name,
        version=str(index.version),
        build=index.build,
        build_number=index.build_number,
        subdir=index.subdir or build.platform,
        arch=index.arch,
        platform=index.platform,
        noarch=index.noarch,
        depends=list(index.depends),
        constrains=list(index.constrains),
        sha256=bytes.fromhex(file.sha256),
        md5=bytes.fromhex(build.md5),
        size=archive.stat().st_size,
        license=index.license,
    )
    if (str(record.name.normalized), str(record.version), str(record.build)) != (
        package.name,
        package.version,
        build.build,
    ):
        raise IntegrityError(
            f"{file.filename}: the archive says it is {record.name.normalized} "
            f"{record.version} ({record.build}), the lock says {package.name} {package.version} "
            f"({build.build})"
        )
    return rattler.RepoDataRecord(
        package_record=record,
        file_name=file.filename,
        url=link.as_uri(),
        channel=package.index or "",
    )
