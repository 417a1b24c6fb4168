"""What each command says when it is done: a result in, the exact text and exit code out.

Pure: :func:`say` writes nothing (:func:`lockdown.report.emit` does), and
the clock a vulnerability line measures the database's age with is passed
in. ``--quiet`` silences what a command did, never what it refused: a
blocked lock, a stale lock and a blocking ``diff`` still say why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockdown.errors import EXIT_BLOCKED, EXIT_CHANGED, EXIT_OK
from lockdown.report import Said, to_output
from lockdown.report.outcomes import CheckOutcome, CondaLockOutcome, LockOutcome
from lockdown.report.results import (
    Approved,
    AuditResult,
    Exported,
    GateReport,
    GuardInstalled,
    GuardRemoved,
    Installed,
    KeyPairWritten,
    SettingsWritten,
    Signed,
    Verified,
)

if TYPE_CHECKING:
    from datetime import datetime

    from lockdown.report.results import Result


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def say(result: Result, *, quiet: bool, now: datetime | None = None) -> Said:
    """What ``result`` says with ``--quiet`` (``quiet``) or without, and its exit code.

    ``now`` (UTC) is when a vulnerability line measures its database's age;
    ``None``: the current time.
    """
    if isinstance(result, (LockOutcome, CondaLockOutcome)):
        return _say_lock(result, quiet=quiet, now=now)
    if isinstance(result, CheckOutcome):
        if not result.current:
            return Said(
                stderr=_lines(f"lockdown: {result.reason}; run lockdown lock"),
                exit_code=EXIT_CHANGED,
            )
        return Said(stdout="" if quiet else _lines(f"{result.path.name} is up to date"))
    if isinstance(result, GateReport):
        return _say_gate(result, quiet=quiet)
    if isinstance(result, Exported):
        if result.output is None:  # the export itself, even with --quiet
            return Said(stdout=result.data.decode("utf-8"))
        return Said(
            file=(result.output, result.data),
            stderr="" if quiet else _lines(f"lockdown: wrote {result.output}"),
        )
    if isinstance(result, AuditResult):
        code = result.report.exit_code()
        if quiet and result.format == "text" and result.output is None:
            return Said(exit_code=code)
        from lockdown.report.audit import render  # noqa: PLC0415

        return to_output(render(result.report, result.format, result.lines), result.output, code)
    if isinstance(result, Installed):
        return _say_installed(result, quiet=quiet)
    return Said(stdout="" if quiet else _lines(*_done(result)))


def _done(
    result: KeyPairWritten
    | GuardInstalled
    | GuardRemoved
    | Approved
    | SettingsWritten
    | Signed
    | Verified,
) -> list[str]:
    """The lines of a command that only says what it did (nothing with ``--quiet``)."""
    if isinstance(result, KeyPairWritten):
        return [f"wrote {result.private} (encrypted, mode 0600) and {result.public}"]
    if isinstance(result, GuardInstalled):
        return [f"guarded {result.venv}: pip there is constrained by {result.constraints}"]
    if isinstance(result, GuardRemoved):
        return [
            f"guard removed from {result.venv}" if result.removed else f"no guard in {result.venv}"
        ]
    if isinstance(result, Approved):
        approval = result.approval
        until = f" until {approval.expires:%Y-%m-%d %H:%M} UTC" if approval.expires else ""
        return [
            f"approved {approval.package}{approval.version} by {approval.approved_by}"
            f"{until} -> {result.path.name}"
        ]
    if isinstance(result, SettingsWritten):
        where = result.path.name if result.standalone else f"[tool.lockdown] in {result.path.name}"
        return [f"wrote {where}; review it, then run lockdown lock"]
    if isinstance(result, Signed):
        return [f"signed {result.path} -> {result.bundle}"]
    return _verified(result)


def _verified(result: Verified) -> list[str]:
    """``verify``: the signature's line, then ``--provenance``'s."""
    lines = []
    if result.signer is not None:
        lines.append(f"verified {result.path}: signed by {result.signer}{result.lock_note}")
    if result.provenance is not None:
        unsigned = "" if result.signer is not None else " (signature not checked: no trust policy)"
        packages, files = result.provenance
        if not packages:
            lines.append(
                f"{result.path}: records no attestation identities; no provenance to check"
                f"{unsigned}"
            )
        else:
            lines.append(
                f"verified {result.path} provenance: {_plural(packages, 'attested package')} "
                f"({_plural(files, 'file')}) still attested by the publishers the lock "
                f"records{unsigned}"
            )
    return lines


def _say_installed(result: Installed, *, quiet: bool) -> Said:
    """``install``: the signer and provenance checked, then the plan; exit 1 for a dry run
    that would change something."""
    from lockdown.report.plan import plan_text  # noqa: PLC0415

    code = EXIT_CHANGED if result.dry_run and not result.plan.in_sync else EXIT_OK
    if quiet:
        return Said(exit_code=code)
    lines = []
    if result.signer:
        lines.append(f"verified {result.lock}: signed by {result.signer}")
    if result.provenance is not None and result.provenance[0]:
        packages, files = result.provenance
        lines.append(
            f"verified provenance: {_plural(packages, 'package')} ({_plural(files, 'file')}) "
            "still attested by their locked publishers"
        )
    plan = plan_text(
        result.plan, result.target, result.lock, result.dry_run, created=result.created
    )
    return Said(stdout=_lines(*lines) + plan, exit_code=code)


def _say_lock(result: LockOutcome | CondaLockOutcome, *, quiet: bool, now: datetime | None) -> Said:
    """``lock`` and ``lock --conda``: what was locked and the gate's verdicts; a block (exit 3)
    on stderr, even with ``--quiet``."""
    from lockdown.report.gate import (  # noqa: PLC0415
        blocked_text,
        render_findings,
        render_text,
        vulnerability_line,
    )

    if now is None:
        from datetime import datetime, timezone  # noqa: PLC0415

        now = datetime.now(timezone.utc)
    gate = result.gate
    if gate.blocked:
        return Said(
            stderr=vulnerability_line(result.vulnerabilities, now)
            + blocked_text(gate, result.path),
            exit_code=EXIT_BLOCKED,
        )
    if quiet:
        return Said()
    if isinstance(result, LockOutcome):
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        text = _lines(summarize(result, now))
    else:
        names = len({p.name for p in result.packages})
        text = _lines(
            f"locked {names} conda packages ({len(result.packages)} archives, md5 and "
            f"sha256 pinned) for {', '.join(result.platforms)} -> {result.path.name} "
            f"({'updated' if result.changed else 'unchanged'})"
        )
        text += vulnerability_line(result.vulnerabilities, now, always=True)
    if gate.changes or gate.verdicts:
        # A first lock has no changes, but may have admitted verdicts (a known
        # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
        text += _lines("changes:" if gate.changes else "admitted:") + render_text(gate)
    elif gate.findings and isinstance(result, LockOutcome):
        text += _lines("\n".join(render_findings(gate)))
    return Said(stdout=text)


def _say_gate(result: GateReport, *, quiet: bool) -> Said:
    """``diff``: the verdicts in their format, to ``--output`` or stdout (with ``--quiet``, only
    when something is blocked); exit 3 when something is."""
    from lockdown.report.gate import render  # noqa: PLC0415

    code = EXIT_BLOCKED if result.gate.blocked else EXIT_OK
    text = render(result.gate, result.format)
    if result.output is not None:
        return Said(file=(result.output, text.encode("utf-8")), exit_code=code)
    if quiet and not result.gate.blocked:
        return Said(exit_code=code)
    return Said(stdout=text, exit_code=code)
