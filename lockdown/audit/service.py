"""The packages of a lock or an environment against OSV advisories (``lockdown audit``'s steps).

The steps, in order:

1. the target's packages: every pinned name and version of a lock
   (``pylock.toml``, or a ``conda-lock.yml`` with its ``pip:`` wheels), or
   every distribution installed in a venv / interpreter (read from its
   dist-info, never imported), or every package of a conda prefix (its
   ``conda-meta`` records);
2. the database: ``--db`` (or ``[tool.lockdown.audit] db``), read offline and
   indexed once; or the OSV API (``--api-url``, ``[tool.lockdown.audit]
   api-url``, else the public one), asked in batches, its answers cached;
3. fail closed when the database holds no advisories at all, or is older
   than ``--max-db-age`` (or the configured ``max-db-age``);
4. match (:mod:`lockdown.audit.match`), ignores and the clock passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.audit.match import match
from lockdown.audit.model import AuditReport, Package
from lockdown.audit.sources import (
    AdvisoryDatabase,
    check_database,
    open_database,
)
from lockdown.errors import LockdownError, UsageError
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from lockdown.config.audit import AuditSettings

Notify = Callable[[str], None]


#: Bumped when the cached reading of a lock changes.
_LOCK_CACHE_FORMAT = 1


def lock_packages(
    path: Path, *, cache_dir: Path | None = None
) -> tuple[list[Package], str, list[str], bytes]:
    """The packages a lock pins, its kind (``lock`` / ``conda-lock``), notes, and its bytes.

    The lock is read once; those bytes are parsed and validated (PEP 751 with
    ``packaging.pylock``, or conda-lock's format) — or, when a lock with the
    same sha256 was read before, its packages come from ``cache_dir`` (the
    validation's answer for exactly these bytes), which saves a warm audit
    importing and running the validator.
    """
    import hashlib  # noqa: PLC0415

    from lockdown.fsutil import read_lock_bytes  # noqa: PLC0415

    conda = path.suffix in (".yml", ".yaml")
    data = read_lock_bytes(path, hint="run lockdown lock --conda" if conda else "run lockdown lock")
    digest = hashlib.sha256(data).hexdigest()
    cache = cache_dir / "audit" / f"lock-{digest[:32]}.json" if cache_dir is not None else None
    cached = _cached_lock(cache, digest) if cache is not None else None
    if cached is not None:
        return (*cached, data)
    notes: list[str] = []
    if conda:
        from lockdown.audit.model import conda_packages  # noqa: PLC0415
        from lockdown.lock.condalock import parse_conda_lock_bytes  # noqa: PLC0415

        packages = conda_packages(parse_conda_lock_bytes(data, path).packages)
        kind = "conda-lock"
    else:
        from lockdown.lock.pylock import parse_lock_bytes  # noqa: PLC0415

        _raw, model = parse_lock_bytes(data, path)
        packages = []
        for package in model.packages:
            name = normalize_name(package.name)
            if package.version is None:
                notes.append(
                    f"{name}: locked without a version (a VCS or path source); not audited"
                )
                continue
            packages.append(Package(ecosystem="PyPI", name=name, version=str(package.version)))
        kind = "lock"
    packages = distinct(packages)
    if cache is not None:
        _store_lock(cache, digest, packages, kind, notes)
    return packages, kind, notes, data


def _cached_lock(path: Path, digest: str) -> tuple[list[Package], str, list[str]] | None:
    import json  # noqa: PLC0415

    try:
        doc = json.loads(path.read_bytes())
        if doc["format"] != _LOCK_CACHE_FORMAT or doc["sha256"] != digest:
            return None
        packages = [
            Package(ecosystem=str(e), name=str(n), version=str(v), python=bool(p))
            for e, n, v, p in doc["packages"]
        ]
        return packages, str(doc["kind"]), [str(n) for n in doc["notes"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _store_lock(
    path: Path, digest: str, packages: Sequence[Package], kind: str, notes: Sequence[str]
) -> None:
    import json  # noqa: PLC0415

    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    doc = {
        "format": _LOCK_CACHE_FORMAT,
        "sha256": digest,
        "kind": kind,
        "notes": list(notes),
        "packages": [[p.ecosystem, p.name, p.version, p.python] for p in packages],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(doc).encode("utf-8"))
    except (OSError, LockdownError):
        pass  # a cache that cannot be written only costs the next run time


def environment_packages(venv: Path | None, python: str | None) -> tuple[list[Package], str]:
    """The distributions installed in a venv or an interpreter's environment, and its path."""
    from lockdown.env.python_env import (  # noqa: PLC0415
        inspect_interpreter,
        installed_distributions,
        target_interpreter,
    )

    interpreter, _exists = target_interpreter(venv, python)
    target = inspect_interpreter(interpreter)
    installed = installed_distributions(target.site_packages)
    packages = [Package(ecosystem="PyPI", name=d.name, version=d.version) for d in installed]
    where = target.prefix if target.in_venv else target.executable
    return distinct(packages), str(where)


def prefix_packages(prefix: Path) -> list[Package]:
    """The packages of a conda prefix, from its ``conda-meta`` records."""
    from lockdown.env.conda_meta import read_prefix  # noqa: PLC0415

    return distinct(
        [
            Package(
                ecosystem="conda",
                name=r.name,
                version=r.version,
                python=any(d.split()[0] == "python" for d in r.depends if d.strip()),
            )
            for r in read_prefix(prefix)
        ]
    )


def distinct(packages: Sequence[Package]) -> list[Package]:
    """The packages, each once, in a stable order."""
    return sorted(set(packages), key=lambda p: (p.name, p.version, p.ecosystem))


def open_source(
    packages: Sequence[Package],
    *,
    db: Path | None,
    api_url: str | None,
    settings: AuditSettings | None,
    cache_dir: Path,
    now: datetime,
    max_age: timedelta | None,
    notify: Notify | None,
) -> AdvisoryDatabase:
    """The flags' database (``--db``, else ``--api-url``), else the configured one."""
    if db is None and api_url is None and settings is not None:
        db, api_url = settings.db, settings.api_url
    if db is not None:
        return open_database(db, cache_dir=cache_dir, notify=notify)
    if api_url is not None:
        from lockdown.audit.sources import api_database  # noqa: PLC0415

        answered = api_database(
            api_url, packages, cache_dir=cache_dir, now=now, max_age=max_age, notify=notify
        )
        assert answered is not None  # noqa: S101 - only an offline lookup answers None
        return answered
    raise UsageError(
        "no advisory database given",
        hint="pass --db DIR_OR_ZIP or --api-url [URL], or set [tool.lockdown.audit] db or api-url",
    )


def lock_lines(data: bytes, names: Sequence[str]) -> dict[str, int]:
    """The line of each package's ``name = …`` (or ``- name: …``) in a lock, 1-based."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    wanted = {normalize_name(n): n for n in names}
    pattern = re.compile(r"""^\s*-?\s*name\s*[=:]\s*["']?([^"'\s]+)["']?\s*$""")
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = pattern.match(line)
        if found is not None:
            key = normalize_name(found.group(1))
            if key in wanted:
                lines.setdefault(wanted[key], number)
    return lines


def audit_packages(
    packages: Sequence[Package],
    *,
    target: str,
    kind: str,
    settings: AuditSettings | None,
    db: Path | None,
    api_url: str | None,
    max_db_age: timedelta | None,
    cache_dir: Path | None,
    now: datetime,
    notify: Notify | None,
    notes: Sequence[str] = (),
) -> AuditReport:
    """Steps 2 to 4 for packages already read (``audit`` and ``check --audit``)."""
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    # 2. The database.
    limit = max_db_age if max_db_age is not None else settings.max_db_age if settings else None
    database = open_source(
        packages,
        db=db,
        api_url=api_url,
        settings=settings,
        cache_dir=cache_dir or default_cache_dir(),
        now=now,
        max_age=limit,
        notify=notify,
    )
    # 3. Fail closed on an empty or stale one.
    check_database(database.info, now=now, max_age=limit)
    # 4. Match.
    findings = match(
        packages, database.lookup, ignores=settings.ignores if settings else (), now=now
    )
    return AuditReport(
        target=target,
        kind=kind,  # type: ignore[arg-type]
        packages=tuple(packages),
        findings=tuple(findings),
        database=database.info,
        audited_at=now,
        notes=tuple(notes),
    )
