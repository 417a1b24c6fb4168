"""The uv backend: universal resolution with hashes, read back as PEP 751.

uv resolves one universal lock for all the configured environments at once
(``[tool.uv] environments``). lockdown writes a scratch, virtual project that
holds only the inputs, runs ``uv lock`` there with ``--no-config`` and a
scrubbed environment (a user's uv settings cannot leak in), and reads the
result through ``uv export --format pylock.toml``: once for the base
dependencies and once per extra and group, so each package gets a marker that
says exactly which extras or groups need it.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from lockdown._compat import tomllib
from lockdown.config import normalize_marker
from lockdown.config.http import http_settings
from lockdown.errors import (
    IntegrityError,
    PackageIndexError,
    ResolutionError,
    UnservableEnvironmentError,
)
from lockdown.lock.model import Artifact, LockedPackage, Resolution
from lockdown.net import uv_environ
from lockdown.resolve.interface import ResolveRequest, isolated_environ, utc_timestamp, uv_binary

#: Name of the scratch project when the real one has none.
ANONYMOUS_PROJECT = "lockdown-locked-project"

Notify = Callable[[str], None]


#: The scratch project's dependency group naming every pinned package, so that
#: uv applies its ``[tool.uv.sources]`` pin wherever the package is required (uv
#: applies sources to the project's own requirements only). Never exported.
PINS_GROUP = "lockdown-index-pins"

#: ``uv export`` arguments for every package with its artifacts (PEP 751).
EXPORT_EVERYTHING = (
    *("export", "--format", "pylock.toml", "--frozen", "--no-header"),
    *("--no-emit-project", "--all-extras", "--all-groups"),
)


def export_selection(args: Sequence[str]) -> list[str]:
    """``uv export`` arguments for the pins (and markers) one selection needs.

    ``args`` picks the selection: ``[]`` for the base, ``["--extra", X]`` or
    ``["--group", G]``.
    """
    return [
        *("export", "--format", "requirements.txt", "--frozen", "--no-header"),
        *("--no-hashes", "--no-annotate", "--no-emit-project", "--no-default-groups"),
        *args,
    ]


@cache
def _uv_version() -> str:
    """The version of the uv lockdown runs (``uv_binary`` is its ``uv`` dependency's binary).

    Read from that package's metadata, as the pip-tools backend does: no process
    to start and wait for on every lock.
    """
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("uv")
    except PackageNotFoundError:
        return "unknown"


class UvResolver:
    """Resolve with ``uv lock`` (universal) and read the result as PEP 751."""

    name = "uv"
    refuses_yanked_dependencies = True

    def __init__(self, *, notify: Notify | None = None) -> None:
        self._notify = notify or (lambda _message: None)

    def version(self) -> str:
        """uv's version, e.g. ``0.13.9``."""
        return _uv_version()

    def resolve(self, request: ResolveRequest) -> Resolution:
        """Lock ``request`` with uv and return every package with its artifacts."""
        network = uv_environ(request.http or http_settings())
        with tempfile.TemporaryDirectory(prefix="lockdown-uv-") as tmp:
            work = Path(tmp)
            (work / "pyproject.toml").write_text(scratch_pyproject(request), encoding="utf-8")
            if request.resolver_state is not None:
                # The previous run's uv.lock: uv keeps it when the scratch project
                # is unchanged (no resolution, no index traffic), else prefers it.
                (work / "uv.lock").write_bytes(request.resolver_state)
            index_args = ["--default-index", request.index_url]
            for url in request.extra_index_urls:
                index_args += ["--index", url]
            self._run(
                ["lock", *index_args, *cooldown_args(request), *interpreter_args(request)],
                cwd=work,
                network=network,
            )
            selections: list[tuple[str | None, list[str]]] = [(None, [])]
            selections += [(f"'{e}' in extras", ["--extra", e]) for e in request.inputs.extras]
            selections += [
                (f"'{g}' in dependency_groups", ["--group", g]) for g in request.inputs.groups
            ]
            # One PEP 751 export of everything (the artifacts), and one cheap
            # requirements export per selection (which packages, under which
            # marker). They only read uv.lock, so they run side by side.
            everything = list(EXPORT_EVERYTHING)
            if request.index_pins:
                everything += ["--no-group", PINS_GROUP]
            per_selection = [export_selection(args) for _condition, args in selections]
            with ThreadPoolExecutor(max_workers=min(8, 1 + len(selections))) as pool:
                outputs = list(
                    pool.map(lambda a: self._run(a, cwd=work).stdout, [everything, *per_selection])
                )
            state = (work / "uv.lock").read_bytes()
            graph = uv_lock_graph(state.decode("utf-8"))
        packages = merge_exports(
            tomllib.loads(outputs[0]),
            [
                (cond, parse_requirements_export(out))
                for (cond, _a), out in zip(selections, outputs[1:], strict=True)
            ],
        )
        return Resolution(
            packages=with_dependencies(packages, graph),
            environments=request.environments,
            resolver=self.name,
            resolver_version=_uv_version(),
            resolver_state=state,
        )

    def _run(
        self, args: Sequence[str], *, cwd: Path | None, network: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run uv isolated; ``network``: lockdown's timeout and retries in uv's variables."""
        env, dropped = isolated_environ()
        env.update(network or {})
        # uv reads UV_* variables only; PIP_* ones cannot change its answer.
        ignored = [name for name in dropped if name.startswith("UV_")]
        if ignored and args and args[0] == "lock":
            self._notify(f"ignoring {', '.join(ignored)} from the environment for uv")
        cmd = [uv_binary(), "--quiet", "--no-config", "--no-python-downloads", "--color", "never"]
        cmd += args
        try:
            proc = subprocess.run(
                cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise ResolutionError(f"cannot run uv: {exc.strerror}") from None
        if proc.returncode != 0:
            raise classify_uv_failure(proc.stderr)
        return proc


def cooldown_args(request: ResolveRequest) -> list[str]:
    """``--exclude-newer`` for the cooldown, and the exempt packages limited to "now" instead."""
    if request.exclude_newer is None:
        return []
    args = ["--exclude-newer", utc_timestamp(request.exclude_newer)]
    now = request.now or request.exclude_newer
    for name in request.exclude_newer_exempt:
        args += ["--exclude-newer-package", f"{name}={utc_timestamp(now)}"]
    return args


def interpreter_args(request: ResolveRequest) -> list[str]:
    """Hand uv lockdown's own interpreter when it satisfies requires-python.

    The universal lock does not depend on which interpreter uv runs with (it is
    used only to build sdists that publish no metadata), and naming one spares
    uv its search of PATH, which costs ~0.2 s and more behind version shims.
    """
    required = request.inputs.requires_python
    if required is None or SpecifierSet(required).contains(
        platform.python_version(), prereleases=True
    ):
        return ["--python", sys.executable]
    return []


def scratch_pyproject(request: ResolveRequest) -> str:
    """The virtual project uv locks: the inputs, the environments, nothing else.

    Written with tomli-w (plain data, nobody edits it): tomlkit's import alone
    (~0.05 s) would delay the start of ``uv lock``.
    """
    import tomli_w  # noqa: PLC0415

    inputs = request.inputs
    project: dict[str, Any] = {"name": inputs.name or ANONYMOUS_PROJECT, "version": "0"}
    if inputs.requires_python:
        project["requires-python"] = inputs.requires_python
    project["dependencies"] = list(inputs.dependencies)
    if inputs.extras:
        project["optional-dependencies"] = {
            name: list(reqs) for name, reqs in sorted(inputs.extras.items())
        }
    doc: dict[str, Any] = {"project": project}
    if PINS_GROUP in inputs.groups:
        raise ResolutionError(
            f"the dependency group name {PINS_GROUP!r} is reserved by lockdown",
            hint="rename the group",
        )
    if inputs.groups or request.index_pins:
        groups: dict[str, list[str]] = {
            name: list(reqs) for name, reqs in sorted(inputs.groups.items())
        }
        if request.index_pins:
            groups[PINS_GROUP] = [name for name, _url in request.index_pins]
        doc["dependency-groups"] = groups
    uv: dict[str, Any] = {"package": False, "environments": uv_environments(request)}
    if request.preferences:
        # The previous lock's versions, kept unless the inputs now exclude them.
        uv["constraint-dependencies"] = list(request.preferences)
    if request.index_pins:
        _pin_indexes(uv, request.index_pins)
    doc["tool"] = {"uv": uv}
    return tomli_w.dumps(doc)


def _pin_indexes(uv: dict[str, Any], pins: Sequence[tuple[str, str]]) -> None:
    """Named, explicit indexes and ``[tool.uv.sources]``: each pinned name from its index only.

    The indexes the lock searches are still given on the command line; these
    entries only name them, so that sources can refer to them (uv reads source
    indexes from the project, even with ``--no-config``).
    """
    names: dict[str, str] = {}
    for _package, url in pins:
        names.setdefault(url, f"lockdown-{len(names)}")
    uv["index"] = [{"name": name, "url": url, "explicit": True} for url, name in names.items()]
    uv["sources"] = {package: {"index": names[url]} for package, url in pins}


def uv_environments(request: ResolveRequest) -> list[str]:
    """``[tool.uv] environments`` for the request.

    uv insists that a package without an sdist has a wheel for every listed
    environment. Listed ones must be served, so they go to uv as they are;
    candidates go as one marker (their union), so uv locks what the platforms
    have in common and lockdown then keeps the candidates the result serves.
    """
    if request.environments_are_candidates and len(request.environments) > 1:
        return [normalize_marker(" or ".join(f"({e})" for e in request.environments))]
    return list(request.environments)


_HASH_MISMATCH = re.compile(r"[Hh]ash mismatch for `([^`]+)`")
#: uv's words for "this package has files for none of the platforms of this environment".
_NO_WHEELS = re.compile(r"Because (\S+) has no `([^`]+)`-compatible wheels")
_NETWORK = re.compile(
    r"(Failed to fetch|error sending request|Connection refused|dns error|timed out|"
    r"Could not connect|tcp connect error|client error \(Connect\))"
)


def classify_uv_failure(stderr: str) -> ResolutionError | PackageIndexError | IntegrityError:
    """Turn uv's stderr into one lockdown error with uv's own explanation."""
    # uv draws its error chain with box-drawing characters; keep only the words.
    lines = [
        ln.strip(" \u2502\u2570\u2500\u25b6\u00d7\u256d").strip() for ln in stderr.splitlines()
    ]
    lines = [ln for ln in lines if ln and not ln.startswith("hint:")]
    text = " ".join(lines)
    text = re.sub(r"^(error: )", "", text)
    if match := _HASH_MISMATCH.search(stderr):
        return PackageIndexError(
            f"the package index served {match.group(1)} with a hash that does not match "
            f"the file: {text}",
            hint="the index or a proxy is corrupt or tampered with; nothing was written",
        )
    if "No solution found" in stderr or "unsatisfiable" in stderr:
        if match := _NO_WHEELS.search(text):
            return UnservableEnvironmentError(
                f"cannot resolve dependencies: {_shorten(text)}",
                package=canonicalize_name(re.split(r"[<>=!~ ]", match.group(1), maxsplit=1)[0]),
                environment=match.group(2),
            )
        explanation = _shorten(text.replace("No solution found when resolving dependencies: ", ""))
        return ResolutionError(
            f"cannot resolve dependencies: {explanation}",
            hint="relax the conflicting requirements",
        )
    if _NETWORK.search(stderr):
        return PackageIndexError(
            f"cannot reach the package index: {text}", hint="check the index URL and network"
        )
    return ResolutionError(f"uv failed: {text or 'no message'}")


def _shorten(text: str, limit: int = 600) -> str:
    """Keep a long resolver explanation to its start and its conclusion, on one line."""
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2].rstrip()} ... {text[-limit // 2 :].lstrip()}"


def _artifact(raw: Mapping[str, Any]) -> Artifact:
    url = str(raw["url"])
    upload = raw.get("upload-time")
    if isinstance(upload, datetime) and upload.tzinfo is None:
        upload = upload.replace(tzinfo=timezone.utc)
    size = raw.get("size")
    return Artifact(
        url=url,
        filename=url.rsplit("/", 1)[-1].split("#", 1)[0],
        sha256=str(raw["hashes"]["sha256"]),
        size=int(size) if size is not None else None,
        upload_time=upload if isinstance(upload, datetime) else None,
    )


_EXPORTED_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*(?:;\s*(.+))?$")


def parse_requirements_export(text: str) -> dict[tuple[str, str], str | None]:
    """``uv export --format requirements.txt --no-hashes`` → {(name, version): marker}."""
    pins: dict[tuple[str, str], str | None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _EXPORTED_PIN.match(line)
        if match is None:
            raise ResolutionError(f"cannot read uv's export line {line!r}")
        pins[(canonicalize_name(match.group(1)), match.group(2))] = match.group(3)
    return pins


def merge_exports(
    everything: Mapping[str, Any],
    selections: Sequence[tuple[str | None, Mapping[tuple[str, str], str | None]]],
) -> tuple[LockedPackage, ...]:
    """Join uv's PEP 751 export (artifacts) with per-selection pins (markers).

    ``selections`` pairs a selection condition (``None`` for the base
    dependencies, else e.g. ``'postgres' in extras``) with the pins uv exports
    for that selection. A package the base needs keeps uv's marker; one that
    only some extras or groups need gets ``(<conditions>) and (<marker>)``.
    """
    # key -> uv marker (None = everywhere) -> conditions (None = base)
    terms: dict[tuple[str, str], dict[str | None, list[str | None]]] = {}
    for condition, pins in selections:
        for key, marker in pins.items():
            terms.setdefault(key, {}).setdefault(marker, []).append(condition)
    packages = []
    seen: set[tuple[str, str]] = set()
    for raw in everything.get("packages", []):
        key = (canonicalize_name(str(raw["name"])), str(raw["version"]))
        if "sdist" not in raw and "wheels" not in raw:
            raise ResolutionError(
                f"uv locked {key[0]}=={key[1]} from a source lockdown cannot pin by hash "
                "(a VCS, directory or local path dependency)",
                hint="depend on a released version from the index",
            )
        if key not in terms:
            raise ResolutionError(f"uv exported {key[0]}=={key[1]} for no extra or group")
        seen.add(key)
        packages.append(
            LockedPackage(
                name=key[0],
                version=key[1],
                marker=combine_markers(terms[key]),
                index=raw.get("index"),
                wheels=tuple(_artifact(w) for w in raw.get("wheels", [])),
                sdist=_artifact(raw["sdist"]) if "sdist" in raw else None,
            )
        )
    missing = sorted(set(terms) - seen)
    if missing:
        raise ResolutionError(f"uv exported {missing[0][0]}=={missing[0][1]} without artifacts")
    return tuple(sorted(packages, key=lambda p: (p.name, p.version)))


def uv_lock_graph(text: str) -> dict[tuple[str, str], set[tuple[str, str | None]]]:
    """(name, version) → its direct dependencies, from ``uv.lock``.

    The one place lockdown reads uv's own lock format: each ``[[package]]``'s
    ``dependencies`` and ``optional-dependencies`` entries name a package
    (with its version when uv locked that name more than once). The scratch
    project itself (a virtual source) is not a package of the lock.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ResolutionError(f"cannot read uv.lock: {exc}") from None
    graph: dict[tuple[str, str], set[tuple[str, str | None]]] = {}
    for package in doc.get("package", []):
        source = package.get("source", {})
        if "virtual" in source or "version" not in package:
            continue
        entries = list(package.get("dependencies", []))
        for extra in package.get("optional-dependencies", {}).values():
            entries += extra
        graph[(canonicalize_name(str(package["name"])), str(package["version"]))] = {
            (canonicalize_name(str(e["name"])), str(e["version"]) if "version" in e else None)
            for e in entries
        }
    return graph


def with_dependencies(
    packages: Sequence[LockedPackage],
    graph: Mapping[tuple[str, str], set[tuple[str, str | None]]],
) -> tuple[LockedPackage, ...]:
    """``packages`` with their dependencies from ``graph``, kept to those locked."""
    locked = {(p.name, p.version) for p in packages}
    names = {p.name for p in packages}

    def kept(edge: tuple[str, str | None]) -> bool:
        return edge in locked if edge[1] is not None else edge[0] in names

    return tuple(
        dataclasses.replace(
            p, dependencies=tuple(sorted((e for e in graph[key] if kept(e)), key=_edge_key))
        )
        if (key := (p.name, p.version)) in graph
        else p
        for p in packages
    )


def _edge_key(edge: tuple[str, str | None]) -> tuple[str, str]:
    return edge[0], edge[1] or ""


def combine_markers(by_marker: Mapping[str | None, Sequence[str | None]]) -> str | None:
    """One marker from {uv marker: [selection conditions]} (``None`` = base / always)."""
    parts: list[str] = []
    for marker, conditions in by_marker.items():
        if None in conditions:
            if marker is None:
                return None
            parts.append(marker)
            continue
        unique = list(dict.fromkeys(c for c in conditions if c is not None))
        selector = unique[0] if len(unique) == 1 else "(" + " or ".join(unique) + ")"
        parts.append(selector if marker is None else f"{selector} and ({marker})")
    if len(parts) == 1:
        return normalize_marker(parts[0])
    return normalize_marker(" or ".join(f"({p})" for p in parts))
