"""Resolving as ``lock`` does: relax what lockdown asked for, keep the environments served.

The backend (:mod:`lockdown.resolve.uv`, :mod:`lockdown.resolve.piptools`)
answers one request; these functions decide which requests to make and what
a result that cannot install somewhere means.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from lockdown.errors import ResolutionError, UnservableEnvironmentError
from lockdown.progress import Reporter

if TYPE_CHECKING:
    from lockdown.lock.model import Resolution
    from lockdown.resolve.interface import Resolver, ResolveRequest
    from lockdown.resolve.platforms import Coverage, Shortfall


def resolve_served(
    backend: Resolver, request: ResolveRequest, reporter: Reporter
) -> tuple[Resolution, Coverage]:
    """Resolve, and keep the environments the result can really install.

    Candidate environments (lockdown's defaults) that the locked packages
    cannot serve are narrowed or dropped, one note each. A listed environment
    that cannot be served ends the run: the project asked for it.
    """
    from lockdown.resolve.platforms import coverage  # noqa: PLC0415

    try:
        resolution = resolve_relaxing(backend, request, reporter)
    except UnservableEnvironmentError as exc:
        # Only listed environments get here (candidates go to uv as one). Lock
        # them as candidates to learn which package, at which version, is short.
        try:
            resolution = resolve_relaxing(
                backend,
                dataclasses.replace(request, environments_are_candidates=True),
                Reporter(quiet=True),
            )
        except ResolutionError:
            raise exc from None
        found = coverage(
            resolution.packages,
            request.environments,
            requires_python=request.inputs.requires_python,
            extras=request.inputs.extras,
            groups=request.inputs.groups,
        )
        if not found.shortfalls:
            raise
        raise _unservable(found.shortfalls[0]) from None
    found = coverage(
        resolution.packages,
        resolution.environments,
        requires_python=request.inputs.requires_python,
        extras=request.inputs.extras,
        groups=request.inputs.groups,
    )
    if found.shortfalls and not request.environments_are_candidates:
        raise _unservable(found.shortfalls[0])
    for shortfall in found.shortfalls:
        reporter.note(f"{shortfall.describe()}; set `environments` to choose")
    if not found.served:
        first = found.shortfalls[0]
        raise ResolutionError(
            f"the locked packages cannot be installed on any of the default platforms: "
            f"{first.package} {first.version} publishes no wheel for {first.label} and no sdist, "
            "and the others fall short the same way",
            hint="set [tool.lockdown] environments to the platforms you deploy to",
        )
    return dataclasses.replace(resolution, environments=found.served), found


def _unservable(shortfall: Shortfall) -> ResolutionError:
    """The one-line error for a listed environment the lock cannot serve."""
    where = shortfall.environment
    pythons = "" if shortfall.dropped else f" on Python {', '.join(shortfall.pythons)}"
    return ResolutionError(
        f"environment {where!r} cannot be served{pythons}: {shortfall.package} "
        f"{shortfall.version} publishes no wheel for it and no sdist",
        hint=f"remove it from [tool.lockdown] environments, or constrain {shortfall.package} "
        "(a marker that leaves that platform out, or a version with a wheel for it)",
    )


def resolve_relaxing(backend: Resolver, request: ResolveRequest, reporter: Reporter) -> Resolution:
    """Resolve, relaxing what lockdown asked for (never what the project asked for).

    1. With the previous lock's versions kept and the cooldown's cutoff.
    2. Without the kept versions: the inputs may now exclude some of them.
    3. Without the cutoff either: the inputs may ask for something younger. The
       gate then blocks every artifact uploaded after the cutoff, so the
       cooldown still holds, and the user is told exactly what is too young
       instead of only that nothing resolves.
    """
    attempts = [request]
    if request.preferences or request.resolver_state is not None:
        attempts.append(dataclasses.replace(request, preferences=(), resolver_state=None))
    if request.exclude_newer is not None:
        attempts.append(
            dataclasses.replace(request, preferences=(), exclude_newer=None, resolver_state=None)
        )
    first: ResolutionError | None = None
    unservable: UnservableEnvironmentError | None = None
    for attempt, relaxed in enumerate(attempts):
        try:
            return backend.resolve(relaxed)
        except ResolutionError as exc:
            first = first or exc
            if isinstance(exc, UnservableEnvironmentError):
                # Relaxing got past the conflict to the real obstacle: say that one.
                unservable = unservable or exc
            if attempt + 1 < len(attempts):
                what = (
                    "the locked versions"
                    if attempt == 0 and request.preferences
                    else ("the cooldown")
                )
                reporter.note(f"cannot resolve with {what} ({exc.message}); relaxing it")
    assert first is not None  # noqa: S101 - at least one attempt ran and failed
    raise unservable or first
