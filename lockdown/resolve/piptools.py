"""The pip-tools backend: ``pip-compile --generate-hashes``, completed from the simple API.

pip-compile resolves for one interpreter on one platform: the one running
lockdown. The resolution's ``environments`` therefore names exactly that
interpreter (platform, machine, implementation, Python minor version); the
lock never claims more than pip-compile checked.

pip-compile's output has pins and hashes but no URLs, sizes or upload times,
so each pinned file is looked up on the index's simple API and kept only if
its sha256 is one pip-compile reported. Each selection (base, every extra,
every group) is a separate input file, so pip-compile's ``# via`` annotations
tell which selections need which package; that becomes each package's marker.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.tags import Tag, sys_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from lockdown.config import normalize_marker
from lockdown.config.http import HttpSettings, http_settings
from lockdown.errors import PackageIndexError, ResolutionError
from lockdown.lock.model import Artifact, LockedPackage, Resolution
from lockdown.net import Transport, pip_options
from lockdown.resolve.index import IndexClient, IndexFile
from lockdown.resolve.interface import ResolveRequest, isolated_environ, utc_timestamp

Notify = Callable[[str], None]

BASE_FILE = "base.in"


#: The scratch constraints file holding the previous lock's pins.
PREFERENCES_FILE = "lockdown-preferences.txt"


def current_environment_marker() -> str:
    """A marker that matches exactly the interpreter running lockdown (its platform and minor)."""
    env = default_environment()
    return normalize_marker(
        f"sys_platform == '{env['sys_platform']}' and "
        f"platform_machine == '{env['platform_machine']}' and "
        f"implementation_name == '{env['implementation_name']}' and "
        f"python_version == '{env['python_version']}'"
    )


@dataclass(slots=True)
class Pin:
    """One pinned package from pip-compile's output."""

    name: str
    version: str
    hashes: set[str] = field(default_factory=set)
    #: Direct parents: package names, or ``-r <file>`` for input files.
    via: set[str] = field(default_factory=set)


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def parse_compiled(text: str) -> dict[str, Pin]:
    """Parse pip-compile output (hashes and ``# via`` annotations) into pins by name."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match and not raw.startswith((" ", "\t")):
            current = Pin(name=canonicalize_name(match.group(1)), version=match.group(3))
            pins[current.name] = current
            in_via = False
        elif current is None:
            continue
        current.hashes.update(_HASH.findall(line))
        if line.startswith("# via"):
            rest = line[len("# via") :].strip()
            in_via = not rest
            if rest:
                current.via.add(rest)
        elif in_via and line.startswith("#"):
            entry = line.lstrip("#").strip()
            if entry:
                current.via.add(entry)
        elif not line.startswith("#"):
            in_via = False
    return pins


def selections_of(
    pins: Mapping[str, Pin], roots: Mapping[str, str | None]
) -> dict[str, set[str | None]]:
    """Which selections reach each pin, following ``# via`` edges to the input files.

    ``roots`` maps ``-r <file>`` annotations to a selection condition (``None``
    for the base file). Iterates to a fixed point, so cycles are fine.
    """
    reached: dict[str, set[str | None]] = {name: set() for name in pins}
    changed = True
    while changed:
        changed = False
        for name, pin in pins.items():
            before = len(reached[name])
            for parent in pin.via:
                if parent.startswith("-r "):
                    file_name = Path(parent[3:].strip()).name
                    if file_name in roots:
                        reached[name].add(roots[file_name])
                else:
                    reached[name] |= reached.get(canonicalize_name(parent.split("[")[0]), set())
            changed |= len(reached[name]) != before
    return reached


def dependencies_of(pins: Mapping[str, Pin]) -> dict[str, set[str]]:
    """Each pin's direct dependencies among the pins: ``# via`` read the other way round.

    pip-compile names, under each pin, the packages that required it; an
    input file (``-r``) or constraints file (``-c``) is not a package.
    """
    children: dict[str, set[str]] = {name: set() for name in pins}
    for name, pin in pins.items():
        for parent in pin.via:
            if parent.startswith(("-r ", "-c ")):
                continue
            parent_name = canonicalize_name(parent.split("[")[0].strip())
            if parent_name in children:
                children[parent_name].add(name)
    return children


class PipToolsResolver:
    """Resolve with pip-compile for the running interpreter only."""

    name = "pip-tools"
    refuses_yanked_dependencies = False

    def __init__(self, *, notify: Notify | None = None) -> None:
        self._notify = notify or (lambda _message: None)

    def version(self) -> str:
        """pip-tools' version."""
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return version("pip-tools")
        except PackageNotFoundError:
            raise ResolutionError(
                "the pip-tools resolver needs pip-tools installed next to lockdown",
                hint="pip install 'lockdown[pip-tools]' or use resolver = 'uv'",
            ) from None

    def resolve(self, request: ResolveRequest) -> Resolution:
        """pip-compile the inputs, then fill in every artifact from the index."""
        version = self.version()
        http = request.http or http_settings()
        environment = current_environment_marker()
        if request.environments and request.environments != (environment,):
            self._notify(
                "pip-tools resolves for this interpreter only; the lock covers "
                f"{environment} (use resolver = 'uv' for every configured environment)"
            )
        inputs = request.inputs
        files: dict[str, tuple[str | None, tuple[str, ...]]] = {
            BASE_FILE: (None, inputs.dependencies)
        }
        for extra, reqs in inputs.extras.items():
            files[f"extra-{extra}.in"] = (f"'{extra}' in extras", reqs)
        for group, reqs in inputs.groups.items():
            files[f"group-{group}.in"] = (f"'{group}' in dependency_groups", reqs)
        with tempfile.TemporaryDirectory(prefix="lockdown-piptools-") as tmp:
            work = Path(tmp)
            for file_name, (_cond, reqs) in files.items():
                (work / file_name).write_text("".join(f"{r}\n" for r in reqs), encoding="utf-8")
            out = work / "requirements.txt"
            options: list[str] = []
            if request.preferences:
                # The previous lock's versions, kept unless the inputs now exclude them.
                (work / PREFERENCES_FILE).write_text(
                    "".join(f"{p}\n" for p in request.preferences), encoding="utf-8"
                )
                options += ["--constraint", PREFERENCES_FILE]
            if request.exclude_newer is not None:
                if request.exclude_newer_exempt:
                    self._notify(
                        "pip-compile applies the cooldown to every package; cooldown-exempt "
                        "is honoured by the gate only (use resolver = 'uv' to resolve them "
                        "without the cooldown)"
                    )
                options += ["--uploaded-prior-to", utc_timestamp(request.exclude_newer)]
            self._compile(request, http, work, [*options, *files], out)
            pins = parse_compiled(out.read_text(encoding="utf-8"))
        reached = selections_of(pins, {f: cond for f, (cond, _r) in files.items()})
        children = dependencies_of(pins)
        transport = Transport(http)
        clients = [
            IndexClient(u, transport=transport)
            for u in (request.index_url, *request.extra_index_urls)
        ]
        tags = list(sys_tags())
        pinned = dict(request.index_pins)

        def package(item: tuple[str, Pin]) -> LockedPackage:
            name, pin = item
            return self._package(
                pin, reached[name], children[name], _pinned_first(clients, pinned.get(name)), tags
            )

        # One simple-API page per package; fetched in parallel, assembled in order.
        with ThreadPoolExecutor(max_workers=8) as pool:
            packages = tuple(pool.map(package, sorted(pins.items())))
        return Resolution(
            packages=packages,
            environments=(environment,),
            resolver=self.name,
            resolver_version=version,
        )

    def _compile(
        self, request: ResolveRequest, http: HttpSettings, work: Path, inputs: list[str], out: Path
    ) -> None:
        env, dropped = isolated_environ()
        # pip reads PIP_* variables and its config files; both are cut off here.
        ignored = [name for name in dropped if name.startswith("PIP_")]
        self._notify(
            "ignoring pip configuration files"
            + (f" and {', '.join(ignored)}" if ignored else "")
            + " for pip-compile; indexes come from [tool.lockdown] only"
        )
        cmd = [
            sys.executable,
            "-m",
            "piptools",
            "compile",
            "--generate-hashes",
            "--no-header",
            "--annotate",
            "--no-emit-index-url",
            "--no-emit-trusted-host",
            "--no-config",
            "--strip-extras",
            "--quiet",
            "--build-isolation",
            "--index-url",
            request.index_url,
            *[arg for url in request.extra_index_urls for arg in ("--extra-index-url", url)],
            # lockdown's own timeout and retries, in pip's terms.
            "--pip-args",
            " ".join(pip_options(http)),
            "--output-file",
            str(out),
            *inputs,
        ]
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise self._failure(request, proc.stderr)

    def _failure(self, request: ResolveRequest, stderr: str) -> Exception:
        if "No module named piptools" in stderr:
            return ResolutionError(
                "the pip-tools resolver needs pip-tools installed next to lockdown",
                hint="pip install 'lockdown[pip-tools]' or use resolver = 'uv'",
            )
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        if "DO NOT MATCH THE HASHES" in stderr:
            return PackageIndexError(
                f"the package index {request.index_url} served a file whose hash does not match "
                f"what it declares: {' '.join(lines[-4:])}",
                hint="the index or a proxy is corrupt or tampered with; nothing was written",
            )
        # pip reports an unreachable index as "no matching distribution"; ask the
        # index directly (once, briefly: pip has tried already) so the user hears the
        # real cause.
        probe = Transport(HttpSettings(timeout=10, retries=0))
        for url in (request.index_url, *request.extra_index_urls):
            try:
                IndexClient(url, transport=probe).project_files("pip")
            except PackageIndexError as exc:
                if "cannot reach" in str(exc):
                    return exc
        explanation = " ".join(pip_explanation(lines))
        return ResolutionError(
            f"cannot resolve dependencies with pip-compile: {explanation or 'no message'}",
            hint="relax the conflicting requirements",
        )

    def _package(
        self,
        pin: Pin,
        selections: set[str | None],
        dependencies: set[str],
        clients: list[IndexClient],
        tags: list[Tag],
    ) -> LockedPackage:
        wanted = Version(pin.version)
        supported = set(tags)
        for client in clients:
            try:
                files = client.project_files(pin.name)
            except PackageIndexError as exc:
                if "not found" in str(exc):
                    continue
                raise
            wheels: list[Artifact] = []
            sdist: Artifact | None = None
            for file in files:
                if file.sha256 is None or file.sha256 not in pin.hashes:
                    continue
                if file.filename.endswith(".whl"):
                    try:
                        _n, version, _b, file_tags = parse_wheel_filename(file.filename)
                    except InvalidWheelFilename:
                        continue
                    if version == wanted and file_tags & supported:
                        wheels.append(_artifact(file, file.sha256))
                else:
                    try:
                        _n, version = parse_sdist_filename(file.filename)
                    except InvalidSdistFilename:
                        continue
                    if version == wanted:
                        sdist = _artifact(file, file.sha256)
            if wheels or sdist is not None:
                return LockedPackage(
                    name=pin.name,
                    version=pin.version,
                    marker=_marker(selections),
                    index=client.index_url,
                    wheels=tuple(wheels),
                    sdist=sdist,
                    dependencies=tuple((d, None) for d in sorted(dependencies)),
                )
        raise PackageIndexError(
            f"pip-compile pinned {pin.name}=={pin.version} but no index lists a file for this "
            "platform with the hashes it reported",
            hint="check the index; nothing was written",
        )


def _pinned_first(clients: list[IndexClient], pin: str | None) -> list[IndexClient]:
    """The clients, the pinned index's first: pip-compile's hashes cover every index's
    files of the version, and a pinned package's files are taken from its pin when it has
    them. When it does not, pip took the version from another index, and the lock's
    origin check refuses it (pip cannot resolve one package from one index only).
    """
    if pin is None:
        return clients
    first = [c for c in clients if c.index_url == pin]
    return first + [c for c in clients if c.index_url != pin]


def pip_explanation(lines: list[str]) -> list[str]:
    """pip's own account of a failed resolution, without tracebacks or generic advice."""
    kept: list[str] = []
    started = False
    for raw in lines:
        if raw.startswith("Traceback"):
            break
        line = raw
        if raw.startswith("ERROR:"):
            started = True
            line = raw.removeprefix("ERROR:").strip()
        if not started or line.startswith(("ResolutionImpossible", "To fix", "1. ", "2. ")):
            continue
        kept.append(line)
    return kept or lines[-1:]


def _artifact(file: IndexFile, sha256: str) -> Artifact:
    return Artifact(
        url=file.url,
        filename=file.filename,
        sha256=sha256,
        size=file.size,
        upload_time=file.upload_time,
    )


def _marker(selections: set[str | None]) -> str | None:
    if None in selections or not selections:
        return None
    conditions = sorted(c for c in selections if c is not None)
    return normalize_marker(" or ".join(conditions))
