"""The summary ``lockdown lock`` prints: what was locked, for where, into which file."""

from __future__ import annotations

from lockdown.lock.run import LockOutcome


def summarize(outcome: LockOutcome) -> str:
    """A short table of the locked packages and a closing line."""
    resolution = outcome.resolution
    packages = sorted(resolution.packages, key=lambda p: (p.name, p.version))
    width = max((len(p.name) for p in packages), default=4)
    lines = []
    for package in packages:
        files = len(package.wheels) + (package.sdist is not None)
        scope = f"  [{package.marker}]" if package.marker else ""
        if len(scope) > 70:
            scope = scope[:66] + "...]"
        lines.append(f"  {package.name:<{width}}  {package.version:<12} {files:>3} files{scope}")
    artifacts = sum(len(p.wheels) + (p.sdist is not None) for p in packages)
    state = "updated" if outcome.changed else "unchanged"
    lines.append(
        f"locked {len(packages)} packages ({artifacts} artifacts, all sha256-pinned) for "
        f"{len(resolution.environments)} environment(s) with {resolution.resolver} "
        f"{resolution.resolver_version} -> {outcome.path.name} ({state})"
    )
    return "\n".join(lines)
