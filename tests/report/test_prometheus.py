"""The Prometheus textfile: parsed back by prometheus_client and by a strict line checker.

Also the failure textfile the CLI writes when a check cannot run, and
``write_report`` writing a textfile atomically.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lockdown import __version__
from lockdown.cli import build_parser
from lockdown.errors import IntegrityError, LockdownError, LockFileError, UsageError
from lockdown.report.prometheus import (
    FAILURE_REASONS,
    failure_reason,
    format_value,
    render_failure,
    render_prometheus,
)
from lockdown.report.render import render, write_report
from lockdown.sign.interface import SignatureError
from tests.report.test_text import LOCK_SHA256, clean_report, drifted_report

PACKAGE_KINDS = ("unexpected", "missing", "version", "source")
FILE_KINDS = ("modified", "missing", "unowned", "escape", "symlink", "record")
#: Every label lockdown may write; all have bounded values.
BOUNDED_LABELS = {"kind", "reason", "lock_sha256", "level", "python", "version"}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
_SAMPLE = re.compile(
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>{_LABEL}(?:,{_LABEL})*)\}})? (?P<value>\S+)$"
)


_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_UNESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r"\\.", lambda m: _UNESCAPES[m.group()], value)


def strict_check(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Check ``text`` line by line against the exposition format and lockdown's rules.

    Returns the samples: ``{(name, labels): value}``. Fails on: a missing final
    newline, blank lines, a sample without ``# HELP`` and ``# TYPE gauge`` before
    it, a timestamp (a third field), an unparsable value, a name without the
    ``lockdown_`` prefix, an unbounded label, a duplicate series or metadata.
    """
    assert text.endswith("\n")
    helped: set[str] = set()
    typed: set[str] = set()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in text[:-1].split("\n"):
        assert line, "blank line"
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP ") :].partition(" ")
            assert name not in helped
            assert help_text
            helped.add(name)
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            assert name in helped
            assert name not in typed
            assert kind == "gauge"
            typed.add(name)
        else:
            assert not line.startswith("#"), line
            match = _SAMPLE.match(line)
            assert match, f"not `name{{labels}} value` (or has a timestamp): {line!r}"
            name = match["name"]
            assert name.startswith("lockdown_")
            assert name in typed, f"{name} has no # HELP/# TYPE before its samples"
            labels = tuple(
                (key, _unescape(value))
                for key, value in re.findall(_LABEL_PAIR, match["labels"] or "")
            )
            assert {key for key, _ in labels} <= BOUNDED_LABELS, labels
            value = float(match["value"])  # raises on anything that is not a number
            assert (name, labels) not in samples, f"duplicate series {line!r}"
            samples[name, labels] = value
    assert helped == typed
    assert {name for name, _ in samples} == typed, "metadata without samples"
    return samples


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples as prometheus_client's own parser reads them; must agree with strict_check."""
    parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"
        assert family.documentation
        for sample in family.samples:
            assert sample.timestamp is None
            parsed[sample.name, tuple(sample.labels.items())] = sample.value
    assert parsed == strict_check(text)
    return parsed


def by_kind(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str
) -> dict[str, float]:
    return {dict(labels)["kind"]: value for (n, labels), value in samples.items() if n == name}


def test_drifted_report() -> None:
    samples = parse(render_prometheus(drifted_report()))
    assert by_kind(samples, "lockdown_drift_packages") == dict.fromkeys(PACKAGE_KINDS, 1.0)
    assert by_kind(samples, "lockdown_drift_files") == {
        "modified": 2,
        "missing": 1,
        "unowned": 1,
        "escape": 1,
        "symlink": 1,
        "record": 1,
    }
    info = (
        ("lock_sha256", LOCK_SHA256),
        ("level", "artifacts"),
        ("python", "3.11"),
        ("version", __version__),
    )
    assert samples["lockdown_check_info", info] == 1
    assert {name: value for (name, labels), value in samples.items() if not labels} == {
        "lockdown_check_exit_code": 15,
        "lockdown_last_check_timestamp_seconds": 1718000000.25,
        "lockdown_check_duration_seconds": 0.042,
        "lockdown_in_sync": 0,
        "lockdown_packages_expected": 14,
        "lockdown_packages_installed": 12,
        "lockdown_files_checked": 230,
        "lockdown_drift_files_high_severity": 3,
        "lockdown_lock_signature_checked": 1,
        "lockdown_lock_signature_valid": 1,
        "lockdown_guard_enabled": 0,
        "lockdown_lock_packages_attested": 12,
        "lockdown_lock_attested_ratio": 0.75,
    }
    failed = {
        dict(labels)["reason"]: v
        for (n, labels), v in samples.items()
        if n == "lockdown_check_failed"
    }
    assert failed == dict.fromkeys(FAILURE_REASONS, 0.0)


def test_clean_versions_level_has_every_package_kind_and_no_file_metrics() -> None:
    text = render(clean_report(), "prometheus")
    samples = parse(text)
    assert by_kind(samples, "lockdown_drift_packages") == dict.fromkeys(PACKAGE_KINDS, 0.0)
    names = {name for name, _ in samples}
    assert not names & {
        "lockdown_drift_files",
        "lockdown_files_checked",
        "lockdown_drift_files_high_severity",
        "lockdown_guard_enabled",  # not known
        "lockdown_lock_attested_ratio",  # not known either
        "lockdown_lock_packages_attested",
    }
    assert samples["lockdown_in_sync", ()] == 1
    assert samples["lockdown_check_exit_code", ()] == 0
    assert samples["lockdown_lock_signature_checked", ()] == 0
    assert samples["lockdown_lock_signature_valid", ()] == 0


def test_clean_files_level_has_every_file_kind() -> None:
    samples = parse(render_prometheus(clean_report("files")))
    assert by_kind(samples, "lockdown_drift_files") == dict.fromkeys(FILE_KINDS, 0.0)
    assert samples["lockdown_drift_files_high_severity", ()] == 0


@pytest.mark.parametrize(
    ("signature", "checked", "valid"),
    [("verified", 1, 1), ("unsigned", 1, 0), ("not-checked", 0, 0)],
)
def test_signature_gauges(signature: str, checked: int, valid: int) -> None:
    report = clean_report()._replace(signature=signature)  # type: ignore[arg-type]
    samples = parse(render_prometheus(report))
    assert samples["lockdown_lock_signature_checked", ()] == checked
    assert samples["lockdown_lock_signature_valid", ()] == valid


def test_no_timestamps_and_no_names_from_disk() -> None:
    text = render_prometheus(drifted_report())
    for line in text.splitlines():
        if not line.startswith("#"):
            after = line.rsplit("}", 1)[1] if "}" in line else line.split(" ", 1)[1]
            assert len(after.split()) == 1, f"a value and nothing else: {line!r}"
    for name in ("alpha", "devtool", "site-packages", "passwd"):
        assert name not in text


def test_label_values_are_escaped() -> None:
    report = clean_report()._replace(python_version='3.1"1\\\n')
    samples = parse(render_prometheus(report))
    (info,) = [labels for name, labels in samples if name == "lockdown_check_info"]
    assert dict(info)["python"] == '3.1"1\\\n'


@pytest.mark.parametrize("reason", FAILURE_REASONS)
def test_failure_textfile(reason: str) -> None:
    text = render_failure(reason, checked_at=1718000000.0, exit_code=70)  # type: ignore[arg-type]
    samples = parse(text)
    failed = {
        dict(labels)["reason"]: v
        for (n, labels), v in samples.items()
        if n == "lockdown_check_failed"
    }
    assert failed == {r: float(r == reason) for r in FAILURE_REASONS}
    assert samples["lockdown_last_check_timestamp_seconds", ()] == 1718000000
    assert samples["lockdown_check_exit_code", ()] == 70
    names = {name for name, _ in samples}
    # A check that did not run says nothing about drift.
    assert not any(name.startswith("lockdown_drift_") for name in names)
    assert "lockdown_in_sync" not in names
    assert "lockdown_check_duration_seconds" not in names
    if reason == "signature":
        assert samples["lockdown_lock_signature_checked", ()] == 1
        assert samples["lockdown_lock_signature_valid", ()] == 0
    else:
        assert "lockdown_lock_signature_valid" not in names


def test_failure_textfile_with_duration() -> None:
    text = render_failure("environment", checked_at=1.5, exit_code=70, duration_seconds=0.25)
    assert parse(text)["lockdown_check_duration_seconds", ()] == 0.25


def test_failure_reason_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown failure reason 'disk'"):
        render_failure("disk", checked_at=0.0, exit_code=70)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SignatureError("no trusted signer made pylock.toml.sigstore.json"), "signature"),
        (IntegrityError("lock digest mismatch"), "signature"),
        (LockFileError("pylock.toml: not a PEP 751 lock"), "lock"),
        (UsageError("/srv/app/.venv is not a virtual environment"), "usage"),
        (LockdownError("cannot read the target's site-packages"), "environment"),
        (RuntimeError("bug"), "internal"),
    ],
)
def test_failure_reason(error: BaseException, reason: str) -> None:
    assert failure_reason(error) == reason


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (True, "1"),
        (0.25, "0.25"),
        (1718000000.0, "1718000000"),
        (1718000000.25, "1718000000.25"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_format_value(value: float, text: str) -> None:
    assert format_value(value) == text


# --- write_report: the textfile is replaced atomically ---


def test_write_report_replaces_textfile_atomically(tmp_path: Path) -> None:
    textfile = tmp_path / "lockdown.prom"
    write_report(render_prometheus(drifted_report()), textfile)
    assert textfile.stat().st_mode & 0o777 == 0o644  # node_exporter runs as another user
    new = render_prometheus(clean_report("files"))
    write_report(new, textfile)
    assert textfile.read_text() == new
    # No temp file left behind for the collector to pick up.
    assert [p.name for p in tmp_path.iterdir()] == ["lockdown.prom"]


def test_failed_write_keeps_previous_textfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    textfile = tmp_path / "lockdown.prom"
    old = render_prometheus(clean_report("files"))
    write_report(old, textfile)

    def full_disk(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device")

    # The rename is the edge we cannot make fail on demand; the clean-up is real.
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(LockdownError, match="No space left on device; the previous version"):
        write_report(render_failure("internal", checked_at=2.0, exit_code=70), textfile)
    assert textfile.read_text() == old
    assert [p.name for p in tmp_path.iterdir()] == ["lockdown.prom"]


# --- the templates use these metrics and write this textfile ---

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_alert_rules_use_only_metrics_lockdown_writes() -> None:
    written = {
        name
        for text in (
            render_prometheus(drifted_report()),
            *(render_failure(r, checked_at=0.0, exit_code=70) for r in FAILURE_REASONS),
        )
        for name, _ in strict_check(text)
    }
    rules = (TEMPLATES / "prometheus" / "lockdown-alerts.yml").read_text()
    expressions = re.findall(r"^\s+expr: (.+)$", rules, re.M)
    assert len(expressions) == 5
    used = {name for expr in expressions for name in re.findall(r"\blockdown_\w+", expr)}
    assert used
    assert used <= written, used - written
    assert "time() - lockdown_last_check_timestamp_seconds > 3600" in expressions


def _check_args(command: str) -> tuple[str, list[str]]:
    """The program and the ``lockdown check`` arguments of a template's command line."""
    argv = shlex.split(command)
    if argv[:3] == ["nice", "-n", "10"]:
        argv = argv[3:]
    assert argv[1] == "check"
    return argv[0], argv[1:]


def test_cron_and_systemd_run_a_check_the_cli_accepts() -> None:
    cron = (TEMPLATES / "cron" / "lockdown-check").read_text()
    assert cron.endswith("\n")  # cron ignores a last line without one
    (job,) = [line for line in cron.splitlines() if line[:1].isdigit()]
    minute, *_, user = job.split(maxsplit=6)[:6]
    assert (minute, user) == ("7-59/15", "lockdown")
    cron_program, cron_args = _check_args(job.split(maxsplit=6)[6])
    service = (TEMPLATES / "systemd" / "lockdown-check.service").read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.+)$", service, re.M)
    unit_program, unit_args = _check_args(exec_start)
    assert (cron_program, unit_program) == ("lockdown", "/usr/local/bin/lockdown")
    assert cron_args == unit_args

    args = build_parser().parse_args(unit_args)
    assert (args.format, args.quiet, args.level) == ("prometheus", True, "versions")
    assert args.venv == Path("/srv/app/.venv")
    assert args.lock == Path("/srv/app/pylock.toml")
    # The service may write exactly the directory the textfile goes to.
    assert args.output.suffix == ".prom"  # the collector reads only *.prom
    assert re.findall(r"^ReadWritePaths=(.+)$", service, re.M) == [str(args.output.parent)]
    for setting in ("ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes"):
        assert f"\n{setting}\n" in service
    # Drift (1-15) is a successful check; 16, 64 and 70 fail the unit.
    (success,) = re.findall(r"^SuccessExitStatus=(.+)$", service, re.M)
    assert success.split() == [str(code) for code in range(1, 16)]
    timer = (TEMPLATES / "systemd" / "lockdown-check.timer").read_text()
    assert "\nOnCalendar=*:00/15\n" in timer
