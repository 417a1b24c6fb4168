"""``lockdown audit`` and ``check --audit``: a target's packages against OSV advisories.

The steps are in :mod:`lockdown.audit.service`; this module chooses the
target and reads the packages the command names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.audit.model import AuditReport, Package
from lockdown.audit.service import (
    Notify,
    audit_packages,
    distinct,
    environment_packages,
    lock_lines,
    lock_packages,
    prefix_packages,
)
from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.errors import UsageError
from lockdown.names import normalize_name
from lockdown.progress import Reporter
from lockdown.report.results import AuditResult
from lockdown.timestamps import utc_now as _utc_now

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.config import Config
    from lockdown.drift.model import DriftReport


def run_audit(
    *,
    project: Path,
    config: Config | None,
    lock: Path | None = None,
    venv: Path | None = None,
    python: str | None = None,
    prefix: Path | None = None,
    db: Path | None = None,
    api_url: str | None = None,
    max_db_age: timedelta | None = None,
    cache_dir: Path | None = None,
    clock: Callable[[], datetime] = _utc_now,
    notify: Notify | None = None,
) -> tuple[AuditReport, dict[str, int]]:
    """Audit one target; see the module docstring. Returns the report and, for a lock,
    the line of each package in it (for SARIF locations)."""
    if sum(x is not None for x in (lock, venv, python, prefix)) > 1:
        raise UsageError("audit one target: --lock, --venv, --python or --prefix")
    now = clock()
    settings = config.audit if config is not None else None
    # 1. The packages.
    notes: list[str] = []
    lines: dict[str, int] = {}
    if venv is not None or python is not None:
        packages, target = environment_packages(venv, python)
        kind = "environment"
    elif prefix is not None:
        packages, target, kind = prefix_packages(prefix), str(prefix), "conda-prefix"
    else:
        from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

        path = find_lock(project, config, given=lock, kind="either")
        packages, kind, notes, data = lock_packages(
            path, cache_dir=cache_dir or default_cache_dir()
        )
        target = str(path)
        lines = lock_lines(data, [p.name for p in packages])
    report = audit_packages(
        packages,
        target=target,
        kind=kind,
        settings=settings,
        db=db,
        api_url=api_url,
        max_db_age=max_db_age,
        cache_dir=cache_dir,
        now=now,
        notify=notify,
        notes=notes,
    )
    return report, lines


def audit_drift(
    report: DriftReport,
    *,
    prefix: Path | None,
    config: Config | None,
    db: Path | None = None,
    cache_dir: Path | None = None,
    clock: Callable[[], datetime] = _utc_now,
    notify: Notify | None = None,
) -> AuditReport:
    """``check --audit``: what the checked target has installed, against advisories.

    A venv's installed versions come from the drift report (the packages
    installed as locked and the installed side of every drifted one); a
    conda prefix's from its ``conda-meta`` records.
    """
    if prefix is not None:
        packages, kind = prefix_packages(prefix), "conda-prefix"
    else:
        installed = {*report.matching}
        installed |= {(p.name, p.installed) for p in report.packages if p.installed}
        packages = distinct(
            [Package(ecosystem="PyPI", name=normalize_name(n), version=v) for n, v in installed]
        )
        kind = "environment"
    return audit_packages(
        packages,
        target=report.target,
        kind=kind,
        settings=config.audit if config is not None else None,
        db=db,
        api_url=None,
        max_db_age=None,
        cache_dir=cache_dir,
        now=clock(),
        notify=notify,
    )


def run(args: Args, reporter: Reporter) -> AuditResult:
    """``lockdown audit`` from its parsed arguments: audit the target; the result is the report."""
    max_age = None
    if args.max_db_age is not None:
        from lockdown.config.fields import parse_age  # noqa: PLC0415

        max_age = parse_age(args.max_db_age, "--max-db-age")
    config = optional_config(args.project)
    # A spinner on a terminal: a first audit indexes the whole database (seconds).
    with reporter.status("auditing against the advisory database"):
        report, lines = run_audit(
            project=args.project,
            config=config,
            lock=args.lock,
            venv=args.venv,
            python=args.python,
            prefix=args.prefix,
            db=args.db,
            api_url=args.api_url.rstrip("/") if args.api_url else None,
            max_db_age=max_age,
            cache_dir=args.cache_dir,
            notify=reporter.note,
        )
    return AuditResult(report=report, format=args.format, output=args.output, lines=lines)
