"""Human- and machine-readable reports of what lockdown found or did.

:func:`emit` is the one way a command's result reaches the user: each
command's ``run`` returns a result object (``check``'s :class:`DriftResult`,
every other command's in :mod:`lockdown.report.results`) and the CLI hands
it here. What a result says is worked out by pure functions
(:func:`say_drift`, :func:`lockdown.report.messages.say`), each returning a
:class:`Said`; only :func:`emit` writes.

``check``'s part lives here rather than in a module of its own: ``lockdown
check`` runs from cron, imports this package anyway, and its import budget
counts every module. The other results' modules are imported only by the
commands that return them.

No ``from __future__ import annotations``: ``NamedTuple`` reads its fields'
annotations at import time.
"""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from lockdown.drift.model import DriftReport
    from lockdown.report.results import Result


class Said(NamedTuple):
    """What a command says when it is done, and the exit code it ends with."""

    #: The text for stdout (empty: nothing).
    stdout: str = ""
    #: The text for stderr (empty: nothing).
    stderr: str = ""
    #: A file the command was asked to write (``--output``) and its bytes.
    file: tuple[Path, bytes] | None = None
    exit_code: int = 0


class DriftResult(NamedTuple):
    """What ``check`` returns: the drift report, and where and how it is to be written."""

    report: "DriftReport"
    #: ``--format``: one of :data:`lockdown.report.render.FORMATS`.
    format: str
    #: ``--output``: the file to write the report to; ``None``: stdout.
    output: Path | None


def say_drift(result: DriftResult, *, quiet: bool, color: bool = False) -> Said:
    """``check``'s report in its format, for stdout or its file; the exit code is its bitmask.

    A quiet text check to stdout (cron, the exit code only) renders nothing.
    ``color`` (stdout is a terminal) colors a text report on stdout.
    """
    code = result.report.exit_code()
    if quiet and result.format == "text" and result.output is None:
        return Said(exit_code=code)
    from lockdown.report.render import render  # noqa: PLC0415 - each format loads its own module

    text = render(result.report, result.format, color=color and result.output is None)
    return to_output(text, result.output, code)


def to_output(text: str, output: Path | None, code: int) -> Said:
    """A rendered report for ``output`` (written atomically), or for stdout when ``None``."""
    if output is None:
        return Said(stdout=text, exit_code=code)
    return Said(file=(output, text.encode("utf-8")), exit_code=code)


def emit(result: "Result | DriftResult", *, quiet: bool) -> int:
    """Say what a command did: write its file, then its stdout and stderr; return its exit code.

    ``quiet`` is ``--quiet``. The file is written first (atomically: a temp
    file in the same directory, fsynced, renamed), so a line saying it was
    written never follows a write that failed, and a reader of the file never
    sees half of it.
    """
    if isinstance(result, DriftResult):
        # ANSI colors: only to a terminal, and never with NO_COLOR set.
        color = not os.environ.get("NO_COLOR") and sys.stdout.isatty()
        said = say_drift(result, quiet=quiet, color=color)
    else:
        from lockdown.report.messages import say  # noqa: PLC0415 - every command but check

        said = say(result, quiet=quiet)
    if said.file is not None:
        from lockdown.fsutil import atomic_write  # noqa: PLC0415

        atomic_write(*said.file)
    if said.stdout:
        sys.stdout.write(said.stdout)
        sys.stdout.flush()
    if said.stderr:
        sys.stderr.write(said.stderr)
    return said.exit_code
