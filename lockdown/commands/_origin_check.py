"""``lock``'s origin step: one index per package, the shadow check, asked while other work runs.

The questions (:mod:`lockdown.resolve.origins`) and the judgement
(:mod:`lockdown.policy.origins`) are apart; this module orders them around the
resolver so their cost hides behind it:

1. before resolving, the ``[tool.lockdown.sources]`` pins are checked and
   their names asked of every index (a few, and the answer decides what the
   resolver is told); the names the previous lock pins (each to the index it
   was locked from) are asked in the background while the resolver runs —
   unless the previous lock recorded a shadow, when the answer is needed first;
2. the resolver is told the pins of names more than one index serves;
3. after resolving, a locked name that has gained a shadow since the last
   lock, and that the resolver took from another index, is resolved again
   with its pin (once, the first time that shadow is seen);
4. the names the resolution added are asked in the background while the
   artifacts are verified and the provenance fetched, then everything is judged.

With fewer than two indexes nothing is asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lockdown.errors import ResolutionError
from lockdown.lock.model import LockedPackage, Resolution
from lockdown.policy.gate import GateResult
from lockdown.policy.origins import (
    ALSO_SERVED_BY,
    Pin,
    check_pins,
    judge_origins,
    known_origins,
    pins_for,
    with_origins,
)
from lockdown.resolve.interface import Resolver, ResolveRequest
from lockdown.resolve.origins import indexes_serving, latest_versions

Served = dict[str, tuple[str, ...]]


class OriginCheck:
    """The origin step of one lock run (see the module docstring for the order)."""

    def __init__(
        self,
        sources: Sequence[tuple[str, str]],
        indexes: Sequence[str],
        old: Sequence[LockedPackage] | None,
        *,
        source: Path,
        where: str,
    ) -> None:
        # 1. The pins: sources (checked against the configured indexes), then the lock's.
        check_pins(sources, indexes, source=source, where=where)
        self.indexes = tuple(indexes)
        self.pins: dict[str, Pin] = pins_for(sources, old, indexes)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lockdown-origins")
        self._served: Served = {}
        self._locked: Future[Served] | None = None
        self._rest: Future[Served] | None = None
        if not self.asks:
            return
        explicit = {n: None for n, pin in self.pins.items() if pin.kind == "sources"}
        # The index a package was locked from served it then: only the others are asked.
        locked = {n: pin.index for n, pin in self.pins.items() if pin.kind == "lock"}
        if any(s.also_served_by for s in old or ()):
            self._served = indexes_serving({**explicit, **locked}, self.indexes)
            return
        self._served = indexes_serving(explicit, self.indexes)
        if locked:
            self._locked = self._pool.submit(indexes_serving, locked, self.indexes)

    @property
    def asks(self) -> bool:
        """Whether there is anything to compare (two or more indexes)."""
        return len(self.indexes) > 1

    def index_pins(self) -> tuple[tuple[str, str], ...]:
        """2. ``(name, index)`` for the resolver: pinned names known to be served twice."""
        return tuple(
            (name, pin.index)
            for name, pin in sorted(self.pins.items())
            if len(self._served.get(name, ())) > 1
        )

    def answered(self) -> bool:
        """Wait for the locked names' answers; whether they changed what the resolver is told."""
        if self._locked is None:
            return False
        before = self.index_pins()
        self._served.update(self._locked.result())
        self._locked = None
        return self.index_pins() != before

    def repins(self, resolution: Resolution, sent: Sequence[tuple[str, str]]) -> list[str]:
        """3. Locked names shadowed since the last lock that the resolver took elsewhere."""
        self.answered()
        told = {name for name, _url in sent}
        origins = known_origins(resolution.packages, self.indexes)
        return sorted(
            name
            for name, pin in self.pins.items()
            if name not in told
            and len(self._served.get(name, ())) > 1
            and name in origins
            and origins[name] != pin.index
        )

    def ask_the_rest(self, resolution: Resolution) -> None:
        """4. Ask about the names not asked yet, in the background."""
        if not self.asks:
            return
        origins = known_origins(resolution.packages, self.indexes)
        missing = {n: u for n, u in origins.items() if n not in self._served}
        self._rest = self._pool.submit(indexes_serving, missing, self.indexes)

    def judge(
        self, result: GateResult, states: Sequence[LockedPackage], allowed: Sequence[str]
    ) -> tuple[GateResult, dict[tuple[str, str], Mapping[str, Any]]]:
        """The gate's result with the origin verdicts and findings; ``also-served-by`` records."""
        if not self.asks:
            return result, {}
        if self._locked is not None:
            self._served.update(self._locked.result())
        if self._rest is not None:
            self._served.update(self._rest.result())
        self._pool.shutdown()
        found = judge_origins(states, pins=self.pins, served=self._served, allowed=allowed)
        shadows = tuple(
            dataclasses.replace(s, latest=latest_versions(s.name, s.others)) for s in found.shadows
        )
        records: dict[tuple[str, str], Mapping[str, Any]] = {
            (s.name, state.version): {ALSO_SERVED_BY: list(s.others)}
            for s in shadows
            for state in states
            if state.name == s.name
        }
        return with_origins(result, dataclasses.replace(found, shadows=shadows)), records

    def close(self) -> None:
        """Stop asking (a run that ends early); questions in flight finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class PinningResolver:
    """A resolver that is always told the pins known so far (a :class:`Resolver` itself).

    When resolving fails before the locked names' answers are in, it waits for
    them and, if they add pins (a locked name another index now serves, which
    the resolver took from there and could not keep at its locked version),
    tries once more with them before the caller relaxes anything.
    """

    def __init__(self, backend: Resolver, origins: OriginCheck) -> None:
        self._backend = backend
        self._origins = origins
        self.name = backend.name
        self.refuses_yanked_dependencies = backend.refuses_yanked_dependencies

    def version(self) -> str:
        """The wrapped backend's version."""
        return self._backend.version()

    def resolve(self, request: ResolveRequest) -> Resolution:
        """Resolve ``request`` with the known pins; once more if failing revealed more."""
        try:
            return self._backend.resolve(self._pinned(request))
        except ResolutionError:
            if not self._origins.answered():
                raise
        return self._backend.resolve(self._pinned(request))

    def _pinned(self, request: ResolveRequest) -> ResolveRequest:
        return dataclasses.replace(request, index_pins=self._origins.index_pins())
