"""The text report of ``lockdown check``: compact, greppable, for people.

One header line (target, lock, level), one line per drifted package, one line
per drifted file in ``rpm -V`` style, then one summary line::

    target /srv/app/.venv  python 3.11.7  lock pylock.toml  level files
    missing    alpha 1.1
    version    beta 1.0 (locked 1.1)
    S.5......  lib/python3.11/site-packages/beta/__init__.py
    unowned    lib/python3.11/site-packages/zz.pth  !! runs code at every start
    drift: 1 missing, 1 version changed, 1 file modified, 1 unowned file, 1 high severity

Names found on disk are attacker-controlled: every one goes through
:func:`printable`, so a file name cannot forge a line, a color or a
right-to-left override in the report. The same helpers serve the other
reporters (summary phrases, the kind orders).
"""

from __future__ import annotations

from collections import Counter

from lockdown.drift.model import (
    FILE_KINDS,
    PACKAGE_KINDS,
    DriftReport,
    FileDrift,
    FileDriftKind,
    PackageDrift,
    PackageDriftKind,
)

#: ``rpm -V`` flag positions: size, mode, digest, device, link, user, group, mtime, caps.
RPM_FLAGS = "SM5DLUGTP"

#: How many of each kind the summary says: (singular, plural).
_PACKAGE_PHRASES: dict[PackageDriftKind, tuple[str, str]] = {
    "unexpected": ("unexpected", "unexpected"),
    "missing": ("missing", "missing"),
    "version": ("version changed", "versions changed"),
    "source": ("source changed", "sources changed"),
}
_FILE_PHRASES: dict[FileDriftKind, tuple[str, str]] = {
    "modified": ("file modified", "files modified"),
    "missing": ("file missing", "files missing"),
    "unowned": ("unowned file", "unowned files"),
    "escape": ("path escaping the environment", "paths escaping the environment"),
    "symlink": ("symlink pointing outside", "symlinks pointing outside"),
    "record": ("RECORD mismatch", "RECORD mismatches"),
}

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"

#: Width of the first column: the longest package kind word (``unexpected``).
_KIND_WIDTH = max(len(k) for k in PACKAGE_KINDS)


def printable(text: str) -> str:
    """``text`` safe to show on one line of a terminal, a log or an XML attribute.

    Undecodable bytes of a file name (``surrogateescape``) become ``\\xNN`` with
    the original byte; other non-printable characters (controls, newlines,
    bidirectional overrides, lone surrogates, unassigned code points) become
    ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``. Printable text is returned as is.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if char.isprintable():
            out.append(char)
        elif 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def rpm_flags(file: FileDrift) -> str:
    """The first column of a file line: ``S.5......`` for a modified file, else the kind."""
    if file.kind == "modified" and any(flag in RPM_FLAGS for flag in file.flags):
        return "".join(flag if flag in file.flags else "." for flag in RPM_FLAGS)
    return file.kind


def package_line(package: PackageDrift) -> str:
    """One drifted package: ``missing    alpha 1.1``, ``version    alpha 1.0 (locked 1.1)``."""
    name = printable(package.name)
    expected = printable(package.expected or "?")
    installed = printable(package.installed or "?")
    kind = f"{package.kind:<{_KIND_WIDTH}}"
    if package.kind == "missing":
        return f"{kind} {name} {expected}"
    if package.kind == "unexpected":
        return f"{kind} {name} {installed}"
    if package.kind == "version":
        return f"{kind} {name} {installed} (locked {expected})"
    version = printable(package.installed or package.expected or "?")
    detail = f": {printable(package.detail)}" if package.detail else ""
    return f"{kind} {name} {version}{detail}"


def file_line(file: FileDrift) -> str:
    """One drifted file: ``S.5......  path``; ``!!`` marks high severity, then the detail."""
    line = f"{rpm_flags(file):<{_KIND_WIDTH}} {printable(file.path)}"
    suffix = []
    if file.severity == "high":
        suffix.append("!!")
    if file.detail:
        suffix.append(printable(file.detail))
    if suffix:
        line += "  " + " ".join(suffix)
    return line


def _plural(count: int, phrases: tuple[str, str]) -> str:
    return f"{count} {phrases[0] if count == 1 else phrases[1]}"


def drift_phrases(report: DriftReport, *, packages: bool = True, files: bool = True) -> list[str]:
    """The drift in words, one phrase per non-zero kind: ``["1 missing", "2 files modified"]``."""
    phrases = []
    if packages:
        package_counts = Counter(p.kind for p in report.packages)
        phrases += [
            _plural(package_counts[kind], _PACKAGE_PHRASES[kind])
            for kind in PACKAGE_KINDS
            if package_counts[kind]
        ]
    if files:
        file_counts = Counter(f.kind for f in report.files)
        phrases += [
            _plural(file_counts[kind], _FILE_PHRASES[kind])
            for kind in FILE_KINDS
            if file_counts[kind]
        ]
        high = sum(1 for f in report.files if f.severity == "high")
        if high:
            phrases.append(f"{high} high severity")
    return phrases


def summary_line(report: DriftReport) -> str:
    """``in sync: 14 packages, 230 files checked`` or ``drift: 1 missing, 2 files modified``."""
    if report.in_sync:
        checked = f"in sync: {report.expected} package{'s' if report.expected != 1 else ''}"
        if report.level != "versions":
            checked += f", {report.files_checked} files checked"
        return checked
    return "drift: " + ", ".join(drift_phrases(report))


def header_line(report: DriftReport) -> str:
    """What was checked against what: target, Python, lock, level, signature, guard."""
    parts = [
        f"target {printable(report.target)}",
        f"python {printable(report.python_version)}",
        f"lock {printable(report.lock)}",
        f"level {report.level}",
    ]
    if report.signature == "verified":
        parts.append(f"signed by {printable(report.signer)}" if report.signer else "signed")
    elif report.signature == "unsigned":
        parts.append("unsigned")
    if report.guarded is not None:
        parts.append("guarded" if report.guarded else "unguarded")
    return "  ".join(parts)


def _package_order(package: PackageDrift) -> tuple[int, str]:
    return PACKAGE_KINDS.index(package.kind), package.name


def _paint(line: str, code: str, *, color: bool) -> str:
    return f"{code}{line}{_RESET}" if color else line


def render_text(report: DriftReport, *, color: bool = False) -> str:
    """The whole text report, newline-terminated; ANSI colors only with ``color=True``.

    Packages are grouped by kind (unexpected, missing, version, source) and
    sorted by name; files are sorted by path.
    """
    lines = [_paint(header_line(report), _BOLD, color=color)]
    for package in sorted(report.packages, key=_package_order):
        hue = _YELLOW if package.kind in ("version", "source") else _RED
        lines.append(_paint(package_line(package), hue, color=color))
    for file in sorted(report.files, key=lambda f: (f.path, FILE_KINDS.index(f.kind))):
        hue = _RED if file.severity == "high" else _YELLOW
        lines.append(_paint(file_line(file), hue, color=color))
    lines += [f"note: {printable(note)}" for note in report.notes]
    if report.audit is not None:
        from lockdown.report.audit import check_lines  # noqa: PLC0415 - only with --audit

        hue = _RED + _BOLD if report.audit.active else _GREEN
        lines += [_paint(printable(line), hue, color=color) for line in check_lines(report.audit)]
    summary = summary_line(report)
    lines.append(_paint(summary, _GREEN if report.in_sync else _RED + _BOLD, color=color))
    return "\n".join(lines) + "\n"
