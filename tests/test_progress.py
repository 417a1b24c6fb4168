"""Progress: a spinner on a terminal, nothing in cron, CI logs or with --quiet."""

from __future__ import annotations

import io
import time

from lockdown.progress import Reporter


class Terminal(io.StringIO):
    """A text stream that says it is a TTY (the real terminal is the edge we cannot use)."""

    def isatty(self) -> bool:
        return True


def test_spinner_on_a_terminal_and_cleared_after() -> None:
    stream = Terminal()
    reporter = Reporter(stream=stream)
    with reporter.status("resolving with uv") as status:
        time.sleep(0.25)
        status.update("downloading and hashing artifacts 3/9")
        time.sleep(0.25)
    text = stream.getvalue()
    assert "\r| resolving with uv (0s)" in text
    assert "downloading and hashing artifacts 3/9" in text
    assert text.endswith("\r\033[K")


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    reporter = Reporter(stream=stream)
    with reporter.status("resolving"):
        time.sleep(0.15)
    reporter.note("a notice")
    assert stream.getvalue() == "lockdown: a notice\n"


def test_quiet_silences_notes_and_spinner() -> None:
    stream = Terminal()
    reporter = Reporter(quiet=True, stream=stream)
    with reporter.status("resolving"):
        time.sleep(0.15)
    reporter.note("a notice")
    assert stream.getvalue() == ""


def test_counted_progress_shows_done_of_total() -> None:
    from lockdown.progress import counted

    stream = Terminal()
    with Reporter(stream=stream).status("downloading and verifying artifacts") as status:
        show = counted(status, "downloading and verifying artifacts")
        show(4, 15)
        time.sleep(0.25)
    assert "downloading and verifying artifacts 4/15" in stream.getvalue()
