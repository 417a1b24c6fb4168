"""Which advisories affect which packages: pure, everything passed in, the clock included.

Rules (the OSV schema's, versions compared by PEP 440 with ``packaging``):

1. a withdrawn advisory matches nothing;
2. an ``affected[]`` entry applies to a package of its ecosystem and name —
   a conda package that is a Python package (it depends on ``python``) is
   matched against the PyPI advisories of the same normalized name;
3. the version is affected when it is in the explicit ``versions`` list, or
   inside an ``ECOSYSTEM`` / ``SEMVER`` range: walking the events in version
   order, ``introduced`` opens the range, ``fixed`` closes it at that version,
   ``last_affected`` closes it after that version, and a ``limit`` caps it;
4. a malicious entry (``MAL-``) is a finding of the highest severity and no
   ignore silences it;
5. any other finding is silenced by an ignore in force naming its id or an
   alias (and its package, when the ignore names one); an ignore that has
   expired leaves the finding counting and is reported with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from packaging.version import InvalidVersion, Version

from lockdown.audit.model import Finding, Package, Severity
from lockdown.audit.osv import PYPI, Advisory, Affected, Range
from lockdown.config.audit import Ignore
from lockdown.names import normalize_name

#: ``(ecosystem, name)`` → the advisories about that package.
Lookup = Callable[[str, str], Sequence[Advisory]]

_ZERO = Version("0")
_CVSS_LEVELS: tuple[tuple[float, Severity], ...] = (
    (9.0, "critical"),
    (7.0, "high"),
    (4.0, "medium"),
    (0.0, "low"),
)
_WORDS: dict[str, Severity] = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "LOW": "low",
}


def advisory_key(package: Package) -> tuple[str, str]:
    """The ``(ecosystem, name)`` whose advisories apply to ``package`` (rule 2)."""
    if package.ecosystem == "conda" and package.python:
        return PYPI, normalize_name(package.name)
    return package.ecosystem, package.name


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version; ``None`` when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")


@lru_cache(maxsize=16384)
def canonical(text: str) -> str:
    """A version's canonical form for equality: ``1.0.0`` = ``1.0``, ``2.0rc1`` = ``2.0.0rc1``.

    Plain releases (``1.10.2``, most of what advisories list) are normalized
    with string operations; anything else through ``packaging``. Text that is
    not a version stays as it is (then only an exact listing matches it).
    """
    if _RELEASE.fullmatch(text):
        parts = [str(int(p)) for p in text.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    from packaging.utils import canonicalize_version  # noqa: PLC0415

    return canonicalize_version(text, strip_trailing_zero=True)


@lru_cache(maxsize=4096)
def _listed(versions: tuple[str, ...]) -> frozenset[str]:
    """An explicit ``versions`` list in canonical forms."""
    return frozenset(map(canonical, versions))


def in_range(version: Version, events: Sequence[tuple[str, str]]) -> bool:
    """Whether ``version`` lies inside the range these events describe (rule 3).

    Events whose version PEP 440 cannot read are left out; ``introduced: 0``
    is below every version.
    """
    keyed: list[tuple[tuple[int, Version], str, Version | None]] = []
    for kind, text in events:
        if kind == "introduced" and text == "0":
            keyed.append(((0, _ZERO), kind, None))
            continue
        bound = parse_version(text)
        if bound is not None:
            keyed.append(((1, bound), kind, bound))
    keyed.sort(key=lambda e: e[0])
    affected = False
    for _key, kind, bound in keyed:
        if kind == "introduced":
            if bound is None or version >= bound:
                affected = True
        elif bound is not None and (
            (kind in ("fixed", "limit") and version >= bound)
            or (kind == "last_affected" and version > bound)
        ):
            affected = False
    return affected


def affects(affected: Affected, version_text: str) -> bool:
    """Whether ``affected`` covers ``version_text``: listed, or inside a range."""
    if version_text in affected.versions or (
        affected.versions and canonical(version_text) in _listed(affected.versions)
    ):
        return True
    if not affected.ranges:
        return False
    version = parse_version(version_text)
    if version is None:
        return False  # only an exact listing can match a version PEP 440 cannot compare
    return any(in_range(version, r.events) for r in affected.ranges)


def fixes_above(ranges: Iterable[Range], version_text: str) -> tuple[str, ...]:
    """The ``fixed`` versions above ``version_text`` in ``ranges``, lowest first."""
    version = parse_version(version_text)
    found: dict[Version, str] = {}
    for r in ranges:
        for kind, text in r.events:
            bound = parse_version(text)
            if kind == "fixed" and bound is not None and (version is None or bound > version):
                found.setdefault(bound, text)
    return tuple(found[v] for v in sorted(found))


def severity_of(advisory: Advisory) -> tuple[Severity, float | None]:
    """The level and highest CVSS base score: ``malicious`` for MAL-, else CVSS, else words."""
    if advisory.malicious:
        return "malicious", None
    best: float | None = None
    for kind, vector in advisory.severity:
        score = _cvss_score(kind, vector)
        if score is not None and (best is None or score > best):
            best = score
    if best is not None:
        return next(level for floor, level in _CVSS_LEVELS if best >= floor), best
    word = (advisory.database_severity or "").upper()
    return _WORDS.get(word, "unknown"), None


@lru_cache(maxsize=4096)
def _cvss_score(kind: str, vector: str) -> float | None:
    """The base score of a CVSS vector (v2, v3.x, v4); ``None`` when it does not parse."""
    import cvss  # noqa: PLC0415 - only when an advisory matched

    try:
        if kind == "CVSS_V3":
            return float(cvss.CVSS3(vector).scores()[0])
        if kind == "CVSS_V4":
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V2":
            return float(cvss.CVSS2(vector).scores()[0])
    except (cvss.CVSSError, ValueError, KeyError, TypeError):
        return None
    return None


def _ignore_for(advisory: Advisory, package: Package, ignores: Sequence[Ignore]) -> Ignore | None:
    """The ignore naming this advisory (or an alias) for this package; the latest to expire."""
    names = {advisory.id, *advisory.aliases}
    matching = [
        i for i in ignores if i.id in names and (i.package is None or i.package == package.name)
    ]
    return max(matching, key=lambda i: i.expires) if matching else None


def match(
    packages: Iterable[Package],
    lookup: Lookup,
    *,
    ignores: Sequence[Ignore] = (),
    now: datetime,
) -> list[Finding]:
    """Every advisory matching every package, sorted by package, version and id."""
    findings: list[Finding] = []
    for package in packages:
        ecosystem, name = advisory_key(package)
        for advisory in lookup(ecosystem, name):
            if advisory.withdrawn is not None:
                continue  # 1.
            hits = [
                a
                for a in advisory.affected
                if a.ecosystem == ecosystem and a.name == name and affects(a, package.version)
            ]
            if not hits:
                continue
            severity, score = severity_of(advisory)
            ignore = _ignore_for(advisory, package, ignores)
            in_force = ignore if ignore is not None and ignore.active(now) else None
            expired = ignore if ignore is not None and not ignore.active(now) else None
            if advisory.malicious:
                in_force = None  # 4.
            findings.append(
                Finding(
                    package=package,
                    id=advisory.id,
                    aliases=advisory.aliases,
                    summary=advisory.summary,
                    severity=severity,
                    score=score,
                    fixed=fixes_above((r for a in hits for r in a.ranges), package.version),
                    url=advisory.url,
                    ignored_by=in_force,
                    expired_ignore=expired,
                )
            )
    return sorted(
        _unique(findings),
        key=lambda f: (f.package.name, f.package.version, f.package.ecosystem, f.id),
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per (package, advisory): a package listed twice is reported once."""
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for f in findings:
        key = (f.package.ecosystem, f.package.name, f.package.version, f.id)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def nearest_fix(findings: Sequence[Finding]) -> str | None:
    """The lowest version that fixes every one of ``findings`` (of one package), if one is known.

    Each finding's nearest fix is a floor; the highest floor is the first
    version that can fix them all. ``None`` when any finding has no known fix.
    """
    floors = [f.nearest_fix for f in findings]
    if not floors or any(f is None for f in floors):
        return None
    return max((f for f in floors if f is not None), key=lambda t: parse_version(t) or _ZERO)
