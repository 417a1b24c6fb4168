"""``lockdown install``: make a virtual environment match the lock exactly.

The procedure, in order; nothing in the environment changes before step 4:

1. Read the lock once (verifying its signature first when the trust policy
   requires it) and ask the target interpreter for its markers and tags.
2. Plan (pure): select exactly one artifact per applicable package with
   ``packaging.pylock``'s ``select()``; compare with what is installed.
3. Fetch every selected artifact into the content-addressed cache and check
   its size and sha256 against the lock (cached files are hashed again).
4. Apply: create the venv if needed, install the verified files with no index
   access (``name==version`` from a find-links directory of verified files,
   with ``--require-hashes``), then remove what the lock does not list.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from lockdown.artifacts import ArtifactCache, under_its_name, verify_all
from lockdown.env.python_env import InstalledDist, TargetInfo
from lockdown.errors import IntegrityError, LockdownError
from lockdown.lock.model import Artifact
from lockdown.names import DEFAULT_KEEP, normalize_name
from lockdown.tools import isolated_environ, uv_binary

if TYPE_CHECKING:
    from packaging.pylock import Package
    from packaging.utils import NormalizedName

    from lockdown.lock.pylock import LockFile

Installer = Literal["uv", "pip"]
INSTALLERS: tuple[Installer, ...] = ("uv", "pip")

Notify = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selected:
    """One package the lock wants installed, with the one artifact chosen for it."""

    name: NormalizedName
    version: str
    artifact: Artifact
    #: True when the chosen artifact is an sdist (built locally; needs --allow-build).
    is_sdist: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What an install would do."""

    selected: tuple[Selected, ...]
    add: tuple[Selected, ...] = ()
    #: (installed, wanted): a different version, or the same one from another source.
    change: tuple[tuple[InstalledDist, Selected], ...] = ()
    remove: tuple[InstalledDist, ...] = ()
    keep: tuple[InstalledDist, ...] = field(default=())
    #: name → why it is reinstalled at the same version: its files differ from
    #: its RECORD or the locked wheel (``install --level files|artifacts``).
    damaged: Mapping[str, str] = field(default_factory=dict)

    @property
    def in_sync(self) -> bool:
        """Nothing to add, change or remove."""
        return not (self.add or self.change or self.remove)

    def lines(self) -> list[str]:
        """The plan, one change a line (``+`` add, ``~`` change, ``-`` remove)."""
        out = [f"+ {s.name}=={s.version}" for s in self.add]
        for old, new in self.change:
            why = ""
            if old.version == new.version:
                why = f" (reinstall: {self.damaged.get(new.name, 'from the locked artifact')})"
            out.append(f"~ {new.name} {old.version} -> {new.version}{why}")
        out += [f"- {d.name}=={d.version}" for d in self.remove]
        return out


def select_artifacts(
    lock: LockFile,
    target: TargetInfo,
    *,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    allow_build: bool = False,
) -> tuple[Selected, ...]:
    """Exactly one artifact per applicable package, for this interpreter (pure).

    Fails closed (exit 16) when a package has no artifact for the target, or
    only an sdist without ``allow_build``, or a source that has no hash.
    """
    # packaging is imported here: the warm path (a cached selection) never needs it.
    from packaging.markers import Environment  # noqa: PLC0415
    from packaging.pylock import PylockSelectError  # noqa: PLC0415
    from packaging.tags import parse_tag  # noqa: PLC0415

    from lockdown.lock.export import checked_selection, dropped_hint  # noqa: PLC0415
    from lockdown.lock.pylock import check_origins  # noqa: PLC0415

    checked_selection(lock, extras, groups)
    # Each package's index as the lock recorded it: one of the lock's own indexes and pins.
    check_origins(lock)
    platform = (
        f"{target.environment.get('sys_platform')} {target.environment.get('platform_machine')}"
    )
    python = target.environment.get("python_full_version", "?")
    try:
        chosen = list(
            lock.pylock.select(
                environment=cast("Environment", target.environment),
                tags=[t for tag in target.tags for t in parse_tag(tag)],
                extras=[normalize_name(e) for e in extras],
                dependency_groups=None if groups is None else [normalize_name(g) for g in groups],
                prefer_sdist_predicate=None,
            )
        )
    except PylockSelectError as exc:
        raise IntegrityError(
            f"{lock.path}: cannot install for Python {python} on {platform}: {exc}",
            hint=dropped_hint(lock, target.environment)
            or "re-lock with this platform in [tool.lockdown] environments",
        ) from None
    selected = []
    for package, artifact in chosen:
        selected.append(_selected(lock, package, artifact, allow_build, platform))
    return tuple(sorted(selected, key=lambda s: s.name))


def _selected(
    lock: LockFile, package: Package, artifact: object, allow_build: bool, platform: str
) -> Selected:
    from packaging.pylock import PackageSdist, PackageWheel  # noqa: PLC0415

    name = normalize_name(package.name)
    where = f"{lock.path}: {name}"
    if not isinstance(artifact, (PackageWheel, PackageSdist)):
        raise IntegrityError(
            f"{where} is a VCS, directory or archive source; lockdown installs only "
            "index artifacts pinned by sha256"
        )
    if isinstance(artifact, PackageSdist) and not allow_build:
        raise IntegrityError(
            f"{where}: no wheel for {platform}, only an sdist",
            hint="pass --allow-build to build it, or lock a platform with wheels",
        )
    sha256 = artifact.hashes.get("sha256")
    if not sha256 or not artifact.url:
        raise IntegrityError(f"{where}: the locked artifact has no sha256 or no URL")
    filename = artifact.name or artifact.url.rsplit("/", 1)[-1]
    if package.version is None:
        raise IntegrityError(f"{where}: the lock pins no version")
    return Selected(
        name=name,
        version=str(package.version),
        artifact=Artifact(
            url=artifact.url, filename=filename, sha256=sha256, size=artifact.size, upload_time=None
        ),
        is_sdist=isinstance(artifact, PackageSdist),
    )


def plan(
    selected: Sequence[Selected],
    installed: Sequence[InstalledDist],
    *,
    keep: Collection[str] = DEFAULT_KEEP,
    damaged: Mapping[str, str] | None = None,
) -> Plan:
    """Compare what the lock wants with what is installed (pure).

    ``damaged`` names installed packages whose files drifted (and why); those
    at the locked version are reinstalled from the locked artifact.
    """
    damaged = damaged or {}
    wanted = {s.name: s for s in selected}
    have = {d.name: d for d in installed}
    keep_names = {normalize_name(k) for k in keep}
    add = tuple(s for n, s in wanted.items() if n not in have)
    change = tuple(
        (have[n], s)
        for n, s in wanted.items()
        if n in have
        and (have[n].version != s.version or have[n].direct_url is not None or n in damaged)
    )
    remove = tuple(d for n, d in have.items() if n not in wanted and n not in keep_names)
    kept = tuple(d for n, d in have.items() if n not in wanted and n in keep_names)
    return Plan(
        selected=tuple(selected),
        add=add,
        change=change,
        remove=remove,
        keep=kept,
        damaged={n: why for n, why in damaged.items() if n in wanted},
    )


def fetch(
    plan_: Plan,
    cache: ArtifactCache,
    *,
    source: str,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Download and verify every artifact the plan installs; sha256 → verified path.

    ``source`` is who declared them (the lock's path), for messages.

    All of them, before anything is installed: one bad artifact and the
    environment is not touched.
    """
    needed = [s.artifact for s in plan_.add] + [s.artifact for _old, s in plan_.change]
    return verify_all(cache, needed, source=source, progress=progress, rehash=True)


def create_venv(venv: Path, python: str) -> None:
    """Create an empty venv at ``venv`` for interpreter ``python`` (no pip inside)."""
    env, _dropped = isolated_environ()
    proc = subprocess.run(
        [
            uv_binary(),
            "--no-config",
            "venv",
            "--quiet",
            "--no-python-downloads",
            "--python",
            python,
            str(venv),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise LockdownError(f"cannot create venv {venv}: {last}")


def apply(
    plan_: Plan,
    files: dict[str, Path],
    python: Path,
    *,
    installer: Installer = "uv",
) -> None:
    """Install the verified files and remove what the lock does not list."""
    env, _dropped = isolated_environ()
    to_install = [*plan_.add, *(s for _old, s in plan_.change)]
    if to_install:
        with tempfile.TemporaryDirectory(prefix="lockdown-install-") as tmp:
            # Each verified file under its own name in a directory named by its
            # digest: stable paths (the installer's cache stays valid) that
            # cannot hold anything but the verified bytes.
            link_dirs = []
            lines = []
            for item in to_install:
                link = under_its_name(files[item.artifact.sha256], item.artifact)
                link_dirs.append(link.parent)
                lines.append(f"{item.name}=={item.version} --hash=sha256:{item.artifact.sha256}")
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
            reinstall = [s.name for old, s in plan_.change if old.version == s.version]
            _run(
                _install_cmd(installer, python, link_dirs, requirements, reinstall), env, "install"
            )
    if plan_.remove:
        names = [d.name for d in plan_.remove]
        _run(_uninstall_cmd(installer, python, names), env, "uninstall")


def _install_cmd(
    installer: Installer,
    python: Path,
    links: Sequence[Path],
    requirements: Path,
    reinstall: Sequence[str],
) -> list[str]:
    common = [
        "--no-deps",
        "--no-index",
        *(arg for link in links for arg in ("--find-links", str(link))),
        "--require-hashes",
        "-r",
        str(requirements),
    ]
    if installer == "uv":
        cmd = [
            uv_binary(),
            "--no-config",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            *common,
        ]
        for name in reinstall:
            cmd += ["--reinstall-package", name]
        return cmd
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--quiet",
        "--no-cache-dir",
        "--disable-pip-version-check",
        *common,
    ]
    if reinstall:
        cmd += ["--force-reinstall"]
    return cmd


def _uninstall_cmd(installer: Installer, python: Path, names: Sequence[str]) -> list[str]:
    if installer == "uv":
        return [
            uv_binary(),
            "--no-config",
            "pip",
            "uninstall",
            "--quiet",
            "--python",
            str(python),
            *names,
        ]
    return [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "uninstall",
        "--yes",
        "--quiet",
        *names,
    ]


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        raise LockdownError(
            f"{cmd[0].rsplit('/', 1)[-1]} {what} failed: {' '.join(lines[-3:]) or 'no message'}",
            hint="the artifacts were verified; see the installer's message",
        )
