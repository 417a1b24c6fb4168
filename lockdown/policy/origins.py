"""Origins: one index per package, and names that more than one index serves (shadows).

Pure: the caller asks the indexes which of them serve each name
(:mod:`lockdown.resolve.origins`) and passes the answers in. The rules, for a
lock with more than one configured index:

1. a package pinned in ``[tool.lockdown.sources]`` must come from its pin; a
   resolver that took it from another index (pip-compile merges indexes and
   takes the highest version) is blocked;
2. a package already in the previous lock keeps the index it was locked from
   (an implicit pin; moving it is the gate's index change, judged there);
3. a name served by more than one index and pinned by neither is blocked — no
   approval admits an ambiguous origin, only a pin does, so a first lock is
   judged exactly like a re-lock;
4. a pinned name that other indexes also serve is a *shadow*: not a blocker
   (the pin decided), but reported, and recorded in the lock so ``diff`` can
   report it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from lockdown.errors import ConfigError
from lockdown.lock.model import LockedPackage
from lockdown.names import index_key
from lockdown.policy.gate import GateResult, Verdict

#: The ``[packages.tool.lockdown]`` key listing the other indexes that serve a locked name.
ALSO_SERVED_BY = "also-served-by"

PinKind = Literal["sources", "lock"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """Where one package must come from, and why."""

    index: str
    #: ``sources``: ``[tool.lockdown.sources]``; ``lock``: the index the previous lock has.
    kind: PinKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Shadow:
    """A locked package whose name other indexes also serve; ignored because it is pinned."""

    name: str
    version: str
    #: The index it was locked from (its pin).
    index: str
    #: The other indexes serving the name, in configuration order.
    others: tuple[str, ...]
    kind: PinKind
    #: The highest version each other index lists, when known (``lock`` asks; ``diff`` cannot).
    latest: Mapping[str, str | None] | None = None

    def describe(self) -> str:
        """``acme-util 9.9.9 is also published on URL; ignored, locked from URL (…)``."""
        why = (
            "pinned in [tool.lockdown.sources]" if self.kind == "sources" else "kept from the lock"
        )
        latest = self.latest or {}
        published = "; ".join(
            f"{self.name} {latest[o]} is also published on {o}"
            if latest.get(o)
            else f"{self.name} is also published on {o}"
            for o in self.others
        )
        return f"{published}; ignored, locked {self.version} from {self.index} ({why})"


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginResult:
    """What the origin rules found: blocking verdicts and reported shadows."""

    verdicts: tuple[Verdict, ...]
    shadows: tuple[Shadow, ...]


def check_pins(
    sources: Sequence[tuple[str, str]], indexes: Sequence[str], *, source: Path, where: str
) -> None:
    """Every ``[tool.lockdown.sources]`` pin names one of the configured ``indexes`` (else 64)."""
    configured = {index_key(u) for u in indexes}
    for name, url in sources:
        if index_key(url) not in configured:
            raise ConfigError(
                f"{source}: {where} sources.{name}: {url} is not one of the configured indexes "
                f"({', '.join(indexes)})",
                hint="pin it to index-url or one of extra-index-urls, or add the index there",
            )


def pins_for(
    sources: Sequence[tuple[str, str]],
    previous: Sequence[LockedPackage] | None,
    indexes: Sequence[str],
) -> dict[str, Pin]:
    """Each package's pin: ``sources`` first, then the previous lock's index (rule 2).

    A previous index that is no longer configured pins nothing: the package
    moves, and the gate judges the move as an index change.
    """
    canonical = {index_key(u): u for u in indexes}
    pins = {
        name: Pin(index=canonical.get(index_key(url)) or url, kind="sources")
        for name, url in sources
    }
    for state in sorted(previous or (), key=lambda s: (s.name, s.version)):
        known = canonical.get(index_key(state.index))
        if known is not None and state.name not in pins:
            pins[state.name] = Pin(index=known, kind="lock")
    return pins


def known_origins(states: Sequence[LockedPackage], indexes: Sequence[str]) -> dict[str, str | None]:
    """name → the configured index (as ``indexes`` spell it) each package came from.

    That index needs no asking whether it serves the name; ``None`` when the
    package came from no configured index.
    """
    canonical = {index_key(u): u for u in indexes}
    return {
        s.name: canonical.get(index_key(s.index))
        for s in sorted(states, key=lambda s: (s.name, s.version), reverse=True)
    }


def judge_origins(
    states: Sequence[LockedPackage],
    *,
    pins: Mapping[str, Pin],
    served: Mapping[str, Sequence[str]],
    allowed: Sequence[str] = (),
) -> OriginResult:
    """Rules 1, 3 and 4 for every package of the new lock (rule 2 is :func:`pins_for`).

    ``served`` maps each locked name to the configured indexes that serve it
    (in configuration order); a name it does not list is served by its own
    index only. With ``allowed`` (``allowed-indexes``), the pin suggested for
    an ambiguous name is to an allowed index serving it.
    """
    permitted = {index_key(u) for u in allowed}
    verdicts: list[Verdict] = []
    shadows: dict[str, Shadow] = {}
    for state in sorted(states, key=lambda s: (s.name, s.version)):
        if state.index is None:
            continue
        pin = pins.get(state.name)
        origin = index_key(state.index)
        servers = list(served.get(state.name, ()))
        others = tuple(u for u in servers if index_key(u) != origin)
        if pin is not None and index_key(pin.index) != origin:
            if pin.kind == "sources":
                # 1. pip-compile merged the indexes and took this version elsewhere.
                verdicts.append(
                    _blocked(
                        state,
                        f"resolved from {state.index}, but [tool.lockdown.sources] pins it to "
                        f"{pin.index} (the resolver took it from the other index; pin its "
                        "version, or use resolver = 'uv', which resolves it from its pin only)",
                    )
                )
            # 2. A move from the locked index is an index change: the gate judges it.
            continue
        if not others:
            continue
        if pin is None:
            # 3. Ambiguous: every index serving the name could have supplied it.
            to = state.index
            if permitted and origin not in permitted:
                to = next((u for u in servers if index_key(u) in permitted), to)
            line = f'{state.name} = "{to}"'
            verdicts.append(
                _blocked(
                    state,
                    f"served by more than one index ({_and(servers)}) and not pinned, so its "
                    f"origin is ambiguous (dependency confusion); pin it in "
                    f"[tool.lockdown.sources]: {line}",
                    fix=line,
                )
            )
            continue
        # 4. Pinned: the other indexes are shadows, reported and recorded.
        shadows.setdefault(
            state.name,
            Shadow(
                name=state.name,
                version=state.version,
                index=state.index,
                others=others,
                kind=pin.kind,
            ),
        )
    return OriginResult(verdicts=tuple(verdicts), shadows=tuple(shadows.values()))


def shadows_in_lock(
    states: Sequence[LockedPackage], sources: Mapping[str, object]
) -> tuple[Shadow, ...]:
    """The shadows a lock recorded (``also-served-by``), for ``diff``; no index is asked.

    ``sources`` is the lock's ``[tool.lockdown] sources``: the names it pinned there.
    """
    found: dict[str, Shadow] = {}
    for state in sorted(states, key=lambda s: (s.name, s.version)):
        if state.also_served_by and state.index is not None and state.name not in found:
            found[state.name] = Shadow(
                name=state.name,
                version=state.version,
                index=state.index,
                others=state.also_served_by,
                kind="sources" if state.name in sources else "lock",
            )
    return tuple(found.values())


def with_origins(result: GateResult, origins: OriginResult) -> GateResult:
    """The gate's result with the origin verdicts added and the shadows as findings."""
    return replace(
        result,
        verdicts=(*result.verdicts, *origins.verdicts),
        findings=(*result.findings, *(s.describe() for s in origins.shadows)),
    )


def _blocked(state: LockedPackage, reason: str, *, fix: str | None = None) -> Verdict:
    return Verdict(
        name=state.name, version=state.version, change=None, admitted=False, reason=reason, fix=fix
    )


def _and(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"
