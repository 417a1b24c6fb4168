"""The Prometheus textfile of ``lockdown check``, for node_exporter's textfile collector.

Text exposition format 0.0.4: every metric is a gauge with ``# HELP`` and
``# TYPE``, named ``lockdown_…``, without timestamps (the collector refuses
them). Labels are bounded: drift ``kind`` and failure ``reason`` take fixed
values, every one always present (0 when none), so alert expressions never
meet a missing series; nothing is labelled per package or per file. The one
descriptive metric, ``lockdown_check_info``, carries the lock's sha256, the
level and the target's ``major.minor`` Python.

:func:`render_failure` writes the file for a check that could not run, so
the staleness alert stays quiet and the failure alert fires instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from lockdown import __version__
from lockdown.drift.model import FILE_KINDS, PACKAGE_KINDS, DriftReport
from lockdown.errors import EXIT_INTEGRITY, EXIT_USAGE, LockdownError, LockFileError

if TYPE_CHECKING:
    from lockdown.audit.model import AuditReport

FailureReason = Literal["usage", "lock", "signature", "environment", "internal"]
#: Why a check failed, as ``lockdown_check_failed{reason=…}`` says it:
#: ``usage`` bad flags or config (exit 64), ``lock`` an unreadable or invalid
#: lock (64), ``signature`` the lock's signature or integrity failed (16),
#: ``environment`` the target could not be read (70), ``internal`` anything else (70).
FAILURE_REASONS: tuple[FailureReason, ...] = get_args(FailureReason)

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One gauge and its samples, ready to be written in text exposition format."""

    name: str
    help: str
    samples: tuple[tuple[Labels, float], ...]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as the exposition format spells it (``1``, ``0.25``, ``+Inf``, ``NaN``)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def format_metrics(metrics: list[Metric]) -> str:
    """``# HELP``, ``# TYPE gauge`` and ``name{labels} value`` lines, newline-terminated."""
    lines = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} gauge")
        for labels, value in metric.samples:
            rendered = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels)
            selector = f"{metric.name}{{{rendered}}}" if labels else metric.name
            lines.append(f"{selector} {format_value(value)}")
    return "\n".join(lines) + "\n"


def _gauge(name: str, help_text: str, value: float) -> Metric:
    return Metric(name=name, help=help_text, samples=(((), value),))


def _by_label(name: str, help_text: str, label: str, values: Mapping[str, float]) -> Metric:
    return Metric(
        name=name,
        help=help_text,
        samples=tuple((((label, key),), value) for key, value in values.items()),
    )


def _failed(reason: FailureReason | None) -> Metric:
    return _by_label(
        "lockdown_check_failed",
        "1 if the last drift check could not run, by reason; all 0 after a completed check.",
        "reason",
        {r: int(r == reason) for r in FAILURE_REASONS},
    )


def _timing(checked_at: float, duration_seconds: float | None) -> list[Metric]:
    metrics = [
        _gauge(
            "lockdown_last_check_timestamp_seconds",
            "Unix time the last drift check started.",
            checked_at,
        )
    ]
    if duration_seconds is not None:
        metrics.append(
            _gauge(
                "lockdown_check_duration_seconds",
                "How long the last drift check took, in seconds.",
                duration_seconds,
            )
        )
    return metrics


def _signature(checked: bool, valid: bool) -> list[Metric]:
    return [
        _gauge(
            "lockdown_lock_signature_checked",
            "1 if the check looked for the lock's signature, 0 if it was not asked to.",
            int(checked),
        ),
        _gauge(
            "lockdown_lock_signature_valid",
            "1 if the lock's signature verified, 0 if it is missing, invalid or not checked.",
            int(valid),
        ),
    ]


def report_metrics(report: DriftReport) -> list[Metric]:
    """The metrics of a completed check, in a fixed order.

    File metrics appear only at the ``files`` and ``artifacts`` levels (at
    ``versions`` no file was looked at, and 0 would claim otherwise);
    ``lockdown_guard_enabled`` only when the check knows.
    """
    python = ".".join(report.python_version.split(".")[:2])
    metrics = [
        Metric(
            name="lockdown_check_info",
            help="The last drift check: lock digest, level, target Python, lockdown version.",
            samples=(
                (
                    (
                        ("lock_sha256", report.lock_sha256),
                        ("level", report.level),
                        ("python", python),
                        ("version", __version__),
                    ),
                    1,
                ),
            ),
        ),
        _failed(None),
        _gauge(
            "lockdown_check_exit_code",
            "Exit code of the last drift check: bitmask 1 unexpected, 2 missing, "
            "4 changed, 8 files; 16, 64, 70 when it failed.",
            report.exit_code(),
        ),
        *_timing(report.checked_at, report.duration_seconds),
        _gauge(
            "lockdown_in_sync",
            "1 if the environment matches its lock exactly at the checked level, else 0.",
            int(report.in_sync),
        ),
        _gauge(
            "lockdown_packages_expected",
            "Packages the lock says the target should have.",
            report.expected,
        ),
        _gauge(
            "lockdown_packages_installed",
            "Distributions installed in the target.",
            report.installed,
        ),
    ]
    package_counts = Counter(p.kind for p in report.packages)
    metrics.append(
        _by_label(
            "lockdown_drift_packages",
            "Packages that differ from the lock, by kind (unexpected, missing, version, source).",
            "kind",
            {kind: package_counts[kind] for kind in PACKAGE_KINDS},
        )
    )
    if report.level != "versions":
        file_counts = Counter(f.kind for f in report.files)
        metrics += [
            _gauge(
                "lockdown_files_checked",
                "Installed files checked against their RECORD.",
                report.files_checked,
            ),
            _by_label(
                "lockdown_drift_files",
                "Files that differ from their RECORD or the locked wheel, by kind.",
                "kind",
                {kind: file_counts[kind] for kind in FILE_KINDS},
            ),
            _gauge(
                "lockdown_drift_files_high_severity",
                "Drifted files that run code at interpreter start or point outside "
                "the environment.",
                sum(1 for f in report.files if f.severity == "high"),
            ),
        ]
    metrics += _signature(report.signature != "not-checked", report.signature == "verified")
    share = report.attested_share
    if share is not None and report.lock_attested is not None:
        metrics += [
            _gauge(
                "lockdown_lock_packages_attested",
                "Packages in the lock with verified PEP 740 attestation identities.",
                report.lock_attested,
            ),
            _gauge(
                "lockdown_lock_attested_ratio",
                "Share of the lock's packages with verified PEP 740 attestation identities "
                "(0 to 1).",
                share,
            ),
        ]
    if report.audit is not None:
        metrics += audit_metrics(report.audit)
    if report.guarded is not None:
        metrics.append(
            _gauge(
                "lockdown_guard_enabled",
                "1 if lockdown guard constrains pip in the target venv, else 0.",
                int(report.guarded),
            )
        )
    return metrics


def audit_metrics(audit: AuditReport) -> list[Metric]:
    """``check --audit``: findings by severity (every level always present), malicious
    package versions, ignored findings, and the advisory database's size and age."""
    from lockdown.audit.model import SEVERITIES  # noqa: PLC0415 - only with --audit

    counts = audit.counts()
    malicious = {(f.package.name, f.package.version) for f in audit.active if f.malicious}
    metrics = [
        _by_label(
            "lockdown_vulnerabilities",
            "Known vulnerabilities of installed versions that are not ignored, by severity "
            "(critical, high, medium, low: CVSS; unknown: none given).",
            "severity",
            {level: counts[level] for level in SEVERITIES if level != "malicious"},
        ),
        _gauge(
            "lockdown_malicious_packages",
            "Installed package versions known to be malicious (OSV MAL- entries).",
            len(malicious),
        ),
        _gauge(
            "lockdown_vulnerabilities_ignored",
            "Findings silenced by an ignore in force ([[tool.lockdown.audit.ignore]]).",
            len(audit.findings) - len(audit.active),
        ),
        _gauge(
            "lockdown_audit_advisories",
            "Advisories in the database the audit used (for the OSV API: fetched).",
            audit.database.advisories,
        ),
    ]
    age = audit.database.age(audit.audited_at)
    if age is not None:
        metrics.append(
            _gauge(
                "lockdown_audit_database_age_seconds",
                "Age of the advisory database (its newest entry, or the oldest API answer used).",
                int(age.total_seconds()),
            )
        )
    return metrics


def render_prometheus(report: DriftReport) -> str:
    """The textfile for a completed check."""
    return format_metrics(report_metrics(report))


def failure_reason(error: BaseException) -> FailureReason:
    """The ``reason`` label for an error that stopped a check.

    Exit 16 (a signature or integrity failure) is ``signature``; an invalid
    lock ``lock``; other usage errors (64) ``usage``; other lockdown errors
    (70: the target or the index could not be read) ``environment``; anything
    else (a bug) ``internal``.
    """
    if not isinstance(error, LockdownError):
        return "internal"
    if isinstance(error, LockFileError):
        return "lock"
    if error.exit_code == EXIT_INTEGRITY:
        return "signature"
    if error.exit_code == EXIT_USAGE:
        return "usage"
    return "environment"


def render_failure(
    reason_kind: FailureReason,
    *,
    checked_at: float,
    exit_code: int,
    duration_seconds: float | None = None,
) -> str:
    """The textfile for a check that could not run (the CLI writes it on errors).

    ``lockdown_check_failed{reason=reason_kind}`` is 1, the timestamp is fresh
    (so the staleness alert does not mask the failure) and no drift metrics
    are written: a check that did not run cannot say there is no drift. A
    ``signature`` failure also sets ``lockdown_lock_signature_valid`` to 0.
    """
    if reason_kind not in FAILURE_REASONS:
        raise ValueError(f"unknown failure reason {reason_kind!r}; one of {FAILURE_REASONS}")
    metrics = [
        _failed(reason_kind),
        _gauge(
            "lockdown_check_exit_code",
            "Exit code of the last drift check: bitmask 1 unexpected, 2 missing, "
            "4 changed, 8 files; 16, 64, 70 when it failed.",
            exit_code,
        ),
        *_timing(checked_at, duration_seconds),
    ]
    if reason_kind == "signature":
        metrics += _signature(checked=True, valid=False)
    return format_metrics(metrics)
