"""Progress on a terminal, silence everywhere else.

Long steps (solving, querying the index, hashing) show a spinner with what is
happening on stderr when it is a TTY; in cron, CI logs or with ``--quiet`` they
print nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from types import TracebackType
    from typing import TextIO

_FRAMES = "|/-\\"


class Reporter:
    """Where lockdown tells a person what it is doing."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.interactive = not quiet and self.stream.isatty()

    def note(self, message: str) -> None:
        """A one-line notice (stderr) unless quiet."""
        if not self.quiet:
            print(f"lockdown: {message}", file=self.stream)

    def warn(self, message: str) -> None:
        """A one-line warning (stderr), even when quiet: said when a check is turned off."""
        print(f"lockdown: warning: {message}", file=self.stream)

    def status(self, message: str) -> Status:
        """A spinner for a long step, shown only on a terminal."""
        return Status(message, self.stream if self.interactive else None)


class Status:
    """Context manager drawing ``message`` with a spinner until the step ends."""

    def __init__(self, message: str, stream: TextIO | None) -> None:
        self._message = message
        self._stream = stream
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Status:
        if self._stream is not None:
            import threading  # noqa: PLC0415 - only a terminal gets a spinner

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def update(self, message: str) -> None:
        """Change the text shown next to the spinner (e.g. a count)."""
        self._message = message

    def _spin(self) -> None:
        stream = self._stream
        stop = self._stop
        if stream is None or stop is None:  # pragma: no cover - only started with both
            return
        start = time.monotonic()
        frame = 0
        while not stop.wait(0.1):
            elapsed = time.monotonic() - start
            stream.write(f"\r{_FRAMES[frame % 4]} {self._message} ({elapsed:.0f}s)")
            stream.flush()
            frame += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None and self._stream is not None and self._stop is not None:
            self._stop.set()
            self._thread.join()
            self._stream.write("\r\033[K")
            self._stream.flush()


def counted(status: Status, what: str) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback showing ``what done/total`` on ``status``."""

    def show(done: int, total: int) -> None:
        status.update(f"{what} {done}/{total}")

    return show
