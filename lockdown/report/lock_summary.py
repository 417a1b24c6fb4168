"""The summary ``lockdown lock`` prints: what was locked, for where, into which file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from packaging.markers import InvalidMarker, Marker, default_environment

from lockdown.lock.attestation import AttestationSummary
from lockdown.report.outcomes import LockOutcome

_SELECTOR = re.compile(r"'([^']+)' in (extras|dependency_groups)")
_EQUALS = re.compile(r"(\w+) == '([^']*)'")
#: Python versions sampled to tell "every Python" from "some Pythons" (display only).
_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")


def _samples(environments: Sequence[str]) -> list[dict[str, str]]:
    """Concrete marker environments, one per locked environment and Python version."""
    base = {str(k): str(v) for k, v in default_environment().items()}
    samples = []
    for text in environments:
        fixed = dict(_EQUALS.findall(text))
        for python in _PYTHONS:
            for micro in ("0", "99"):
                samples.append(
                    base
                    | fixed
                    | {"python_version": python, "python_full_version": f"{python}.{micro}"}
                )
    return samples


def describe_scope(marker: str | None, environments: Sequence[str]) -> str:
    """Say in words when a package applies: which extras/groups, which platforms.

    Display only: the lock file keeps the exact marker.
    """
    if not marker:
        return ""
    words = [
        f"{'extra' if kind == 'extras' else 'group'} {name}"
        for name, kind in dict.fromkeys(_SELECTOR.findall(marker))
    ]
    try:
        parsed = Marker(marker)
    except InvalidMarker:  # pragma: no cover - markers come validated
        return marker
    selected = {
        "extras": frozenset(n for n, k in _SELECTOR.findall(marker) if k == "extras"),
        "dependency_groups": frozenset(
            n for n, k in _SELECTOR.findall(marker) if k == "dependency_groups"
        ),
    }
    samples = _samples(environments)
    hits = [s for s in samples if parsed.evaluate(s | selected, "lock_file")]  # type: ignore[operator]
    if len(hits) < len(samples):
        platforms = sorted({f"{s['sys_platform']}/{s['platform_machine']}" for s in hits})
        # Every Python of those platforms is a hit when the hits are all their samples
        # (the hits are exactly the samples the marker holds for: no second evaluation).
        every_python = len(hits) == sum(
            1 for s in samples if f"{s['sys_platform']}/{s['platform_machine']}" in platforms
        )
        if len(platforms) < len({f"{s['sys_platform']}/{s['platform_machine']}" for s in samples}):
            words.append("only " + ", ".join(platforms))
        if not every_python:
            words.append("some Pythons")
    return ", ".join(words)


def summarize(outcome: LockOutcome, now: datetime | None = None) -> str:
    """A short table of the locked packages and a closing line.

    ``now`` (UTC) is when the vulnerability line measures its database's age;
    ``None``: the current time.
    """
    resolution = outcome.resolution
    packages = sorted(resolution.packages, key=lambda p: (p.name, p.version))
    name_width = max((len(p.name) for p in packages), default=4)
    version_width = max((len(p.version) for p in packages), default=7)
    lines = []
    scopes: dict[str | None, str] = {}  # many packages share a marker (torch's nvidia-*)
    for package in packages:
        files = len(package.wheels) + (package.sdist is not None)
        if package.marker not in scopes:
            scopes[package.marker] = describe_scope(package.marker, resolution.environments)
        scope = scopes[package.marker]
        lines.append(
            f"  {package.name:<{name_width}}  {package.version:<{version_width}}  "
            f"{files:>3} file{'s' if files != 1 else ' '}  {scope}".rstrip()
        )
    artifacts = sum(len(p.wheels) + (p.sdist is not None) for p in packages)
    state = "updated" if outcome.changed else "unchanged"
    lines.append(
        f"locked {len(packages)} packages ({artifacts} artifacts, all sha256-pinned) for "
        f"{len(resolution.environments)} environment(s) with {resolution.resolver} "
        f"{resolution.resolver_version} -> {outcome.path.name} ({state})"
    )
    if outcome.vulnerabilities is not None:
        lines.append(outcome.vulnerabilities.line(now or datetime.now(timezone.utc)))
    lines += [
        f"licenses: {index} declares no core metadata files (PEP 658) on its pages; "
        "no license records for its new packages (export reads the artifact cache)"
        for index in outcome.unlicensed
    ]
    if outcome.attestations is not None:
        lines.append(attestation_line(outcome.attestations))
        lines += [
            f"provenance: {index} serves simple API {version}, which carries no provenance "
            "(PEP 740 needs 1.2 or later); none recorded for its new packages"
            for index, version in outcome.attestations.no_provenance
        ]
    return "\n".join(lines)


def attestation_line(summary: AttestationSummary) -> str:
    """``provenance: 3 of 5 packages attested (PEP 740): GitHub (...) 2, Google (...) 1``."""
    line = f"provenance: {summary.attested} of {summary.packages} packages attested (PEP 740)"
    if summary.by_publisher:
        line += ": " + ", ".join(f"{p.describe()} {n}" for p, n in summary.by_publisher.items())
    if summary.partial:
        line += f"; only some files attested, not recorded: {', '.join(summary.partial)}"
    return line
