"""One error root for lockdown; every subclass carries a user-facing message and an exit code.

The CLI catches :class:`LockdownError` in one place and prints ``str(error)``
(one line: what happened, where, what to do) and exits with ``error.exit_code``.
"""

from __future__ import annotations

#: Exit codes from DESIGN.md.
EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_BLOCKED = 3
EXIT_INTEGRITY = 16
EXIT_USAGE = 64
EXIT_INTERNAL = 70


def one_line(text: str) -> str:
    """``text`` on one line: its non-blank lines, stripped, joined by spaces."""
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


class LockdownError(Exception):
    """Root of every error lockdown reports to a user."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # One line, always: messages often quote what a library or a hostile
        # file said (a marker parser's caret diagram, a resolver's tree).
        self.message = one_line(message)
        self.hint = None if hint is None else one_line(hint)
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(LockdownError):
    """Bad flag, bad input file, unreadable or invalid configuration (exit 64)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """``[tool.lockdown]`` / ``lockdown.toml`` is invalid."""


class InputError(UsageError):
    """A project input (pyproject.toml, requirements.in) is missing or invalid."""


class LockFileError(LockdownError):
    """A lock file is not a valid lock: bad TOML/YAML, not PEP 751 or conda-lock, bad digests (16).

    A lock that is missing or cannot be read at all is a :class:`UsageError` (64).
    """

    exit_code = EXIT_INTEGRITY


class ResolutionError(LockdownError):
    """The resolver failed or the requirements cannot be satisfied (exit 70)."""

    exit_code = EXIT_INTERNAL


class UnservableEnvironmentError(ResolutionError):
    """The resolver found no wheel (and no sdist) of a package for a listed environment (70)."""

    def __init__(self, message: str, *, package: str, environment: str) -> None:
        super().__init__(message)
        #: The package without files for ``environment``, as the resolver named it.
        self.package = package
        #: The environment (a marker) as the resolver wrote it.
        self.environment = environment


class PackageIndexError(LockdownError):
    """The package index is unreachable or answered something unusable (exit 70)."""

    exit_code = EXIT_INTERNAL


class ProjectNotFoundError(PackageIndexError):
    """The index has no page for the project (HTTP 404): it does not serve that name."""


class IntegrityError(LockdownError):
    """An artifact's bytes do not match what the index or lock declares (exit 16)."""

    exit_code = EXIT_INTEGRITY
