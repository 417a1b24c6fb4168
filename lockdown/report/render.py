"""One entry point for the drift report formats, and the write of a failed check's report.

``lockdown check --format F [--output FILE]`` returns a
:class:`lockdown.report.DriftResult`; :func:`lockdown.report.emit` renders it
with :func:`render` and writes it. Each format's module is imported only
when it is asked for, so a cron run in ``text`` or ``prometheus`` pays for
nothing else. :func:`write_report` is how ``check`` writes the Prometheus
file of a run that failed before it had a report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, get_args

from lockdown.drift.model import DriftReport
from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write

Format = Literal["text", "json", "prometheus", "junit"]
#: The formats ``--format`` accepts, in the order ``--help`` lists them.
FORMATS: tuple[Format, ...] = get_args(Format)


def render(report: DriftReport, fmt: str, *, color: bool = False) -> str:
    """``report`` in format ``fmt`` (one of :data:`FORMATS`), newline-terminated.

    ``color`` adds ANSI colors to the ``text`` format and is ignored by the
    others. An unknown format is a usage error (exit 64).
    """
    # Imports inside the branches: each format loads only its own module.
    if fmt == "text":
        from lockdown.report.text import render_text  # noqa: PLC0415

        return render_text(report, color=color)
    if fmt == "json":
        from lockdown.report.json import render_json  # noqa: PLC0415

        return render_json(report)
    if fmt == "prometheus":
        from lockdown.report.prometheus import render_prometheus  # noqa: PLC0415

        return render_prometheus(report)
    if fmt == "junit":
        from lockdown.report.junit import render_junit  # noqa: PLC0415

        return render_junit(report)
    raise UsageError(f"unknown report format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def write_report(text: str, output: Path | None) -> None:
    """Write a rendered report to ``output`` atomically, or to stdout when ``output`` is None.

    A file is written to a temp file in the same directory, fsynced and
    renamed, so node_exporter's textfile collector (or anyone else) never
    reads half a report, and a failed write leaves the previous one intact.
    """
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(output, text.encode("utf-8"))
