"""What each command says when it is done: a result in, the exact text and exit code out.

:func:`lockdown.report.messages.say` and :func:`lockdown.report.say_drift`
are pure; :func:`lockdown.report.emit` is the one place that writes, and is
tested here with the real streams and a real file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown.audit.model import AuditReport, DatabaseInfo
from lockdown.config.policy import Policy
from lockdown.drift.model import EXIT_MISSING
from lockdown.errors import EXIT_BLOCKED, EXIT_CHANGED, EXIT_OK, UsageError
from lockdown.lock.condalock import conda_entry
from lockdown.lock.model import Resolution
from lockdown.policy.advisories import GateAudit
from lockdown.policy.approvals import Approval
from lockdown.policy.gate import GateResult, judge
from lockdown.report import DriftResult, Said, emit, say_drift
from lockdown.report.audit import render_json as audit_json
from lockdown.report.gate import render_json, render_text
from lockdown.report.messages import say
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
    Result,
    SettingsWritten,
    Signed,
    Verified,
)
from lockdown.report.text import render_text as drift_text
from tests.policy.test_changes import state
from tests.report.test_text import clean_report

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
LOCK = Path("/srv/app/pylock.toml")


@dataclass(frozen=True)
class FakePlan:
    """An install plan as :class:`lockdown.report.plan.PrintablePlan` describes it."""

    selected: Sequence[str] = ()
    add: Sequence[str] = ()
    change: Sequence[str] = ()
    remove: Sequence[str] = ()
    changes: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not (self.add or self.change or self.remove)

    def lines(self) -> list[str]:
        return self.changes


def blocking() -> GateResult:
    """A minor upgrade without an approval: blocked."""
    return judge(
        [state("a", "1.0")],
        [state("a", "1.1")],
        policy=Policy(),
        approvals=[],
        now=NOW,
        cutoff=None,
    )


def first_lock() -> GateResult:
    return judge(None, [state("a", "1.0")], policy=Policy(), approvals=[], now=NOW, cutoff=None)


def audit_db() -> GateAudit:
    info = DatabaseInfo(
        kind="zip", location="/srv/osv.zip", digest="ab" * 32, advisories=7, newest=NOW
    )
    return GateAudit(database=info, checked=1)


# --- the commands that only say what they did ---

APPROVAL = Approval(
    package="idna",
    version="==3.7",
    reason="security fix",
    approved_by="alice@example.org",
    approved_at=NOW,
    expires=NOW + timedelta(days=14),
)


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (
            KeyPairWritten(private=Path("k/release.key"), public=Path("k/release.pub")),
            "wrote k/release.key (encrypted, mode 0600) and k/release.pub",
        ),
        (
            GuardInstalled(venv=Path("/v"), constraints=Path("/v/lockdown-constraints.txt")),
            "guarded /v: pip there is constrained by /v/lockdown-constraints.txt",
        ),
        (GuardRemoved(venv=Path("/v"), removed=True), "guard removed from /v"),
        (GuardRemoved(venv=Path("/v"), removed=False), "no guard in /v"),
        (
            Approved(path=Path("/srv/app/lockdown-approvals.toml"), approval=APPROVAL),
            "approved idna==3.7 by alice@example.org until 2026-03-15 09:30 UTC "
            "-> lockdown-approvals.toml",
        ),
        (
            Approved(
                path=Path("approvals.toml"),
                approval=Approval(
                    package="idna",
                    version="==3.7",
                    reason="r",
                    approved_by="bob",
                    approved_at=NOW,
                    expires=None,
                ),
            ),
            "approved idna==3.7 by bob -> approvals.toml",
        ),
        (
            SettingsWritten(path=Path("/p/pyproject.toml"), standalone=False),
            "wrote [tool.lockdown] in pyproject.toml; review it, then run lockdown lock",
        ),
        (
            SettingsWritten(path=Path("/p/lockdown.toml"), standalone=True),
            "wrote lockdown.toml; review it, then run lockdown lock",
        ),
        (
            Signed(path=LOCK, bundle=Path("/srv/app/pylock.toml.sigstore.json")),
            "signed /srv/app/pylock.toml -> /srv/app/pylock.toml.sigstore.json",
        ),
        (
            Verified(path=LOCK, signer="key abc", lock_note=" (checked as a lock)"),
            "verified /srv/app/pylock.toml: signed by key abc (checked as a lock)",
        ),
    ],
)
def test_a_command_that_did_something_says_it_in_one_line(result: Result, line: str) -> None:
    assert say(result, quiet=False) == Said(stdout=line + "\n", exit_code=EXIT_OK)
    assert say(result, quiet=True) == Said(exit_code=EXIT_OK)


def test_verify_provenance_lines_with_and_without_a_signature() -> None:
    signed = Verified(path=LOCK, signer="key abc", provenance=(2, 3))
    assert say(signed, quiet=False).stdout == (
        "verified /srv/app/pylock.toml: signed by key abc\n"
        "verified /srv/app/pylock.toml provenance: 2 attested packages (3 files) still "
        "attested by the publishers the lock records\n"
    )
    unsigned = Verified(path=LOCK, signer=None, provenance=(1, 1))
    assert say(unsigned, quiet=False).stdout == (
        "verified /srv/app/pylock.toml provenance: 1 attested package (1 file) still "
        "attested by the publishers the lock records (signature not checked: no trust policy)\n"
    )
    nothing = Verified(path=LOCK, signer=None, provenance=(0, 0))
    assert say(nothing, quiet=False).stdout == (
        "/srv/app/pylock.toml: records no attestation identities; no provenance to check "
        "(signature not checked: no trust policy)\n"
    )
    assert say(nothing, quiet=True) == Said()


# --- install ---


def test_install_says_the_signer_the_provenance_then_the_plan() -> None:
    plan = FakePlan(selected=("a", "b"), add=("a",), changes=["+ a==1.0"])
    result = Installed(
        plan=plan,
        target=Path("/v"),
        lock=LOCK,
        dry_run=False,
        created=True,
        signer="key abc",
        provenance=(1, 2),
    )
    assert say(result, quiet=False) == Said(
        stdout="verified /srv/app/pylock.toml: signed by key abc\n"
        "verified provenance: 1 package (2 files) still attested by their locked publishers\n"
        "+ a==1.0\n"
        "added 1, changed 0, removed 0 in /v (created)\n"
    )
    assert say(result, quiet=True) == Said()


def test_install_dry_run_that_would_change_exits_1_even_quiet() -> None:
    plan = FakePlan(selected=("a",), remove=("old",), changes=["- old==2.0"])
    result = Installed(plan=plan, target=Path("/v"), lock=LOCK, dry_run=True, created=False)
    assert say(result, quiet=False) == Said(
        stdout="- old==2.0\nwould add 0, change 0, remove 1 in /v (dry run: nothing changed)\n",
        exit_code=EXIT_CHANGED,
    )
    assert say(result, quiet=True) == Said(exit_code=EXIT_CHANGED)


def test_install_in_sync_names_the_lock_and_no_provenance_line_when_none_was_attested() -> None:
    plan = FakePlan(selected=("a", "b", "c"))
    result = Installed(
        plan=plan, target=Path("/v"), lock=LOCK, dry_run=True, created=False, provenance=(0, 0)
    )
    assert say(result, quiet=False) == Said(stdout="/v is in sync with pylock.toml (3 packages)\n")


# --- lock ---


def test_lock_check_says_current_on_stdout_and_stale_on_stderr_even_quiet() -> None:
    current = CheckOutcome(path=LOCK, current=True, reason="")
    assert say(current, quiet=False) == Said(stdout="pylock.toml is up to date\n")
    assert say(current, quiet=True) == Said()
    stale = CheckOutcome(path=LOCK, current=False, reason="pylock.toml does not exist")
    expected = Said(
        stderr="lockdown: pylock.toml does not exist; run lockdown lock\n", exit_code=EXIT_CHANGED
    )
    assert say(stale, quiet=False) == say(stale, quiet=True) == expected


def conda_locked(gate: GateResult, vulnerabilities: GateAudit | None = None) -> CondaLockOutcome:
    """Two packages on two platforms: four archives."""
    platforms = ("linux-64", "osx-arm64")
    entries = tuple(
        conda_entry(
            name=name,
            version="1.0",
            build="0",
            platform=platform,
            url=f"https://conda.example/c/{platform}/{name}-1.0-0.conda",
            md5="0" * 32,
            sha256="ab" * 32,
            dependencies={},
            channel="https://conda.example/c",
        )
        for name in ("alpha", "beta")
        for platform in platforms
    )
    return CondaLockOutcome(
        path=Path("/p/conda-lock.yml"),
        changed=True,
        packages=entries,
        platforms=platforms,
        gate=gate,
        vulnerabilities=vulnerabilities,
    )


def test_a_blocked_lock_says_why_on_stderr_with_exit_3_even_quiet() -> None:
    gate = blocking()
    result = conda_locked(gate, audit_db())
    expected = Said(
        stderr="lockdown: vulnerabilities: 1 new or changed version checked against export zip "
        "/srv/osv.zip (7 advisories, newest entry 2026-03-01, under a minute old, "
        f"sha256 {'ab' * 6}): none known\n"
        "lockdown: 1 change blocked by policy; conda-lock.yml unchanged\n"
        + render_text(gate, admitted=False),
        exit_code=EXIT_BLOCKED,
    )
    assert say(result, quiet=False, now=NOW) == expected
    assert say(result, quiet=True, now=NOW) == expected
    assert render_text(gate, admitted=False).startswith("  BLOCKED  a 1.0 \u2192 1.1 (")


def test_a_conda_lock_says_what_it_locked_and_what_the_gate_admitted() -> None:
    patch = judge(
        [state("a", "1.0")],
        [state("a", "1.0.1")],
        policy=Policy(auto_approve=frozenset({"patch"})),
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    off = GateAudit(database=None, checked=0, off='vulnerable = "off"')
    header = (
        "locked 2 conda packages (4 archives, md5 and sha256 pinned) for linux-64, "
        "osx-arm64 -> conda-lock.yml (updated)\n"
    )
    assert say(conda_locked(patch, off), quiet=False, now=NOW) == Said(
        stdout=header
        + 'lockdown: vulnerabilities: not checked (vulnerable = "off")\n'
        + "changes:\n"
        + "  ok       a 1.0 \u2192 1.0.1 (patch upgrade; auto-approved)\n"
    )
    assert say(conda_locked(patch, off), quiet=True, now=NOW) == Said()
    # A first lock that admitted nothing in particular, without a vulnerability step.
    assert say(conda_locked(first_lock()), quiet=False, now=NOW) == Said(stdout=header)


def test_a_python_lock_measures_its_database_age_with_the_clock_given() -> None:
    # say's now reaches the summary's vulnerability line as it does conda's.
    locked = LockOutcome(
        path=LOCK,
        changed=False,
        resolution=Resolution(packages=(), environments=(), resolver="uv", resolver_version="0"),
        gate=first_lock(),
        vulnerabilities=audit_db(),
    )
    said = say(locked, quiet=False, now=NOW)
    assert said.stdout.splitlines()[1] == (
        "vulnerabilities: 1 new or changed version checked against export zip /srv/osv.zip "
        f"(7 advisories, newest entry 2026-03-01, under a minute old, sha256 {'ab' * 6}): "
        "none known"
    )


# --- diff, export, audit: a format, for stdout or a file ---


def test_diff_renders_to_stdout_or_its_file_and_exits_3_when_blocked(tmp_path: Path) -> None:
    gate = blocking()
    text = render_text(gate)
    assert say(GateReport(gate=gate, format="text", output=None), quiet=False) == Said(
        stdout=text, exit_code=EXIT_BLOCKED
    )
    # Quiet hides verdicts that block nothing, never a block.
    assert say(GateReport(gate=gate, format="text", output=None), quiet=True) == Said(
        stdout=text, exit_code=EXIT_BLOCKED
    )
    admitted = first_lock()
    assert say(GateReport(gate=admitted, format="text", output=None), quiet=True) == Said()
    out = tmp_path / "diff.json"
    assert say(GateReport(gate=gate, format="json", output=out), quiet=True) == Said(
        file=(out, render_json(gate).encode("utf-8")), exit_code=EXIT_BLOCKED
    )


def test_export_goes_to_stdout_even_quiet_or_to_its_file_with_a_note(tmp_path: Path) -> None:
    data = b"idna==3.7 \\\n    --hash=sha256:00\n"
    assert say(Exported(data=data, output=None), quiet=True) == Said(stdout=data.decode())
    out = tmp_path / "requirements.txt"
    assert say(Exported(data=data, output=out), quiet=False) == Said(
        file=(out, data), stderr=f"lockdown: wrote {out}\n"
    )
    assert say(Exported(data=data, output=out), quiet=True) == Said(file=(out, data))


def test_audit_renders_its_format_and_quiet_text_says_only_the_exit_code(tmp_path: Path) -> None:
    info = DatabaseInfo(kind="zip", location="/srv/osv.zip", digest=None, advisories=0, newest=None)
    report = AuditReport(
        target=str(LOCK), kind="lock", packages=(), findings=(), database=info, audited_at=NOW
    )
    assert say(AuditResult(report=report, format="text", output=None), quiet=True) == Said()
    out = tmp_path / "audit.json"
    assert say(AuditResult(report=report, format="json", output=out), quiet=True) == Said(
        file=(out, audit_json(report).encode("utf-8"))
    )


# --- check ---


def test_check_renders_its_format_and_quiet_text_says_only_the_exit_code(tmp_path: Path) -> None:
    report = clean_report()
    assert say_drift(DriftResult(report, "text", None), quiet=False) == Said(
        stdout=drift_text(report)
    )
    assert say_drift(DriftResult(report, "text", None), quiet=True) == Said()
    # Colors only for a text report on stdout.
    assert say_drift(DriftResult(report, "text", None), quiet=False, color=True) == Said(
        stdout=drift_text(report, color=True)
    )
    out = tmp_path / "check.txt"
    assert say_drift(DriftResult(report, "text", out), quiet=True, color=True) == Said(
        file=(out, drift_text(report).encode("utf-8"))
    )


def test_check_exit_code_is_the_reports_bitmask_even_quiet() -> None:
    from tests.report.test_text import drifted_report

    report = drifted_report()
    assert report.exit_code() & EXIT_MISSING
    assert say_drift(DriftResult(report, "text", None), quiet=True) == Said(
        exit_code=report.exit_code()
    )


# --- emit: the one place that writes ---


def test_emit_writes_the_file_stdout_and_stderr_and_returns_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "requirements.txt"
    out.write_text("old\n")
    assert emit(Exported(data=b"idna==3.7\n", output=out), quiet=False) == EXIT_OK
    assert out.read_bytes() == b"idna==3.7\n"
    assert capsys.readouterr() == ("", f"lockdown: wrote {out}\n")
    stale = CheckOutcome(path=LOCK, current=False, reason="pylock.toml is stale")
    assert emit(stale, quiet=True) == EXIT_CHANGED
    assert capsys.readouterr() == ("", "lockdown: pylock.toml is stale; run lockdown lock\n")
    assert emit(DriftResult(clean_report(), "text", None), quiet=False) == EXIT_OK
    assert capsys.readouterr() == (drift_text(clean_report()), "")


def test_emit_leaves_no_line_saying_a_file_was_written_when_it_was_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing-dir" / "requirements.txt"
    with pytest.raises(UsageError, match="cannot write"):
        emit(Exported(data=b"idna==3.7\n", output=out), quiet=False)
    assert capsys.readouterr() == ("", "")
