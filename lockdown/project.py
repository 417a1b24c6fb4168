"""A project's dependency declarations, read into one normalized, hashable value.

Reads PEP 621 ``[project]`` (``dependencies``, ``optional-dependencies``,
``requires-python``), PEP 735 ``[dependency-groups]`` and the plain
``requirements.in`` files the config names. Requirements are parsed with
``packaging`` so a bad one is reported by name, and normalized so the input
digest does not change when only spelling or order does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from packaging.dependency_groups import DependencyGroupResolver
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from lockdown.config import PYPROJECT, Config
from lockdown.errors import InputError

#: Bumped when the digest's meaning changes, so old locks read as stale.
DIGEST_FORMAT = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectInputs:
    """Everything a resolver needs to know about what the project asks for."""

    #: The project's normalized name, or ``None`` for a requirements-only project.
    name: NormalizedName | None
    #: The Python versions the lock must cover (PEP 440 specifier set), if known.
    requires_python: str | None
    #: Base requirements, normalized and sorted.
    dependencies: tuple[str, ...]
    #: Selected extras → their requirements (self-references expanded), sorted.
    extras: Mapping[NormalizedName, tuple[str, ...]] = field(default_factory=dict)
    #: Selected dependency groups → their requirements (includes expanded), sorted.
    groups: Mapping[NormalizedName, tuple[str, ...]] = field(default_factory=dict)

    @property
    def all_requirements(self) -> tuple[str, ...]:
        """Every requirement text: the dependencies, then each extra's, then each group's."""
        return (
            *self.dependencies,
            *(r for reqs in self.extras.values() for r in reqs),
            *(r for reqs in self.groups.values() for r in reqs),
        )

    def as_json(self) -> dict[str, Any]:
        """A plain, order-independent view used for the input digest."""
        return {
            "name": self.name,
            "requires-python": self.requires_python,
            "dependencies": list(self.dependencies),
            "extras": {k: list(v) for k, v in sorted(self.extras.items())},
            "groups": {k: list(v) for k, v in sorted(self.groups.items())},
        }


def _requirement(text: str, where: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"{where}: invalid requirement {text!r}: {first}") from None


def _requirements(values: object, where: str) -> list[Requirement]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f"{where} must be a list of requirement strings")
    return [_requirement(v, f"{where}[{i}]") for i, v in enumerate(cast("list[str]", values))]


def read_requirements_file(
    path: Path, *, _seen: frozenset[Path] = frozenset()
) -> list[Requirement]:
    """Parse a ``requirements.in`` file: one PEP 508 requirement a line, ``-r`` includes.

    Options that would change where packages come from (``--index-url``,
    ``--find-links``, ...) are refused: those belong in the lockdown config, where
    they are recorded and digested.
    """
    path = path.resolve()
    if path in _seen:
        raise InputError(f"{path}: includes itself through -r")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: requirements file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read requirements file: {exc}") from None
    result: list[Requirement] = []
    # Backslash continuations are joined first, as pip does.
    logical: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append((start, (buffer + line).strip()))
        buffer = ""
    if buffer.strip():
        logical.append((start, buffer.strip()))
    for number, line in logical:
        if not line:
            continue
        where = f"{path}:{number}"
        if line.startswith(("-r ", "--requirement ", "-r")) and not line.startswith("-r-"):
            target = line.split(None, 1)[1] if " " in line else line[2:]
            include = (path.parent / target.strip()).resolve()
            result.extend(read_requirements_file(include, _seen=_seen | {path}))
            continue
        if line.startswith("-"):
            option = line.split()[0]
            raise InputError(
                f"{where}: option {option!r} is not supported in requirements files",
                hint="set indexes and sources in [tool.lockdown] instead",
            )
        result.append(_requirement(line, where))
    return result


def _sorted_strs(reqs: Iterable[Requirement]) -> tuple[str, ...]:
    return tuple(sorted({str(r) for r in reqs}))


def _expand_self(
    reqs: Sequence[Requirement],
    name: NormalizedName | None,
    base: Sequence[Requirement],
    extras: Mapping[NormalizedName, Sequence[Requirement]],
    where: str,
    _depth: int = 0,
) -> list[Requirement]:
    """Replace ``project[extra]`` self-references with what they stand for.

    A group such as ``test = ["webapp[postgres]", "pytest"]`` means "the project
    with its postgres extra"; the lock holds the project's dependencies, not the
    project itself, so the reference is expanded into them.
    """
    if name is None or _depth > 10:
        return list(reqs)
    out: list[Requirement] = []
    for req in reqs:
        if canonicalize_name(req.name) != name:
            out.append(req)
            continue
        out.extend(base)
        for extra in sorted(req.extras):
            key = canonicalize_name(extra)
            if key not in extras:
                raise InputError(f"{where}: {req} refers to unknown extra {extra!r} of {name}")
            out.extend(_expand_self(extras[key], name, base, extras, where, _depth + 1))
    return out


def _select(
    available: Iterable[NormalizedName], wanted: tuple[str, ...] | None, kind: str, source: Path
) -> list[NormalizedName]:
    names = sorted(set(available))
    if wanted is None:
        return names
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InputError(
            f"{source}: {kind} {missing[0]!r} is not declared by the project",
            hint=f"declared: {', '.join(names) or 'none'}",
        )
    return [canonicalize_name(w) for w in wanted]


def read_inputs(config: Config, pyproject: Mapping[str, Any]) -> ProjectInputs:
    """Read the project's declared dependencies according to ``config``."""
    pyproject_path = config.project_dir / PYPROJECT
    project = pyproject.get("project")
    if project is not None and not isinstance(project, dict):
        raise InputError(f"{pyproject_path}: [project] must be a table")
    project = cast("dict[str, Any]", project or {})
    raw_name = project.get("name")
    name = canonicalize_name(raw_name) if isinstance(raw_name, str) else None

    base = _requirements(project.get("dependencies", []), f"{pyproject_path}: project.dependencies")
    for req_file in config.requirements:
        base.extend(read_requirements_file(config.project_dir / req_file))

    raw_extras = project.get("optional-dependencies", {})
    if not isinstance(raw_extras, dict):
        raise InputError(f"{pyproject_path}: project.optional-dependencies must be a table")
    all_extras = {
        canonicalize_name(k): _requirements(v, f"{pyproject_path}: optional-dependencies.{k}")
        for k, v in raw_extras.items()
    }
    base = _expand_self(base, name, [], all_extras, f"{pyproject_path}: project.dependencies")
    selected_extras = _select(all_extras, config.extras, "extra", config.source)
    extras = {
        e: _sorted_strs(
            _expand_self(all_extras[e], name, [], all_extras, f"{pyproject_path}: extra {e}")
        )
        for e in selected_extras
    }

    raw_groups = pyproject.get("dependency-groups", {})
    if not isinstance(raw_groups, dict):
        raise InputError(f"{pyproject_path}: [dependency-groups] must be a table")
    group_names = [canonicalize_name(g) for g in raw_groups]
    if len(set(group_names)) != len(group_names):
        raise InputError(f"{pyproject_path}: [dependency-groups] has duplicate names")
    try:
        resolver = DependencyGroupResolver(raw_groups)
        selected_groups = _select(group_names, config.dependency_groups, "group", config.source)
        groups = {}
        for g in selected_groups:
            original = next(k for k in raw_groups if canonicalize_name(k) == g)
            reqs = list(resolver.resolve(original))
            groups[g] = _sorted_strs(
                _expand_self(reqs, name, base, all_extras, f"{pyproject_path}: group {g}")
            )
    except InputError:
        raise
    except Exception as exc:
        # packaging reports cycles, bad include-group tables and bad requirement
        # strings in groups as an exception group; the first cause says what.
        causes = getattr(exc, "exceptions", None) or [exc]
        first = str(causes[0]).splitlines()[0]
        raise InputError(f"{pyproject_path}: [dependency-groups]: {first}") from None

    requires_python = config.requires_python or project.get("requires-python")
    if requires_python is not None:
        if not isinstance(requires_python, str):
            raise InputError(f"{pyproject_path}: project.requires-python must be a string")
        try:
            requires_python = str(SpecifierSet(requires_python))
        except InvalidSpecifier:
            raise InputError(
                f"{pyproject_path}: requires-python {requires_python!r} is not a version specifier"
            ) from None

    return ProjectInputs(
        name=name,
        requires_python=requires_python,
        dependencies=_sorted_strs(base),
        extras=extras,
        groups=groups,
    )


def input_digest(inputs: ProjectInputs, config: Config, resolver: str) -> str:
    """sha256 of the normalized inputs and every setting that changes the resolution.

    ``lock --check`` compares this with the digest recorded in the lock, so it
    must cover exactly what a resolver sees and nothing else (not the output
    name, not comments or formatting of pyproject.toml).
    """
    payload = {
        "format": DIGEST_FORMAT,
        "inputs": inputs.as_json(),
        "environments": list(config.environments),
        "index-url": config.index_url,
        "extra-index-urls": list(config.extra_index_urls),
        "default-groups": list(config.default_groups),
        "resolver": resolver,
    }
    age = config.policy.min_release_age
    if age is not None:
        # A cooldown changes what resolves; absent, the digest is what it always was.
        payload["min-release-age"] = int(age.total_seconds())
    if config.sources:
        # Pins change where packages resolve from; absent, the digest is unchanged.
        payload["sources"] = dict(config.sources)
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()
