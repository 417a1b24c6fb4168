"""The JSON report of ``lockdown check``, versioned by ``schema_version``.

The schema is documented field by field in ``docs/drift-report.md``. Keys come
in a fixed order (``schema_version`` first) and lists are sorted (packages by
name, files by path), so two checks of the same state are byte-identical apart
from the time fields. Names found on disk go through
:func:`lockdown.report.text.printable`, so the output is always valid UTF-8
JSON even for file names that are not.
"""

from __future__ import annotations

import json

from lockdown import __version__
from lockdown.drift.model import (
    FILE_KINDS,
    PACKAGE_KINDS,
    SCHEMA_VERSION,
    DriftReport,
    FileDrift,
    PackageDrift,
)
from lockdown.report.text import printable


def _optional(text: str | None) -> str | None:
    return None if text is None else printable(text)


def package_to_dict(package: PackageDrift) -> dict[str, object]:
    """One drifted package as a JSON object."""
    return {
        "name": printable(package.name),
        "kind": package.kind,
        "expected": _optional(package.expected),
        "installed": _optional(package.installed),
        "detail": printable(package.detail),
    }


def file_to_dict(file: FileDrift) -> dict[str, object]:
    """One drifted file as a JSON object."""
    return {
        "path": printable(file.path),
        "kind": file.kind,
        "package": _optional(file.package),
        "flags": printable(file.flags),
        "severity": file.severity,
        "detail": printable(file.detail),
    }


def counts_to_dict(report: DriftReport) -> dict[str, object]:
    """Drift by kind, every kind always present: ``{"packages": {...}, "files": {...}, ...}``."""
    counts = report.counts()
    return {
        "packages": {kind: counts[f"packages_{kind}"] for kind in PACKAGE_KINDS},
        "files": {kind: counts[f"files_{kind}"] for kind in FILE_KINDS},
        "files_high_severity": sum(1 for f in report.files if f.severity == "high"),
    }


def provenance_to_dict(report: DriftReport) -> dict[str, object] | None:
    """The lock's PEP 740 attested share, or ``None`` when not known (a conda lock)."""
    share = report.attested_share
    if share is None:
        return None
    return {
        "packages": report.lock_packages,
        "attested": report.lock_attested,
        "attested_share": round(share, 4),
    }


def report_to_dict(report: DriftReport) -> dict[str, object]:
    """The report as JSON-ready data, keys in the documented order."""
    packages = sorted(report.packages, key=lambda p: (p.name, PACKAGE_KINDS.index(p.kind)))
    files = sorted(report.files, key=lambda f: (f.path, FILE_KINDS.index(f.kind)))
    return {
        "schema_version": SCHEMA_VERSION,
        "lockdown_version": __version__,
        "target": printable(report.target),
        "python_version": printable(report.python_version),
        "lock": printable(report.lock),
        "lock_sha256": report.lock_sha256,
        "signature": report.signature,
        "signer": _optional(report.signer),
        "guarded": report.guarded,
        "level": report.level,
        "checked_at": report.checked_at,
        "duration_seconds": report.duration_seconds,
        "exit_code": report.exit_code(),
        "in_sync": report.in_sync,
        "expected": report.expected,
        "installed": report.installed,
        "files_checked": report.files_checked,
        "provenance": provenance_to_dict(report),
        "counts": counts_to_dict(report),
        "packages": [package_to_dict(p) for p in packages],
        "files": [file_to_dict(f) for f in files],
        "notes": [printable(note) for note in report.notes],
        "audit": audit_to_dict(report),
    }


def audit_to_dict(report: DriftReport) -> dict[str, object] | None:
    """``check --audit``'s findings (see lockdown audit's JSON), or ``None`` without it."""
    if report.audit is None:
        return None
    from lockdown.report.audit import check_json  # noqa: PLC0415 - only with --audit

    return check_json(report.audit)


def render_json(report: DriftReport) -> str:
    """The JSON document, two-space indented, newline-terminated."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
